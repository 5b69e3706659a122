#include "cprt/Communicator.h"
#include "cprt/Error.h"

#include <algorithm>
#include <string>

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

std::unique_ptr<Communicator> Communicator::split(int color, int key) {
  fail(ErrorCode::Invalid, std::string("cprt: the ") + name() +
                               " communicator cannot split");
}

std::vector<int> splitMembers(Communicator &comm, int color, int key) {
  const int W = comm.size();
  const int32_t mine[2] = {color, key};
  std::vector<int32_t> all(2 * size_t(W));
  comm.allGather(mine, all.data(), sizeof(mine));
  std::vector<int> ranks;
  if (color < 0) return ranks;
  for (int i = 0; i < W; ++i)
    if (all[2 * i] == color) ranks.push_back(i);
  std::stable_sort(ranks.begin(), ranks.end(), [&](int a, int b) {
    return all[2 * a + 1] < all[2 * b + 1];
  });
  return ranks;
}

GridComms makeGridComms(Communicator &world, int U) {
  const int N = world.size(), n = world.rank();
  check(U > 0 && N % U == 0,
        "hybrid grid: the Ulysses size " + std::to_string(U) +
            " does not divide the " + std::to_string(N) + " ranks");
  GridComms g;
  g.ulyssesSize = U;
  g.ringSize = N / U;
  g.ulyssesRank = n % U;
  g.ringRank = n / U;
  g.ulysses = world.split(g.ringRank, g.ulyssesRank);
  g.ring = world.split(g.ulyssesRank, g.ringRank);
  check(g.ulysses && g.ulysses->size() == U && g.ulysses->rank() == g.ulyssesRank &&
            g.ring && g.ring->size() == g.ringSize && g.ring->rank() == g.ringRank,
        "hybrid grid: the split communicators do not match the grid");
  return g;
}

} // namespace cprt
