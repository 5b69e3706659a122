#include "cprt/Communicator.h"

#include <cstdlib>
#include <vector>

namespace cprt {

int64_t Communicator::defaultTimeoutMs() {
  if (const char *e = std::getenv("CPRT_TIMEOUT_MS")) {
    long long v = std::atoll(e);
    if (v > 0) return v;
  }
  return 60000;
}

CommRequestPtr Communicator::startAllToAll(const void *send, void *recv,
                                           size_t bytes) {
  const int W = size();
  std::vector<size_t> counts(W, bytes), offs(W);
  for (int i = 0; i < W; ++i) offs[i] = i * bytes;
  return startAllToAllV(send, counts.data(), offs.data(), recv, counts.data(),
                        offs.data());
}

CommRequestPtr Communicator::startShiftViaAllToAll(const void *send,
                                                   void *recv, size_t bytes,
                                                   int offset) {
  const int W = size(), r = rank();
  std::vector<size_t> sc(W, 0), rc(W, 0), zero(W, 0);
  const int to = ((r + offset) % W + W) % W, from = ((r - offset) % W + W) % W;
  sc[to] = bytes;
  rc[from] = bytes;
  return startAllToAllV(send, sc.data(), zero.data(), recv, rc.data(),
                        zero.data());
}

} // namespace cprt
