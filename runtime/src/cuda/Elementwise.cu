//===- Elementwise.cu - Merge, delta, conversion and permutation kernels --===//
#include "FlashCommon.cuh"
#include "FlashKernels.h"
#include "CudaCheck.h"

#include <algorithm>

namespace cprt::cuda {
namespace {

unsigned blocksFor(int64_t n, int threads) {
  return unsigned(std::min<int64_t>((n + threads - 1) / threads, 1 << 20));
}

template <typename TO, typename TD>
__global__ void deltaKernel(const TD *dout, int64_t d0, int64_t d1, int64_t d2, const TO *out,
                            int64_t o0, int64_t o1, int64_t o2, float *delta, int64_t H,
                            int64_t S, int64_t D, int64_t rows) {
  const int64_t warpId = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  for (int64_t row = warpId; row < rows; row += (int64_t(gridDim.x) * blockDim.x) >> 5) {
    const int64_t b = row / (H * S), h = (row / S) % H, i = row % S;
    const TD *g = dout + b * d0 + h * d1 + i * d2;
    const TO *o = out + b * o0 + h * o1 + i * o2;
    float acc = 0.f;
    for (int64_t x = lane; x < D; x += 32) acc += toF(g[x]) * toF(o[x]);
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) acc += __shfl_xor_sync(0xffffffff, acc, m);
    if (lane == 0) delta[row] = acc;
  }
}

template <typename T>
__global__ void storeScaledKernel(const float *src, T *dst, int64_t s0, int64_t s1, int64_t s2,
                                  int64_t H, int64_t S, int64_t D, float scale, int accumulate,
                                  int64_t n) {
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x) {
    const int64_t d = x % D, i = (x / D) % S, h = (x / (D * S)) % H, b = x / (D * S * H);
    T *p = dst + b * s0 + h * s1 + i * s2 + d;
    float v = src[x] * scale;
    if (accumulate) v += toF(*p);
    *p = fromF<T>(v);
  }
}

__global__ void mergeKernel(float *out, float *lse, const float *outB, const float *lseB,
                            int64_t rows, int64_t d) {
  // One warp per row.
  const int64_t warpId = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  for (int64_t row = warpId; row < rows; row += (int64_t(gridDim.x) * blockDim.x) >> 5) {
    const float la = lse[row], lb = lseB[row];
    if (lb == -INFINITY) continue; // nothing to add (also when both are -inf)
    float wa, wb, l;
    if (la == -INFINITY) {
      wa = 0.f; wb = 1.f; l = lb;
    } else {
      const float m = fmaxf(la, lb);
      l = m + log1pf(expf(fminf(la, lb) - m));
      wa = expf(la - l);
      wb = expf(lb - l);
    }
    float *o = out + row * d;
    const float *ob = outB + row * d;
    for (int64_t x = lane; x < d; x += 32) o[x] = wa * o[x] + wb * ob[x];
    __syncwarp(); // every lane has read lse[row] before lane 0 overwrites it
    if (lane == 0) lse[row] = l;
  }
}

/// Merge of a typed packed partial (the cuDNN output) into fp32 strided rows
/// [row0, row0 + S) of out / lse, one warp per row. Reads the partial as
/// stored (no separate conversion pass). Rows with lseB = -inf are untouched.
template <typename T>
__global__ void mergeTypedKernel(float *out, int64_t o0, int64_t o1, int64_t o2, float *lse,
                                 int64_t lseRows, int64_t row0, const T *part,
                                 const float *partLse, int64_t H, int64_t S, int64_t D,
                                 int64_t rows) {
  const int64_t warpId = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  for (int64_t row = warpId; row < rows; row += (int64_t(gridDim.x) * blockDim.x) >> 5) {
    const float lb = partLse[row];
    if (lb == -INFINITY) continue; // warp-uniform
    const int64_t b = row / (H * S), h = (row / S) % H, i = row % S;
    float *lp = lse + (b * H + h) * lseRows + row0 + i;
    float *o = out + b * o0 + h * o1 + (row0 + i) * o2;
    const T *ob = part + row * D;
    const float la = *lp;
    float l;
    if (la == -INFINITY) { // empty partial row: take the block as is
      l = lb;
      for (int64_t x = lane; x < D; x += 32) o[x] = toF(ob[x]);
    } else {
      const float m = fmaxf(la, lb);
      l = m + log1pf(expf(fminf(la, lb) - m));
      const float wa = expf(la - l), wb = expf(lb - l);
      for (int64_t x = lane; x < D; x += 32) o[x] = fmaf(wa, o[x], wb * toF(ob[x]));
    }
    __syncwarp(); // every lane has read *lp before lane 0 overwrites it
    if (lane == 0) *lp = l;
  }
}

template <typename T> __global__ void convertKernel(const float *src, T *dst, int64_t n) {
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x)
    dst[x] = fromF<T>(src[x]);
}

__global__ void fillKernel(float *dst, float v, int64_t n) {
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x)
    dst[x] = v;
}

template <typename T>
__global__ void toF32Kernel(const T *src, float *dst, int64_t n, int accumulate) {
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x)
    dst[x] = accumulate ? dst[x] + toF(src[x]) : toF(src[x]);
}

__global__ void addKernel(float *dst, const float *src, int64_t n) {
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x)
    dst[x] += src[x];
}

/// Row copy in units of U (uint4 when 16-byte aligned, else bytes).
template <typename U, bool kScatter>
__global__ void permuteKernel(const U *src, U *dst, const int64_t *idx, int64_t outer,
                              int64_t seqSrc, int64_t seqDst, int64_t inner) {
  const int64_t nIdx = kScatter ? seqSrc : seqDst;
  const int64_t n = outer * nIdx * inner;
  for (int64_t x = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; x < n;
       x += int64_t(gridDim.x) * blockDim.x) {
    const int64_t e = x % inner, i = (x / inner) % nIdx, o = x / (inner * nIdx);
    const int64_t j = idx[i];
    if (kScatter) {
      if (j >= 0) dst[(o * seqDst + j) * inner + e] = src[(o * seqSrc + i) * inner + e];
    } else {
      dst[(o * seqDst + i) * inner + e] = j >= 0 ? src[(o * seqSrc + j) * inner + e] : U{};
    }
  }
}

template <bool kScatter>
void launchPermute(const void *src, void *dst, const int64_t *idx, int64_t outer, int64_t seqSrc,
                   int64_t seqDst, int64_t innerBytes, cudaStream_t s) {
  const int64_t nIdx = kScatter ? seqSrc : seqDst;
  if (outer == 0 || nIdx == 0 || innerBytes == 0) return;
  const bool vec = innerBytes % 16 == 0 && reinterpret_cast<uintptr_t>(src) % 16 == 0 &&
                   reinterpret_cast<uintptr_t>(dst) % 16 == 0;
  if (vec) {
    const int64_t inner = innerBytes / 16;
    permuteKernel<uint4, kScatter><<<blocksFor(outer * nIdx * inner, 256), 256, 0, s>>>(
        static_cast<const uint4 *>(src), static_cast<uint4 *>(dst), idx, outer, seqSrc, seqDst,
        inner);
  } else {
    permuteKernel<uint8_t, kScatter><<<blocksFor(outer * nIdx * innerBytes, 256), 256, 0, s>>>(
        static_cast<const uint8_t *>(src), static_cast<uint8_t *>(dst), idx, outer, seqSrc,
        seqDst, innerBytes);
  }
  CPRT_CUDA_CHECK(cudaGetLastError());
}

template <typename TO>
void deltaOut(const void *dout, int doType, const int64_t doS[3], const TO *out,
              const int64_t oS[3], float *delta, int64_t B, int64_t H, int64_t S, int64_t D,
              cudaStream_t s) {
  const int64_t rows = B * H * S;
  const unsigned grid = blocksFor(rows * 32, 256);
  if (doType == 1)
    deltaKernel<TO, __nv_bfloat16><<<grid, 256, 0, s>>>(
        static_cast<const __nv_bfloat16 *>(dout), doS[0], doS[1], doS[2], out, oS[0], oS[1],
        oS[2], delta, H, S, D, rows);
  else if (doType == 2)
    deltaKernel<TO, __half><<<grid, 256, 0, s>>>(static_cast<const __half *>(dout), doS[0],
                                                 doS[1], doS[2], out, oS[0], oS[1], oS[2],
                                                 delta, H, S, D, rows);
  else
    deltaKernel<TO, float><<<grid, 256, 0, s>>>(static_cast<const float *>(dout), doS[0], doS[1],
                                                doS[2], out, oS[0], oS[1], oS[2], delta, H, S,
                                                D, rows);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

} // namespace

void launchDelta(const void *dout, int doType, const int64_t doS[3], const void *out, int outType,
                 const int64_t oS[3], float *delta, int64_t B, int64_t H, int64_t S, int64_t D,
                 cudaStream_t s) {
  if (B * H * S == 0) return;
  if (outType == 1)
    deltaOut(dout, doType, doS, static_cast<const __nv_bfloat16 *>(out), oS, delta, B, H, S, D, s);
  else if (outType == 2)
    deltaOut(dout, doType, doS, static_cast<const __half *>(out), oS, delta, B, H, S, D, s);
  else
    deltaOut(dout, doType, doS, static_cast<const float *>(out), oS, delta, B, H, S, D, s);
}

void launchStoreScaled(const float *src, void *dst, int dstType, const int64_t dS[3], int64_t B,
                       int64_t H, int64_t S, int64_t D, float scale, int accumulate,
                       cudaStream_t s) {
  const int64_t n = B * H * S * D;
  if (n == 0) return;
  const unsigned grid = blocksFor(n, 256);
  if (dstType == 1)
    storeScaledKernel<<<grid, 256, 0, s>>>(src, static_cast<__nv_bfloat16 *>(dst), dS[0], dS[1],
                                           dS[2], H, S, D, scale, accumulate, n);
  else if (dstType == 2)
    storeScaledKernel<<<grid, 256, 0, s>>>(src, static_cast<__half *>(dst), dS[0], dS[1], dS[2],
                                           H, S, D, scale, accumulate, n);
  else
    storeScaledKernel<<<grid, 256, 0, s>>>(src, static_cast<float *>(dst), dS[0], dS[1], dS[2], H,
                                           S, D, scale, accumulate, n);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchMerge(float *out, float *lse, const float *outB, const float *lseB, int64_t rows,
                 int64_t d, cudaStream_t s) {
  if (rows == 0) return;
  mergeKernel<<<blocksFor(rows * 32, 256), 256, 0, s>>>(out, lse, outB, lseB, rows, d);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchMergeTyped(float *out, const int64_t oS[3], float *lse, int64_t lseRows,
                      int64_t row0, const void *part, int partType, const float *partLse,
                      int64_t B, int64_t H, int64_t S, int64_t D, cudaStream_t s) {
  const int64_t rows = B * H * S;
  if (rows == 0) return;
  const unsigned grid = blocksFor(rows * 32, 256);
  if (partType == 1)
    mergeTypedKernel<<<grid, 256, 0, s>>>(out, oS[0], oS[1], oS[2], lse, lseRows, row0,
                                          static_cast<const __nv_bfloat16 *>(part), partLse,
                                          H, S, D, rows);
  else if (partType == 2)
    mergeTypedKernel<<<grid, 256, 0, s>>>(out, oS[0], oS[1], oS[2], lse, lseRows, row0,
                                          static_cast<const __half *>(part), partLse, H, S,
                                          D, rows);
  else
    mergeTypedKernel<<<grid, 256, 0, s>>>(out, oS[0], oS[1], oS[2], lse, lseRows, row0,
                                          static_cast<const float *>(part), partLse, H, S, D,
                                          rows);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchConvertF32(const float *src, void *dst, int dstType, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  if (dstType == 0) {
    if (src != dst)
      CPRT_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(n) * 4, cudaMemcpyDeviceToDevice, s));
    return;
  }
  const unsigned grid = blocksFor(n, 256);
  if (dstType == 1)
    convertKernel<<<grid, 256, 0, s>>>(src, static_cast<__nv_bfloat16 *>(dst), n);
  else
    convertKernel<<<grid, 256, 0, s>>>(src, static_cast<__half *>(dst), n);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchFillF32(float *dst, float v, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  fillKernel<<<blocksFor(n, 256), 256, 0, s>>>(dst, v, n);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchToF32(const void *src, int srcType, float *dst, int64_t n, int accumulate,
                 cudaStream_t s) {
  if (n == 0) return;
  const unsigned grid = blocksFor(n, 256);
  if (srcType == 1)
    toF32Kernel<<<grid, 256, 0, s>>>(static_cast<const __nv_bfloat16 *>(src), dst, n, accumulate);
  else if (srcType == 2)
    toF32Kernel<<<grid, 256, 0, s>>>(static_cast<const __half *>(src), dst, n, accumulate);
  else
    toF32Kernel<<<grid, 256, 0, s>>>(static_cast<const float *>(src), dst, n, accumulate);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchAddF32(float *dst, const float *src, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  addKernel<<<blocksFor(n, 256), 256, 0, s>>>(dst, src, n);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

namespace {
/// dst[i] = reduce over r < W of src[r * n + i], in rank order (as the CPU
/// twin: sum, or std::max / std::min's choice).
template <typename T>
__global__ void reduceSlicesKernel(const T *src, T *dst, int64_t n, int w, int kind) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    T acc = src[i];
    for (int r = 1; r < w; ++r) {
      const T x = src[int64_t(r) * n + i];
      acc = kind == 0 ? T(acc + x) : kind == 1 ? (acc < x ? x : acc) : (x < acc ? x : acc);
    }
    dst[i] = acc;
  }
}
} // namespace

void launchReduceSlices(const void *src, void *dst, int type, int kind, int64_t n, int w,
                        cudaStream_t s) {
  if (n == 0) return;
  const unsigned grid = blocksFor(n, 256);
  switch (type) {
  case 0:
    reduceSlicesKernel<<<grid, 256, 0, s>>>(static_cast<const float *>(src),
                                            static_cast<float *>(dst), n, w, kind);
    break;
  case 1:
    reduceSlicesKernel<<<grid, 256, 0, s>>>(static_cast<const double *>(src),
                                            static_cast<double *>(dst), n, w, kind);
    break;
  case 2:
    reduceSlicesKernel<<<grid, 256, 0, s>>>(static_cast<const int32_t *>(src),
                                            static_cast<int32_t *>(dst), n, w, kind);
    break;
  default:
    reduceSlicesKernel<<<grid, 256, 0, s>>>(static_cast<const int64_t *>(src),
                                            static_cast<int64_t *>(dst), n, w, kind);
  }
  CPRT_CUDA_CHECK(cudaGetLastError());
}

void launchGatherRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                      int64_t seqSrc, int64_t seqDst, int64_t innerBytes, cudaStream_t s) {
  launchPermute<false>(src, dst, idx, outer, seqSrc, seqDst, innerBytes, s);
}
void launchScatterRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                       int64_t seqSrc, int64_t seqDst, int64_t innerBytes, cudaStream_t s) {
  launchPermute<true>(src, dst, idx, outer, seqSrc, seqDst, innerBytes, s);
}

} // namespace cprt::cuda
