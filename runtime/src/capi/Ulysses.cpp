//===- Ulysses.cpp - All-to-all between sequence and head shards ----------===//
//
// A tensor with a head dim h and a sequence dim s is viewed as five factors
// [A, X, M, Y, I]: A the dims before min(h, s), X = dim min(h, s), M the dims
// between, Y = dim max(h, s), I the dims after. The block sent to rank j
// holds heads [j*Hl, (j+1)*Hl) of every local slot, in the tensor's own dim
// order (Hl = H/W), so each all-to-all is one equal-size exchange; the
// receiver places the slots of block i at the original positions of rank i's
// slots (layout.slotToPos).
//
//===----------------------------------------------------------------------===//
#include "cprt/Ulysses.h"
#include "cprt/Attention.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace cprt {
namespace {

struct Factors {
  int64_t A = 1, M = 1, I = 1;
  bool headFirst = true;
  /// Element offset of (a, head, m, seq, 0) in a tensor with `heads` heads
  /// and `seqs` sequence positions.
  int64_t at(int64_t a, int64_t head, int64_t m, int64_t seq, int64_t heads,
             int64_t seqs) const {
    return headFirst ? (((a * heads + head) * M + m) * seqs + seq) * I
                     : (((a * seqs + seq) * M + m) * heads + head) * I;
  }
};

Factors factorsOf(const int64_t *shape, int ndim, int headDim, int seqDim) {
  check(ndim >= 2 && headDim >= 0 && headDim < ndim && seqDim >= 0 &&
            seqDim < ndim && headDim != seqDim,
        "ulysses: head_dim " + std::to_string(headDim) + " and seq_dim " +
            std::to_string(seqDim) + " must be two dims of a rank-" +
            std::to_string(ndim) + " tensor");
  Factors f;
  int lo = std::min(headDim, seqDim), hi = std::max(headDim, seqDim);
  f.headFirst = headDim < seqDim;
  for (int i = 0; i < lo; ++i) f.A *= shape[i];
  for (int i = lo + 1; i < hi; ++i) f.M *= shape[i];
  for (int i = hi + 1; i < ndim; ++i) f.I *= shape[i];
  return f;
}

/// Checks the local shape against the layout and the communicator; returns
/// the heads per rank.
int64_t headsPerRank(const int64_t *shape, int headDim, int seqDim,
                     const ShardLayout &layout, const Communicator &comm) {
  int W = comm.size();
  check(layout.worldSize == W,
        "ulysses: the layout is for " + std::to_string(layout.worldSize) +
            " ranks, the communicator has " + std::to_string(W));
  check(shape[seqDim] == layout.localLen,
        "ulysses: the local sequence dim has " +
            std::to_string(shape[seqDim]) + " slots, the layout " +
            std::to_string(layout.localLen));
  int64_t H = shape[headDim];
  check(H % W == 0, "ulysses: " + std::to_string(H) +
                        " heads do not split over " + std::to_string(W) +
                        " ranks");
  return H / W;
}

} // namespace

namespace {

/// Host memory for callers without a backend: the KernelBackend memory
/// defaults (malloc, memcpy), no kernels.
class HostMemory final : public KernelBackend {
public:
  const char *name() const override { return "host-memory"; }
  void forward(const AttentionParams &, const ForwardArgs &) override {
    fail(ErrorCode::Internal, "host-memory has no kernels");
  }
  void backward(const AttentionParams &, const BackwardArgs &) override {
    fail(ErrorCode::Internal, "host-memory has no kernels");
  }
  void mergePartial(float *, float *, const float *, const float *, int64_t,
                    int64_t) override {
    fail(ErrorCode::Internal, "host-memory has no kernels");
  }
};

KernelBackend &memoryOf(KernelBackend *mem) {
  static HostMemory host;
  return mem ? *mem : host;
}

/// Maximal runs of consecutive original positions among a rank's slots:
/// slots [slot, slot+len) hold positions [pos, pos+len); padding is left out.
struct Run {
  int64_t slot, pos, len;
};
std::vector<Run> runsOf(const int64_t *pos, int64_t L) {
  std::vector<Run> runs;
  for (int64_t l = 0; l < L; ++l) {
    if (pos[l] < 0) continue;
    if (!runs.empty() && runs.back().slot + runs.back().len == l &&
        runs.back().pos + runs.back().len == pos[l])
      ++runs.back().len;
    else
      runs.push_back({l, pos[l], 1});
  }
  return runs;
}

/// The copies of one all-to-all, as 2-D copies of `eb`-byte elements
/// between a sequence shard (all H heads, L slots), the exchange blocks
/// ([.., Hl, .., L, ..] per rank) and a head shard (Hl heads, S positions).
struct Exchange {
  Factors f;
  int64_t H, Hl, L, S;
  size_t eb;
  KernelBackend &mem;

  size_t block() const { return size_t(f.A * Hl * f.M * L * f.I) * eb; }
  /// Heads [j*Hl, (j+1)*Hl) of the shard <-> block j (toBlock: shard to
  /// block). Head-first: one row of Hl*M*L*I per leading index; else one
  /// row of Hl*I per (leading, slot, middle) index.
  void heads(char *block, char *shard, int j, bool toBlock) const {
    const size_t I = size_t(f.I) * eb;
    size_t rows, width, sp, bp, off;
    if (f.headFirst) {
      rows = size_t(f.A);
      width = size_t(Hl * f.M * L) * I;
      sp = size_t(H * f.M * L) * I;
      bp = width;
      off = size_t(j * Hl * f.M * L) * I;
    } else {
      rows = size_t(f.A * L * f.M);
      width = size_t(Hl) * I;
      sp = size_t(H) * I;
      bp = width;
      off = size_t(j * Hl) * I;
    }
    if (toBlock)
      mem.copy2D(block, bp, shard + off, sp, width, rows);
    else
      mem.copy2D(shard + off, sp, block, bp, width, rows);
  }
  /// Slots of block i <-> positions of the head shard, one 2-D copy per
  /// run of rank i's slots (toBlock: head shard to block).
  void positions(char *block, char *full, const std::vector<Run> &runs,
                 bool toBlock) const {
    const size_t I = size_t(f.I) * eb;
    for (const Run &r : runs) {
      size_t rows, width, bp, fp, bOff, fOff;
      if (f.headFirst) { // rows (a, h, m): slots contiguous inside
        rows = size_t(f.A * Hl * f.M);
        width = size_t(r.len) * I;
        bp = size_t(L) * I;
        fp = size_t(S) * I;
        bOff = size_t(r.slot) * I;
        fOff = size_t(r.pos) * I;
      } else { // rows a: [slot, M, Hl, I] contiguous
        const size_t inner = size_t(f.M * Hl) * I;
        rows = size_t(f.A);
        width = size_t(r.len) * inner;
        bp = size_t(L) * inner;
        fp = size_t(S) * inner;
        bOff = size_t(r.slot) * inner;
        fOff = size_t(r.pos) * inner;
      }
      if (toBlock)
        mem.copy2D(block + bOff, bp, full + fOff, fp, width, rows);
      else
        mem.copy2D(full + fOff, fp, block + bOff, bp, width, rows);
    }
  }
};

Exchange exchangeFor(const int64_t *shape, int ndim, int headDim, int seqDim,
                     size_t eb, const ShardLayout &layout,
                     const Communicator &comm, KernelBackend *mem) {
  Factors f = factorsOf(shape, ndim, headDim, seqDim);
  int64_t Hl = headsPerRank(shape, headDim, seqDim, layout, comm);
  return Exchange{f,  shape[headDim], Hl, layout.localLen, layout.seqLen,
                  eb, memoryOf(mem)};
}

} // namespace

void seqToHeads(const void *local, void *out, const int64_t *shape, int ndim,
                int headDim, int seqDim, size_t eb, const ShardLayout &layout,
                Communicator &comm, KernelBackend *mem) {
  Exchange x = exchangeFor(shape, ndim, headDim, seqDim, eb, layout, comm, mem);
  const int W = comm.size();
  const size_t block = x.block();
  BackendBuffer send(x.mem, block * W), recv(x.mem, block * W);
  char *src = const_cast<char *>(static_cast<const char *>(local));
  for (int j = 0; j < W; ++j)
    x.heads(send.bytes() + block * j, src, j, /*toBlock=*/true);
  comm.allToAll(send.data(), recv.data(), block);
  for (int i = 0; i < W; ++i)
    x.positions(recv.bytes() + block * i, static_cast<char *>(out),
                runsOf(layout.localPositions(i), x.L), /*toBlock=*/false);
}

void headsToSeq(const void *in, void *local, const int64_t *shape, int ndim,
                int headDim, int seqDim, size_t eb, const ShardLayout &layout,
                Communicator &comm, KernelBackend *mem) {
  Exchange x = exchangeFor(shape, ndim, headDim, seqDim, eb, layout, comm, mem);
  const int W = comm.size();
  const size_t block = x.block();
  BackendBuffer send(x.mem, block * W), recv(x.mem, block * W);
  if (layout.hasPadding()) x.mem.zero(send.data(), block * W); // padding stays zero
  char *src = const_cast<char *>(static_cast<const char *>(in));
  for (int j = 0; j < W; ++j)
    x.positions(send.bytes() + block * j, src,
                runsOf(layout.localPositions(j), x.L), /*toBlock=*/true);
  comm.allToAll(send.data(), recv.data(), block);
  for (int i = 0; i < W; ++i)
    x.heads(recv.bytes() + block * i, static_cast<char *>(local), i,
            /*toBlock=*/false);
}

void checkUlyssesShapes(const int64_t *local, int n, const int64_t *heads,
                        int headsRank, int headDim, int seqDim, int W,
                        int64_t seqLen) {
  check(n == headsRank, "ulysses: input and output ranks differ");
  check(headDim >= 0 && headDim < n && seqDim >= 0 && seqDim < n &&
            headDim != seqDim,
        "ulysses: head_dim/seq_dim out of range");
  for (int i = 0; i < n; ++i) {
    int64_t want = i == headDim  ? local[i] / W
                   : i == seqDim ? seqLen
                                 : local[i];
    check(heads[i] == want, "ulysses: the head-sharded tensor has " +
                                std::to_string(heads[i]) + " in dim " +
                                std::to_string(i) + ", expected " +
                                std::to_string(want));
  }
}

} // namespace cprt
