//===- RingAttention.h - Ring schedule forward / backward -------*- C++ -*-===//
//
// Context-parallel attention over the ranks of a Communicator. Every rank
// holds L = layout.localLen tokens of q, k, v (contiguous [B, H, L, D], in
// the layout's balanced order). Per step i the rank attends its queries to
// the KV block of source s = (r - i) mod W with the per-step causal
// behaviour of the balancer (LoadBalancer.h) and merges the partial
// (out, lse) in fp32. Steps the mask makes empty are skipped.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_RINGATTENTION_H
#define CPRT_RINGATTENTION_H

#include "cprt/Attention.h"
#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"

namespace cprt {

/// Values match the C ABI's cprt_rotate and the dialect's spelling.
enum class RotateMethod : int32_t {
  AllGather = 0, ///< gather all KV once (memory O(S)); dk/dv reduce-scatter
  AllToAll = 1,  ///< the ring shift as one all-to-all per step (PyTorch)
  Ring = 2,      ///< point-to-point shift to r+1, overlapped with compute
};
const char *rotateName(RotateMethod m);
bool parseRotate(const char *name, RotateMethod &out);

struct RingOptions {
  RotateMethod rotate = RotateMethod::Ring;
  bool causal = false;
  float scale = 0.f; ///< 0: 1/sqrt(D)
  /// Extra masking by *original* positions: windowLeft, docIds/docLen,
  /// boolMask/addMask (+ strides). qPos/kvPos/causal must be left unset:
  /// the ring derives them from the layout and `causal`.
  MaskSpec mask;
};

struct RingStats {
  int stepsComputed = 0;
  int stepsSkipped = 0;
  int commOps = 0; ///< operations started on the communicator
};

/// Shapes: local.seqQ == local.seqKV == layout.localLen. All tensors share
/// `dtype` (lse is fp32 [B, Hq, L]).
RingStats ringAttentionForward(Communicator &comm, KernelBackend &kernel,
                               const ShardLayout &layout,
                               const RingOptions &opts,
                               const AttentionShape &local, DType dtype,
                               const void *q, const void *k, const void *v,
                               void *out, float *lse);

/// out and lse are the forward's (global, merged) results on this rank.
RingStats ringAttentionBackward(Communicator &comm, KernelBackend &kernel,
                                const ShardLayout &layout,
                                const RingOptions &opts,
                                const AttentionShape &local, DType dtype,
                                const void *dout, const void *q, const void *k,
                                const void *v, const void *out,
                                const float *lse, void *dq, void *dk, void *dv);

/// Exact test (up to bool/additive masks) whether any (query, key) pair of a
/// block is visible under p (step behaviour, pads, causal, window, docs).
bool blockHasWork(const AttentionParams &p);

} // namespace cprt

#endif // CPRT_RINGATTENTION_H
