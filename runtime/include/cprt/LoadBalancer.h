//===- LoadBalancer.h - Sequence permutations and buffer sharding -*- C++ -*-=//
//
// A load balancer decides which global token lives on which rank. The result
// is a ShardLayout: W ranks x L local slots; slot g = rank * L + i holds the
// token at original position slotToPos[g], or -1 for padding. Padding lets
// any sequence length (and any document length) be balanced: padded slots
// are masked (never visible as keys, fully masked as queries) and dropped by
// unshard, so results equal the unpadded run.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_LOADBALANCER_H
#define CPRT_LOADBALANCER_H

#include "cprt/Attention.h"

#include <cstdint>
#include <vector>

namespace cprt {

/// Values match the C ABI's cprt_balancer and the dialect's spelling.
enum class Balancer : int32_t {
  None = 0,               ///< contiguous blocks
  HeadTail = 1,           ///< zigzag: chunks r and 2W-1-r of 2W
  Striped = 2,            ///< token t on rank t mod W
  PerDocumentHeadTail = 3,///< head-tail inside every document
  Ptrr = 4,               ///< block work sorted and dealt in snake order
};
const char *balancerName(Balancer b);
bool parseBalancer(const char *name, Balancer &out);

struct ShardLayout {
  Balancer balancer = Balancer::None;
  int worldSize = 1;
  int64_t seqLen = 0;   ///< original (unpadded) length S
  int64_t localLen = 0; ///< L: slots per rank (padded)
  std::vector<int64_t> slotToPos; ///< [W*L], -1 = padding
  std::vector<int64_t> posToSlot; ///< [S]

  int64_t paddedLen() const { return int64_t(worldSize) * localLen; }
  const int64_t *localPositions(int rank) const {
    return slotToPos.data() + int64_t(rank) * localLen;
  }
  bool hasPadding() const { return paddedLen() != seqLen; }
};

struct BalancerOptions {
  /// Per-document: document id of every original position ([S]); documents
  /// are maximal runs of equal ids. Required for PerDocumentHeadTail.
  const int32_t *docIds = nullptr;
  /// PTRR: block size (tokens) and per-block work (ceil(S/blockSize)
  /// entries; null = causal work, block i costs i + 1).
  int64_t blockSize = 128;
  const int64_t *blockWork = nullptr;
};

ShardLayout makeLayout(Balancer b, int64_t seqLen, int worldSize,
                       const BalancerOptions &opts = {});

/// The per-step causal behaviour of ring step `step` on rank `rank` for a
/// causal attention (StepCausal::NotCausal when !causal). Balancers without
/// a closed form (per-document, PTRR) return NotCausal: the ring then masks
/// by global position.
StepCausal stepCausalFor(Balancer b, bool causal, int worldSize, int rank,
                         int step);
/// True when stepCausalFor's answer is exact for causal attention (so the
/// ring needs no positional causal mask).
bool stepCausalIsExact(Balancer b);

/// Copies rank `rank`'s slots of a global buffer (shape[dim] == S) into a
/// local buffer (same shape with shape[dim] == L); padding slots are zeroed.
void shardBuffer(const void *global, void *local, const int64_t *shape,
                 int ndim, int dim, size_t elemBytes, const ShardLayout &l,
                 int rank);
/// Inverse: `gathered` holds the W local buffers back to back (what an
/// all-gather of the local buffers produces); writes the global buffer in
/// original order (padding dropped). shape is the *global* shape.
void unshardBuffer(const void *gathered, void *global, const int64_t *shape,
                   int ndim, int dim, size_t elemBytes, const ShardLayout &l);

} // namespace cprt

#endif // CPRT_LOADBALANCER_H
