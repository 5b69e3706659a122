//===- FlashKernels.h - Launch interface of the CUDA flash kernels ---------===//
//
// Internal to runtime/src/cuda: plain structs the host code fills and the
// launchers that pick a template instance. All pointers are device pointers.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_FLASHKERNELS_H
#define CPRT_CUDA_FLASHKERNELS_H

#include <cstdint>
#include <cuda_runtime_api.h>

namespace cprt::cuda {

struct DevMaskDesc {
  const int64_t *qPos = nullptr, *kvPos = nullptr;
  const int32_t *docIds = nullptr;
  const uint8_t *boolMask = nullptr;
  const float *addMask = nullptr;
  int64_t maskBStride = 0, maskHStride = 0, maskRowStride = 0;
  int64_t windowLeft = 0;
  int causal = 0, general = 0, usesPos = 0;
};

struct StepDesc {
  int64_t rowBegin = 0, kEnd = 0;
  int diag = 0, diagShift = 0;
};

/// Element types: 0 = f32, 1 = bf16, 2 = f16 (as cprt::DType).
struct FwdLaunch {
  const void *q, *k, *v;
  void *out;
  float *lse;
  int64_t qS[3], kS[3], vS[3], oS[3]; // b, h, s strides (elements)
  int64_t B, Hq, Hkv, Sq, Skv, D;
  float scale;
  int inType, outType;
  /// Merge into the fp32 partial (out, lse) instead of overwriting it
  /// (ForwardArgs::accumulate); rows that see nothing are left untouched.
  int accumulate;
  StepDesc step;
  DevMaskDesc mask;
};

struct BwdLaunch {
  const void *q, *k, *v, *dout;
  const float *lse, *delta;
  float *dqAccum;      // [B,Hq,Sq,D] fp32 contiguous, zeroed, unscaled
  void *dk, *dv;
  int64_t qS[3], kS[3], vS[3], doS[3], dkS[3], dvS[3];
  int64_t B, Hq, Hkv, Sq, Skv, D;
  float scale;
  int inType, dkvType;
  int accumulate; // dk/dv += (fp32 only)
  StepDesc step;
  DevMaskDesc mask;
};

/// Runs the Hopper (sm_90a, hopper/HopperAttention.h) kernel when it is
/// built, the device is sm_90, hopperForwardEnabled() and the problem fits
/// (bf16 or fp16 in, D = 64 / 128 / 256, step behaviour only, packed
/// tensors), else mma.sync.
void launchFlashForward(const FwdLaunch &l, cudaStream_t s);
/// True when this library has the Hopper forward (archs include 90).
bool hopperForwardBuilt();
/// hopperForwardBuilt() and not forced off by CPRT_HOPPER_FWD=0 (read on
/// every call: the mma.sync kernels stay the oracle and the comparison).
bool hopperForwardEnabled();
/// Process-wide counts of launchFlashForward launches per kernel (tests).
void forwardKernelCounts(int64_t &hopper, int64_t &mma);
void launchFlashBackward(const BwdLaunch &l, cudaStream_t s);
/// True when the kernels support head dim d for the given direction.
bool flashSupportsHeadDim(int64_t d, bool backward);

/// delta[b,h,i] = sum_d dout*out (fp32 contiguous [B,H,S]).
void launchDelta(const void *dout, int doType, const int64_t doS[3], const void *out,
                 int outType, const int64_t oS[3], float *delta, int64_t B, int64_t H,
                 int64_t S, int64_t D, cudaStream_t s);
/// dst (strided, type) = scale * src (contiguous fp32 [B,H,S,D]) (+= when accumulate).
void launchStoreScaled(const float *src, void *dst, int dstType, const int64_t dS[3], int64_t B,
                       int64_t H, int64_t S, int64_t D, float scale, int accumulate,
                       cudaStream_t s);
/// Partial-result merge in fp32 (finite when either lse is -inf).
void launchMerge(float *out, float *lse, const float *outB, const float *lseB, int64_t rows,
                 int64_t d, cudaStream_t s);
/// Merge of a typed (bf16 / fp16, partType) packed partial [B,H,S,D] with its
/// packed LSE [B,H,S] into the fp32 strided rows [row0, row0 + S) of out
/// (strides oS) and of lse (fp32 [B,H,lseRows] contiguous). Rows whose partial
/// LSE is -inf are left untouched.
void launchMergeTyped(float *out, const int64_t oS[3], float *lse, int64_t lseRows,
                      int64_t row0, const void *part, int partType, const float *partLse,
                      int64_t B, int64_t H, int64_t S, int64_t D, cudaStream_t s);
/// dst[i] = (type) src[i] (f32 -> any, contiguous); dst[i] += src[i] for add.
void launchConvertF32(const float *src, void *dst, int dstType, int64_t n, cudaStream_t s);
void launchAddF32(float *dst, const float *src, int64_t n, cudaStream_t s);
void launchFillF32(float *dst, float v, int64_t n, cudaStream_t s);
/// dst (fp32) = or += src (srcType), n elements (contiguous).
void launchToF32(const void *src, int srcType, float *dst, int64_t n, int accumulate,
                 cudaStream_t s);
/// dst[i] = sum / max / min (kind 0 / 1 / 2) over r < w of src[r * n + i]
/// (the W slices of an all-gather); type 0 f32, 1 f64, 2 i32, 3 i64.
void launchReduceSlices(const void *src, void *dst, int type, int kind, int64_t n, int w,
                        cudaStream_t s);
/// Sequence permutation: [outer][seq][inner bytes].
/// gather: dst[o][i] = idx[i] >= 0 ? src[o][idx[i]] : 0, i < nDst.
/// scatter: dst[o][idx[i]] = src[o][i] for idx[i] >= 0, i < nSrc.
void launchGatherRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                      int64_t seqSrc, int64_t seqDst, int64_t innerBytes, cudaStream_t s);
void launchScatterRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                       int64_t seqSrc, int64_t seqDst, int64_t innerBytes, cudaStream_t s);

} // namespace cprt::cuda

#endif
