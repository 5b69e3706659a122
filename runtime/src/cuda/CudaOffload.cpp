//===- CudaOffload.cpp - compiled code's attention on the GPU -------------===//
//
// Lets a host that runs compiled (single-device) code send its whole-sequence
// attention to the GPU. The host registers cprt_cuda_offload_sdpa with the
// compiler ABI of the runtime it links (cprt_c_set_sdpa_offload); it copies
// q/k/v to the device, runs ring attention over `world` virtual ranks of this GPU
// (cprt_cuda_ring_run: shard with the balancer, ring, unshard) and copies
// out/lse back.
//
//===----------------------------------------------------------------------===//
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"
#include "cprt_cuda_harness.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace {

struct OffloadConfig {
  int32_t world = 1, balancer = 1, rotate = 2, backend = -1; // -1: the runtime's default
};
OffloadConfig config;

} // namespace

extern "C" int32_t cprt_cuda_offload_sdpa(int32_t dtype, int64_t B, int64_t Hq, int64_t Hkv,
                    int64_t Sq, int64_t Skv, int64_t D, const void *q,
                    const void *k, const void *v, void *out, float *lse,
                    float scale, int32_t causal, void *) {
  if (Sq != Skv || dtype == CPRT_F32) {
    std::fprintf(stderr, "cprt_cuda offload: needs self-attention in bf16 or "
                         "f16 (got Sq=%lld Skv=%lld dtype=%d)\n",
                 (long long)Sq, (long long)Skv, dtype);
    return CPRT_ERR_INVALID;
  }
  size_t es = 2, qBytes = size_t(B * Hq * Sq * D) * es,
         kvBytes = size_t(B * Hkv * Skv * D) * es,
         lseBytes = size_t(B * Hq * Sq) * 4;
  void *dq = nullptr, *dk = nullptr, *dv = nullptr, *dout = nullptr;
  float *dlse = nullptr;
  bool ok = cudaMalloc(&dq, qBytes) == cudaSuccess &&
            cudaMalloc(&dk, kvBytes) == cudaSuccess &&
            cudaMalloc(&dv, kvBytes) == cudaSuccess &&
            cudaMalloc(&dout, qBytes) == cudaSuccess &&
            cudaMalloc(reinterpret_cast<void **>(&dlse), lseBytes) == cudaSuccess &&
            cudaMemcpy(dq, q, qBytes, cudaMemcpyHostToDevice) == cudaSuccess &&
            cudaMemcpy(dk, k, kvBytes, cudaMemcpyHostToDevice) == cudaSuccess &&
            cudaMemcpy(dv, v, kvBytes, cudaMemcpyHostToDevice) == cudaSuccess;
  if (ok) {
    cprt_cuda_ring r{};
    r.world = config.world;
    r.transport = 0; // virtual ranks on this GPU
    r.balancer = config.balancer;
    r.rotate = config.rotate;
    r.causal = causal;
    r.scale = scale;
    r.batch = B;
    r.heads_q = Hq;
    r.heads_kv = Hkv;
    r.seq = Sq;
    r.head_dim = D;
    r.dtype = dtype;
    r.q = dq;
    r.k = dk;
    r.v = dv;
    r.out = dout;
    r.lse = dlse;
    r.backend = config.backend;
    ok = cprt_cuda_ring_run(&r) == 0;
    if (!ok)
      std::fprintf(stderr, "cprt_cuda offload: %s\n", cprt_cuda_last_error());
  }
  ok = ok && cudaMemcpy(out, dout, qBytes, cudaMemcpyDeviceToHost) == cudaSuccess;
  if (ok && lse)
    ok = cudaMemcpy(lse, dlse, lseBytes, cudaMemcpyDeviceToHost) == cudaSuccess;
  cudaFree(dq);
  cudaFree(dk);
  cudaFree(dv);
  cudaFree(dout);
  cudaFree(dlse);
  return ok ? CPRT_OK : CPRT_ERR_INTERNAL;
}

extern "C" int cprt_cuda_configure_offload(int32_t world, int32_t balancer,
                                           int32_t rotate, int32_t backend) {
  if (world < 1 || balancer < 0 || balancer > 4 || rotate < 0 || rotate > 2 || backend < -1 ||
      backend > 2)
    return CPRT_ERR_INVALID;
  config = {world, balancer, rotate, backend};
  return CPRT_OK;
}
