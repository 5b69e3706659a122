//===- HopperAttention.h - sm_90a attention forward launch API ------------===//
//
// Attention forward for Hopper (sm_90a): wgmma from shared memory, TMA tile
// loads completing on mbarriers, one producer warpgroup and two consumer
// warpgroups (FlashAttention-3's structure, our own code). bf16 or fp16 in,
// fp32 accumulation, head dim 64, 128 or 256, contiguous [B, H, S, D]
// tensors.
//
// Same conventions as FlashKernels.h (FwdLaunch): scores are scale * q.k,
// the LSE is the natural log, rows that see no key get out = 0 and
// lse = -inf; `accumulate` merges the result into an fp32 partial (out, lse)
// and leaves rows that see nothing untouched. Visibility is the ring step's
// (StepDesc): rows [rowBegin, Sq) see keys [0, kEnd) with j <= i - diagShift
// when diag is set; plain causal attention is diag = 1, diagShift = 0.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_HOPPER_HOPPERATTENTION_H
#define CPRT_CUDA_HOPPER_HOPPERATTENTION_H

#include <cstdint>
#include <cuda_runtime_api.h>

namespace cprt::cuda::hopper {

struct FwdArgs {
  const void *q = nullptr; // dtype [B, Hq, Sq, D]
  const void *k = nullptr; // dtype [B, Hkv, Skv, D]
  const void *v = nullptr; // dtype [B, Hkv, Skv, D]
  void *out = nullptr;     // dtype [B, Hq, Sq, D]; fp32 when accumulate
  float *lse = nullptr;    // fp32 [B, Hq, Sq], natural log
  int64_t B = 0, Hq = 0, Hkv = 0, Sq = 0, Skv = 0, D = 0; // D: 64, 128 or 256
  /// Element type of q, k, v (and a non-accumulating out): 1 = bf16, 2 =
  /// fp16 (as cprt::DType).
  int dtype = 1;
  float scale = 0.f;
  int accumulate = 0;
  int64_t rowBegin = 0;
  int64_t kEnd = -1; // -1: Skv
  int diag = 0;
  int64_t diagShift = 0;
  /// Kernel variant (bench only): 0 = default; see HopperAttention.cu.
  int variant = 0;
};

/// Null when attentionForward can run `a` on this build, else why not.
const char *unsupportedReason(const FwdArgs &a);

/// Enqueues the forward on `s`. Returns cudaErrorInvalidValue for arguments
/// unsupportedReason rejects, else the launch's error.
cudaError_t attentionForward(const FwdArgs &a, cudaStream_t s);

} // namespace cprt::cuda::hopper

#endif
