//===- FlashCommon.cuh - Tensor-core building blocks for flash kernels ----===//
//
// mma.sync m16n8k16 (bf16 / fp16 in, fp32 accumulate), ldmatrix, cp.async
// and the mask predicate shared by the forward and backward kernels. Works
// on sm_80 and later (the portable path); Hopper runs it too.
//
// Shared-memory tiles are [rows][D] of 2-byte elements, stored with the
// 16-byte chunk index XOR-swizzled by (row & 7) so that ldmatrix reads of 8
// rows at the same column hit 8 different bank groups.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_FLASHCOMMON_CUH
#define CPRT_CUDA_FLASHCOMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cstdint>
#include <type_traits>

namespace cprt::cuda {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

/// Mask description the kernels read (device pointers).
struct DevMask {
  const int64_t *qPos;   // [Sq] or null
  const int64_t *kvPos;  // [Skv] or null
  const int32_t *docIds; // [docLen] or null
  const uint8_t *boolMask;
  const float *addMask;
  int64_t maskBStride, maskHStride, maskRowStride;
  int64_t windowLeft;
  int causal;   // positional causal
  int general;  // anything beyond the step behaviour
  int usesPos;  // causal / window / docs / positions
};

/// Step behaviour reduced to ranges: rows [rowBegin, Sq) see keys
/// [0, kEnd) with j <= i - diagShift when diag is set.
struct StepRanges {
  int64_t rowBegin, kEnd;
  int diag, diagShift;
};

// ---------------------------------------------------------------------------
// Element helpers
// ---------------------------------------------------------------------------
template <typename T> struct Pack;
template <> struct Pack<__nv_bfloat16> {
  static __device__ __forceinline__ uint32_t pack(float a, float b) {
    __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&v);
  }
};
template <> struct Pack<__half> {
  static __device__ __forceinline__ uint32_t pack(float a, float b) {
    __half2 v = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&v);
  }
};

__device__ __forceinline__ float toF(float x) { return x; }
__device__ __forceinline__ float toF(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float toF(__half x) { return __half2float(x); }
template <typename T> __device__ __forceinline__ T fromF(float x);
template <> __device__ __forceinline__ float fromF<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 fromF<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <> __device__ __forceinline__ __half fromF<__half>(float x) {
  return __float2half_rn(x);
}

/// Stores two consecutive output elements.
template <typename T>
__device__ __forceinline__ void store2(T *p, float a, float b) {
  if constexpr (sizeof(T) == 4) {
    *reinterpret_cast<float2 *>(p) = make_float2(a, b);
  } else {
    *reinterpret_cast<uint32_t *>(p) = Pack<T>::pack(a, b);
  }
}

// ---------------------------------------------------------------------------
// PTX wrappers
// ---------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smemAddr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// 16-byte async copy; zero-fills when !pred.
__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem, bool pred) {
  const int n = pred ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smemAddr(smem)),
               "l"(gmem), "r"(n));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldsm4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldsm4t(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// ---------------------------------------------------------------------------
// Swizzled shared-memory tiles
// ---------------------------------------------------------------------------
/// Element offset of (row, 16-byte chunk) in a [rows][D] tile.
template <int D> __device__ __forceinline__ int swz(int row, int chunk) {
  return row * D + ((chunk ^ (row & 7)) << 3);
}

/// Async load of rows [row0, row0 + ROWS) of a strided [S][D] matrix into a
/// swizzled tile; rows >= rowEnd are zero-filled.
template <int ROWS, int D, int NTHREADS, typename T>
__device__ __forceinline__ void loadTile(T *tile, const T *g, int64_t rowStride, int64_t row0,
                                         int64_t rowEnd, int tid) {
  constexpr int kChunks = D / 8;
  constexpr int kTotal = ROWS * kChunks;
#pragma unroll
  for (int c = tid; c < kTotal; c += NTHREADS) {
    const int r = c / kChunks, ch = c % kChunks;
    const int64_t gr = row0 + r;
    const bool ok = gr < rowEnd;
    const T *src = g + (ok ? gr : 0) * rowStride + ch * 8;
    cpAsync16(tile + swz<D>(r, ch), src, ok);
  }
}

// ---------------------------------------------------------------------------
// Visibility
// ---------------------------------------------------------------------------
/// Positional part of the mask for local query i / key j. `add` receives the
/// additive mask value (0 when none). Returns false when hidden.
__device__ __forceinline__ bool maskVisible(const DevMask &m, int64_t hb, int64_t i, int64_t j,
                                            float &add) {
  add = 0.f;
  const int64_t q = m.qPos ? m.qPos[i] : i;
  const int64_t k = m.kvPos ? m.kvPos[j] : j;
  if (m.usesPos) {
    if (q < 0 || k < 0) return false;
    if ((m.causal || m.windowLeft > 0) && k > q) return false;
    if (m.windowLeft > 0 && k <= q - m.windowLeft) return false;
    if (m.docIds && m.docIds[q] != m.docIds[k]) return false;
  }
  if (m.boolMask && !m.boolMask[hb + q * m.maskRowStride + k]) return false;
  if (m.addMask) add = m.addMask[hb + q * m.maskRowStride + k];
  return true;
}

__device__ __forceinline__ bool stepVisible(const StepRanges &r, int64_t i, int64_t j) {
  return j < r.kEnd && i >= r.rowBegin && (!r.diag || j <= i - r.diagShift);
}

} // namespace cprt::cuda

#endif
