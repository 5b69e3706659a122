//===- GpuRing.h - Ring attention over device memory ------------*- C++ -*-===//
//
// The GPU driver of the ring schedule of RingAttention.h: same steps, same
// per-step causal behaviour (stepCausalFor), same skipping (blockHasWork),
// same fp32 merge and travelling dK/dV accumulators, but every buffer is
// device memory, kernels run on kernel.stream() and transfers go through a
// GpuCommunicator (virtual ranks or NCCL) on its own stream, so the shift
// that brings the next KV block overlaps the current block's attention.
//
// q, k, v, out, lse, dout, dq, dk, dv are device pointers (contiguous
// [B, H, L, D], lse fp32 [B, Hq, L]). In opts.mask, docIds / boolMask /
// addMask are device pointers; `hostDocIds` (optional, same contents) lets
// the driver skip empty steps without reading device memory.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_GPURING_H
#define CPRT_CUDA_GPURING_H

#include "cprt/RingAttention.h"
#include "cprt/cuda/CudaBackend.h"
#include "cprt/cuda/GpuCommunicator.h"

namespace cprt {

RingStats gpuRingAttentionForward(GpuCommunicator &comm, CudaBackend &kernel,
                                  const ShardLayout &layout, const RingOptions &opts,
                                  const AttentionShape &local, DType dtype, const void *q,
                                  const void *k, const void *v, void *out, float *lse,
                                  const int32_t *hostDocIds = nullptr);

RingStats gpuRingAttentionBackward(GpuCommunicator &comm, CudaBackend &kernel,
                                   const ShardLayout &layout, const RingOptions &opts,
                                   const AttentionShape &local, DType dtype, const void *dout,
                                   const void *q, const void *k, const void *v, const void *out,
                                   const float *lse, void *dq, void *dk, void *dv,
                                   const int32_t *hostDocIds = nullptr);

} // namespace cprt

#endif
