//===- ExScan.cpp - exclusive scan over ranks -----------------------------===//
//
// The host implementation every host-memory communicator (threads, MPI)
// inherits: one all-to-all in which rank r sends its block to the ranks
// after it in the scan order and receives the blocks of the ranks before it,
// then folds them in order. One round of messages (W(W-1)/2 blocks in all),
// which for the small per-chunk totals a sequence scan exchanges beats a
// log(W)-round tree.
//
//===----------------------------------------------------------------------===//
#include "cprt/Communicator.h"
#include "cprt/Error.h"

#include <cstring>
#include <vector>

namespace cprt {

size_t scanTypeBytes(ScanType t) {
  switch (t) {
  case ScanType::F32:
  case ScanType::I32:
    return 4;
  case ScanType::F64:
  case ScanType::I64:
    return 8;
  }
  fail(ErrorCode::Invalid, "exscan: unknown element type");
}

namespace {

template <typename T, typename Acc>
void foldTyped(const void *const *blocks, int n, void *recv, size_t count,
               ScanKind kind) {
  T *out = static_cast<T *>(recv);
  for (size_t i = 0; i < count; ++i) {
    Acc acc = kind == ScanKind::Sum ? Acc(0) : Acc(1);
    for (int b = 0; b < n; ++b) {
      Acc v = Acc(static_cast<const T *>(blocks[b])[i]);
      acc = kind == ScanKind::Sum ? acc + v : acc * v;
    }
    out[i] = T(acc);
  }
}

/// Completes the all-to-all, then folds the received blocks in scan order.
class ExScanRequest final : public CommRequest {
public:
  CommRequestPtr exchange;
  std::vector<char> scratch;
  std::vector<size_t> sc, so, rc, ro;
  std::vector<int> order; // ranks before this one, in scan order
  void *recv = nullptr;
  size_t count = 0;
  ScanType type = ScanType::F32;
  ScanKind kind = ScanKind::Sum;
  bool done = false;

  void wait() override {
    if (done) return;
    if (exchange) exchange->wait();
    std::vector<const void *> blocks;
    for (int q : order) blocks.push_back(scratch.data() + ro[q]);
    foldScanBlocks(blocks.data(), int(blocks.size()), recv, count, type, kind);
    done = true;
  }
};

} // namespace

void foldScanBlocks(const void *const *blocks, int n, void *recv, size_t count,
                    ScanType type, ScanKind kind) {
  check(kind == ScanKind::Sum || kind == ScanKind::Prod,
        "exscan: unknown combiner (expected sum or product)");
  switch (type) {
  case ScanType::F32:
    return foldTyped<float, double>(blocks, n, recv, count, kind);
  case ScanType::F64:
    return foldTyped<double, double>(blocks, n, recv, count, kind);
  case ScanType::I32:
    return foldTyped<int32_t, int64_t>(blocks, n, recv, count, kind);
  case ScanType::I64:
    return foldTyped<int64_t, int64_t>(blocks, n, recv, count, kind);
  }
  fail(ErrorCode::Invalid, "exscan: unknown element type");
}

CommRequestPtr Communicator::startExScan(const void *send, void *recv,
                                         size_t count, ScanType type,
                                         ScanKind kind, bool reverse) {
  const size_t bytes = count * scanTypeBytes(type);
  const int W = size(), r = rank();
  auto req = std::make_unique<ExScanRequest>();
  auto before = [&](int a, int b) { return reverse ? a > b : a < b; };
  req->scratch.resize(size_t(W) * bytes);
  req->sc.assign(W, 0);
  req->so.assign(W, 0);
  req->rc.assign(W, 0);
  req->ro.assign(W, 0);
  for (int q = 0; q < W; ++q) {
    req->ro[q] = size_t(q) * bytes;
    if (before(r, q)) req->sc[q] = bytes;
    if (before(q, r)) req->rc[q] = bytes;
  }
  for (int i = 0; i < W; ++i) {
    int q = reverse ? W - 1 - i : i;
    if (before(q, r)) req->order.push_back(q);
  }
  req->recv = recv;
  req->count = count;
  req->type = type;
  req->kind = kind;
  if (W > 1 && bytes > 0)
    req->exchange = startAllToAllV(send, req->sc.data(), req->so.data(),
                                   req->scratch.data(), req->rc.data(),
                                   req->ro.data());
  return req;
}

} // namespace cprt
