//===- HopperPtx.cuh - sm_90a PTX wrappers: mbarrier, TMA, wgmma ----------===//
//
// Thin inline-asm wrappers for the Hopper machinery the attention kernel
// uses. Shared-memory addresses are 32-bit (cvta to the shared window).
// wgmma operand tiles use the 128-byte swizzle that TMA writes with
// CU_TENSOR_MAP_SWIZZLE_128B: rows of 64 16-bit elements (128 B), the 16-byte chunk
// index XOR (row & 7), 8-row atoms of 1024 B (so tiles are 1024-B aligned).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_HOPPER_HOPPERPTX_CUH
#define CPRT_CUDA_HOPPER_HOPPERPTX_CUH

#include <cstdint>

namespace cprt::cuda::hopper {

__device__ __forceinline__ uint32_t smemU32(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---------------------------------------------------------------------------
// mbarrier
// ---------------------------------------------------------------------------
__device__ __forceinline__ void mbarInit(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbarInitFence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void mbarArriveExpectTx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbarArrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
/// Blocks until the barrier's phase with the given parity has completed.
__device__ __forceinline__ void mbarWait(uint32_t bar, uint32_t parity) {
  asm volatile("{\n"
               ".reg .pred done;\n"
               "WAIT_%=:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
               "@!done bra WAIT_%=;\n"
               "}\n" ::"r"(bar),
               "r"(parity)
               : "memory");
}

// ---------------------------------------------------------------------------
// TMA: 3-d tiled load into shared memory, completing on an mbarrier
// ---------------------------------------------------------------------------
__device__ __forceinline__ void tmaLoad3d(uint32_t dst, const void *tmap, uint32_t bar, int c0,
                                          int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
               " [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(dst),
               "l"(reinterpret_cast<uint64_t>(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
               : "memory");
}
__device__ __forceinline__ void tmaPrefetchDesc(const void *tmap) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(tmap)) : "memory");
}

// ---------------------------------------------------------------------------
// Register reallocation between warpgroups
// ---------------------------------------------------------------------------
template <int N> __device__ __forceinline__ void regDealloc() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N> __device__ __forceinline__ void regAlloc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

// ---------------------------------------------------------------------------
// wgmma
// ---------------------------------------------------------------------------
/// Shared-memory matrix descriptor, 128-byte swizzle. lbo / sbo in bytes.
/// K-major operands: lbo unused (1), sbo = 1024 (next 8-row atom).
/// MN-major operands: lbo = offset to the next 64-element MN block, sbo =
/// offset to the next 8 K rows.
__device__ __forceinline__ uint64_t smemDesc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) |
         (uint64_t(sbo >> 4) << 32) | (uint64_t(1) << 62);
}
/// The same descriptor split in two 32-bit halves (lo: start address >> 4 |
/// lbo >> 4 << 16; hi: sbo >> 4 | swizzle mode), built once per GEMM:
/// descAt gives the descriptor of the same layout `bytes` further on by
/// adding to the start address only (no carry out of its 14 bits: shared
/// memory < 256 KiB). Variant bit kHoist (HopperAttention.cu).
struct SmemDesc {
  uint32_t lo, hi;
};
__device__ __forceinline__ SmemDesc smemDescHalves(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return SmemDesc{((addr & 0x3FFFF) >> 4) | ((lbo >> 4) << 16), (sbo >> 4) | (1u << 30)};
}
__device__ __forceinline__ uint64_t descAt(SmemDesc d, uint32_t bytes) {
  return (uint64_t(d.hi) << 32) | (d.lo + (bytes >> 4));
}
__device__ __forceinline__ void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
/// Keeps the compiler from moving reads / writes of r across wgmma issue
/// and wait points (the hardware reads and writes them asynchronously).
template <int N> __device__ __forceinline__ void fenceRegs(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
template <int N> __device__ __forceinline__ void fenceRegs(uint32_t (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+r"(r[i])::"memory");
}

// ---------------------------------------------------------------------------
// wgmma.mma_async m64nNk16 with fp32 accumulation and bf16 or f16 inputs, N
// in {64, 128, 256}: the accumulator is N / 2 fp32 registers a thread (the
// mma.sync C layout per warp, 8-column groups side by side). An asm
// statement names every register, so the operand lists are macros.
// ---------------------------------------------------------------------------
#define CPRT_WGMMA_F8(d, i)                                                                   \
  "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]),  \
      "+f"(d[i + 6]), "+f"(d[i + 7])
#define CPRT_WGMMA_F32(d, i)                                                                  \
  CPRT_WGMMA_F8(d, i), CPRT_WGMMA_F8(d, i + 8), CPRT_WGMMA_F8(d, i + 16), CPRT_WGMMA_F8(d, i + 24)
#define CPRT_WGMMA_F64(d) CPRT_WGMMA_F32(d, 0), CPRT_WGMMA_F32(d, 32)
#define CPRT_WGMMA_F128(d)                                                                    \
  CPRT_WGMMA_F32(d, 0), CPRT_WGMMA_F32(d, 32), CPRT_WGMMA_F32(d, 64), CPRT_WGMMA_F32(d, 96)

#define CPRT_WGMMA_ACC32 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31" \
  "}"
#define CPRT_WGMMA_ACC64 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63" \
  "}"
#define CPRT_WGMMA_ACC128 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127" \
  "}"

/// SS form (A and B from shared memory, K-major): SHAPE.f32.TY.TY; NA
/// accumulators, then descA = %IA, descB = %IA + 1 and the scale-d flag
/// %IA + 2 (0: D = A B, else D += A B).
#define CPRT_WGMMA_SS(SHAPE, TY, NA, IA, IB, IP, OUTS)                                         \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" #IP ", 0;\n"                               \
               "wgmma.mma_async.sync.aligned." SHAPE ".f32." TY "." TY " " CPRT_WGMMA_ACC##NA      \
               ", %" #IA ", %" #IB ", p, 1, 1, 0, 0;\n}\n"                                     \
               : OUTS                                                                         \
               : "l"(descA), "l"(descB), "r"(accumulate))
/// RS form (A from registers: 4 x 32-bit a thread, the mma.sync A fragment
/// per warp; B from shared memory, transposed = N-major): D += A B.
#define CPRT_WGMMA_RS(SHAPE, TY, NA, I0, I1, I2, I3, IB, IP, OUTS)                             \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" #IP ", 0;\n"                               \
               "wgmma.mma_async.sync.aligned." SHAPE ".f32." TY "." TY " " CPRT_WGMMA_ACC##NA      \
               ", {%" #I0 ", %" #I1 ", %" #I2 ", %" #I3 "}, %" #IB ", p, 1, 1, 1;\n}\n"          \
               : OUTS                                                                         \
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(descB), "r"(1))

/// D (64 x N fp32) (+)= A (smem, K-major) * B (smem, K-major): both
/// descriptors SW128 (smemDesc). F16: f16 inputs, else bf16.
template <int N, bool F16>
__device__ __forceinline__ void wgmmaSS(float (&d)[N / 2], uint64_t descA, uint64_t descB,
                                        int accumulate) {
  static_assert(N == 64 || N == 128 || N == 256, "wgmma N must be 64, 128 or 256");
  if constexpr (N == 64 && F16)
    CPRT_WGMMA_SS("m64n64k16", "f16", 32, 32, 33, 34, CPRT_WGMMA_F32(d, 0));
  else if constexpr (N == 64)
    CPRT_WGMMA_SS("m64n64k16", "bf16", 32, 32, 33, 34, CPRT_WGMMA_F32(d, 0));
  else if constexpr (N == 128 && F16)
    CPRT_WGMMA_SS("m64n128k16", "f16", 64, 64, 65, 66, CPRT_WGMMA_F64(d));
  else if constexpr (N == 128)
    CPRT_WGMMA_SS("m64n128k16", "bf16", 64, 64, 65, 66, CPRT_WGMMA_F64(d));
  else if constexpr (F16)
    CPRT_WGMMA_SS("m64n256k16", "f16", 128, 128, 129, 130, CPRT_WGMMA_F128(d));
  else
    CPRT_WGMMA_SS("m64n256k16", "bf16", 128, 128, 129, 130, CPRT_WGMMA_F128(d));
}

/// D (64 x N fp32) += A (registers: 4 x 16-bit pairs a thread, the mma.sync
/// A fragment layout per warp) * B (smem, N-major, i.e. transposed).
template <int N, bool F16>
__device__ __forceinline__ void wgmmaRS(float (&d)[N / 2], uint32_t a0, uint32_t a1, uint32_t a2,
                                        uint32_t a3, uint64_t descB) {
  static_assert(N == 64 || N == 128 || N == 256, "wgmma N must be 64, 128 or 256");
  if constexpr (N == 64 && F16)
    CPRT_WGMMA_RS("m64n64k16", "f16", 32, 32, 33, 34, 35, 36, 37, CPRT_WGMMA_F32(d, 0));
  else if constexpr (N == 64)
    CPRT_WGMMA_RS("m64n64k16", "bf16", 32, 32, 33, 34, 35, 36, 37, CPRT_WGMMA_F32(d, 0));
  else if constexpr (N == 128 && F16)
    CPRT_WGMMA_RS("m64n128k16", "f16", 64, 64, 65, 66, 67, 68, 69, CPRT_WGMMA_F64(d));
  else if constexpr (N == 128)
    CPRT_WGMMA_RS("m64n128k16", "bf16", 64, 64, 65, 66, 67, 68, 69, CPRT_WGMMA_F64(d));
  else if constexpr (F16)
    CPRT_WGMMA_RS("m64n256k16", "f16", 128, 128, 129, 130, 131, 132, 133, CPRT_WGMMA_F128(d));
  else
    CPRT_WGMMA_RS("m64n256k16", "bf16", 128, 128, 129, 130, 131, 132, 133, CPRT_WGMMA_F128(d));
}

} // namespace cprt::cuda::hopper

#endif
