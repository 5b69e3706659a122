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

void seqToHeads(const void *local, void *out, const int64_t *shape, int ndim,
                int headDim, int seqDim, size_t eb, const ShardLayout &layout,
                Communicator &comm) {
  Factors f = factorsOf(shape, ndim, headDim, seqDim);
  int64_t Hl = headsPerRank(shape, headDim, seqDim, layout, comm);
  int W = comm.size();
  int64_t H = shape[headDim], L = layout.localLen, S = layout.seqLen;
  size_t row = size_t(f.I) * eb;
  size_t block = size_t(f.A * Hl * f.M * L) * row;
  std::vector<char> send(block * W), recv(block * W);
  const char *src = static_cast<const char *>(local);
  for (int j = 0; j < W; ++j)
    for (int64_t a = 0; a < f.A; ++a)
      for (int64_t h = 0; h < Hl; ++h)
        for (int64_t m = 0; m < f.M; ++m)
          for (int64_t l = 0; l < L; ++l)
            std::memcpy(send.data() + block * j + f.at(a, h, m, l, Hl, L) * eb,
                        src + f.at(a, j * Hl + h, m, l, H, L) * eb, row);
  comm.allToAll(send.data(), recv.data(), block);
  char *dst = static_cast<char *>(out);
  for (int i = 0; i < W; ++i) {
    const int64_t *pos = layout.localPositions(i);
    for (int64_t a = 0; a < f.A; ++a)
      for (int64_t h = 0; h < Hl; ++h)
        for (int64_t m = 0; m < f.M; ++m)
          for (int64_t l = 0; l < L; ++l) {
            if (pos[l] < 0) continue; // padding
            std::memcpy(dst + f.at(a, h, m, pos[l], Hl, S) * eb,
                        recv.data() + block * i + f.at(a, h, m, l, Hl, L) * eb,
                        row);
          }
  }
}

void headsToSeq(const void *in, void *local, const int64_t *shape, int ndim,
                int headDim, int seqDim, size_t eb, const ShardLayout &layout,
                Communicator &comm) {
  Factors f = factorsOf(shape, ndim, headDim, seqDim);
  int64_t Hl = headsPerRank(shape, headDim, seqDim, layout, comm);
  int W = comm.size();
  int64_t H = shape[headDim], L = layout.localLen, S = layout.seqLen;
  size_t row = size_t(f.I) * eb;
  size_t block = size_t(f.A * Hl * f.M * L) * row;
  std::vector<char> send(block * W, 0), recv(block * W);
  const char *src = static_cast<const char *>(in);
  for (int j = 0; j < W; ++j) {
    const int64_t *pos = layout.localPositions(j);
    for (int64_t a = 0; a < f.A; ++a)
      for (int64_t h = 0; h < Hl; ++h)
        for (int64_t m = 0; m < f.M; ++m)
          for (int64_t l = 0; l < L; ++l) {
            if (pos[l] < 0) continue; // padding stays zero
            std::memcpy(send.data() + block * j + f.at(a, h, m, l, Hl, L) * eb,
                        src + f.at(a, h, m, pos[l], Hl, S) * eb, row);
          }
  }
  comm.allToAll(send.data(), recv.data(), block);
  char *dst = static_cast<char *>(local);
  for (int i = 0; i < W; ++i)
    for (int64_t a = 0; a < f.A; ++a)
      for (int64_t h = 0; h < Hl; ++h)
        for (int64_t m = 0; m < f.M; ++m)
          for (int64_t l = 0; l < L; ++l)
            std::memcpy(dst + f.at(a, i * Hl + h, m, l, H, L) * eb,
                        recv.data() + block * i + f.at(a, h, m, l, Hl, L) * eb,
                        row);
}

} // namespace cprt
