//===- Hybrid.h - 2-D context parallelism: Ulysses x ring --------*- C++ -*-===//
//
// N = U x R ranks on a grid (GridComms, rank n = u + U*r: the U ranks of a
// Ulysses group are consecutive). Every rank holds its shard of the
// sequence in the N-rank layout of the balancer (makeLayout(b, S, N): the
// same local shards as the ring and Ulysses strategies, so shard/unshard do
// not change). Per attention:
//
//   1. all-to-all over the Ulysses axis (U ranks with the same r): the U
//      shards of the group become Hq/U heads of the group's R-th of the
//      sequence (Lr = U*L slots, placed so that the group's slots form one
//      rank of an R-rank layout, HybridLayout::ring);
//   2. ring attention over the ring axis (R ranks with the same u) on that
//      layout, with the balancer's exact per-step causality when it has one
//      (none, head_tail: the group's U head-tail chunk pairs form one R-rank
//      head-tail pair), else masking by original position;
//   3. the inverse all-to-all (out, and lse).
//
// GQA (Hq query, Hkv key/value heads): Hq % U == 0; KV heads are split like
// query heads when Hkv % U == 0, else (U % Hkv == 0) each is replicated U/Hkv
// times before the all-to-all (every rank receives the one KV head its query
// heads read); the backward sums the replicas' gradients. Anything else is
// an error naming both counts.
//
// Buffers live in the kernel backend's memory space: host for the CPU
// backend with thread or MPI communicators, device memory for the CUDA
// backend with virtual-rank or NCCL communicators (every staging buffer,
// replication and replica sum goes through the backend's memory ops, on its
// stream). Ulysses alone is the case R = 1 (U = N).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_HYBRID_H
#define CPRT_HYBRID_H

#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"
#include "cprt/RingAttention.h"

namespace cprt {

struct HybridLayout {
  int ulyssesSize = 1, ringSize = 1; ///< U, R
  /// The N-rank layout of the local shards (makeLayout(b, S, U*R)).
  ShardLayout world;
  /// R ranks x Lr = U * world.localLen slots: what the ring runs on. Its
  /// balancer is the world's when that is none or head_tail, else Ptrr
  /// (no closed-form steps: the ring masks by original position).
  ShardLayout ring;
  /// U ranks x world.localLen slots over Lr "positions": where the slots of
  /// Ulysses rank u go in the ring rank's block (no padding of its own).
  ShardLayout ulysses;
};

HybridLayout makeHybridLayout(Balancer b, int64_t seqLen, int ulyssesSize,
                              int ringSize, const BalancerOptions &opts = {});

/// Local shapes: local.seqQ == local.seqKV == layout.world.localLen, all H
/// heads; q/k/v/out contiguous [B, H, L, D] of `dtype`, lse fp32 [B, Hq, L].
/// opts as for the ring (masks by original position; a per-head mask is
/// indexed by the global head). Stats are the ring's plus the all-to-alls.
RingStats hybridAttentionForward(GridComms &grid, KernelBackend &kernel,
                                 const HybridLayout &layout,
                                 const RingOptions &opts,
                                 const AttentionShape &local, DType dtype,
                                 const void *q, const void *k, const void *v,
                                 void *out, float *lse);

/// out and lse are the forward's results on this rank (sequence shards).
RingStats hybridAttentionBackward(GridComms &grid, KernelBackend &kernel,
                                  const HybridLayout &layout,
                                  const RingOptions &opts,
                                  const AttentionShape &local, DType dtype,
                                  const void *dout, const void *q,
                                  const void *k, const void *v,
                                  const void *out, const float *lse, void *dq,
                                  void *dk, void *dv);

/// KV heads per rank after the all-to-all and the replication factor (1:
/// split) for Hkv KV heads, Hq query heads and U Ulysses ranks; throws on
/// an unsupported combination.
void hybridKvHeads(int64_t headsQ, int64_t headsKV, int ulyssesSize,
                   int64_t &kvHeadsPerRank, int64_t &replicas);

} // namespace cprt

#endif // CPRT_HYBRID_H
