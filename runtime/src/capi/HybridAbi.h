//===- HybridAbi.h - the hybrid entry points' bodies -------------*- C++ -*-===//
//
// Internal to the runtime (not installed). The bodies of cprt_c_hybrid_fwd_*
// / cprt_c_hybrid_bwd_* (cprt_compiler.h) without an error guard: they throw
// cprt::Error. They run on the calling thread's RankContext (its
// communicator, split once per Ulysses size, and its backend, whose memory
// the buffers live in), so the CPU entries (HybridCApi.cpp, under the sticky
// guard) and the GPU twins cprt_gpu_hybrid_* (GpuCompiledAbi.cpp, under the
// GPU path's guard, device buffers) share them. Arguments are those of the
// entry points, with the element type first.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SRC_CAPI_HYBRIDABI_H
#define CPRT_SRC_CAPI_HYBRIDABI_H

#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <cstdint>

namespace cprt::abi {

void hybridForwardBody(cprt_dtype dt, int64_t rq, const cprt_memref *q,
                       int64_t rk, const cprt_memref *k, int64_t rv,
                       const cprt_memref *v, int64_t ro, const cprt_memref *o,
                       int64_t rl, const cprt_memref *l, double scale,
                       int32_t flags, int32_t rotate, int32_t balancer,
                       int64_t seqLen, int64_t window, int64_t ulyssesSize,
                       int64_t ringSize);

void hybridBackwardBody(cprt_dtype dt, int64_t rg, const cprt_memref *g,
                        int64_t rq, const cprt_memref *q, int64_t rk,
                        const cprt_memref *k, int64_t rv, const cprt_memref *v,
                        int64_t ro, const cprt_memref *o, int64_t rl,
                        const cprt_memref *l, int64_t rdq,
                        const cprt_memref *dq, int64_t rdk,
                        const cprt_memref *dk, int64_t rdv,
                        const cprt_memref *dv, double scale, int32_t flags,
                        int32_t rotate, int32_t balancer, int64_t seqLen,
                        int64_t window, int64_t ulyssesSize, int64_t ringSize);

} // namespace cprt::abi

#endif // CPRT_SRC_CAPI_HYBRIDABI_H
