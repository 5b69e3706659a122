//===- HopperAttention.cu - sm_90a attention forward (wgmma + TMA) --------===//
//
// One CTA = one (batch, query head, 128-row query block); 384 threads in
// three warpgroups. Warpgroup 0 is the producer: after giving most of its
// registers back (setmaxnreg) one thread issues the TMA loads, Q once and
// then K and V tiles of 128 keys into a STAGES-deep ring of shared-memory
// buffers; each load completes on its "full" mbarrier and each buffer is
// handed back through an "empty" mbarrier. Warpgroups 1 and 2 are the
// consumers, 64 query rows each: S = Q K^T with wgmma from shared memory
// (both operands K-major, 128-byte swizzle as TMA writes it), the online
// softmax on the fp32 accumulators in registers (log2 domain, exp2), and
// O += P V with P as the register A operand and V read N-major (transposed)
// from shared memory. The overlapped loop issues the next S = Q K^T with
// this tile's O += P V and does the softmax while the tensor cores run (FA3's
// intra-warpgroup overlap); ping-pong also alternates the two consumer
// warpgroups' GEMM issue through named barriers (FA3's inter-warpgroup
// schedule). The epilogue writes bf16 O and the natural-log
// LSE, or merges into an fp32 partial (ACC), as FlashForward.cu does.
//
//===----------------------------------------------------------------------===//
#include "HopperAttention.h"
#include "HopperPtx.cuh"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>

namespace cprt::cuda::hopper {
namespace {

constexpr int kD = 128;       // head dim
constexpr int kBM = 128;      // query rows per CTA (64 per consumer warpgroup)
constexpr int kBN = 128;      // keys per tile
constexpr int kThreads = 384; // producer + 2 consumer warpgroups
constexpr uint32_t kTileBytes = kBN * kD * 2;   // one 128 x 128 bf16 tile
constexpr uint32_t kHalfBytes = kTileBytes / 2; // its 64-column half (TMA box)
constexpr int kConsumerWarps = 8;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

struct Params {
  void *out;
  float *lse;
  int Hq, hRatio, Sq;
  float scaleLog2;
  int rowBegin, kEnd, diag, diagShift;
  uint32_t vLbo, vSbo; // V (N-major) descriptor strides
  int headsFastest;    // grid (heads, query blocks, B) instead of (blocks, heads, B)
};

/// Shared memory: Q | K[STAGES] | V[STAGES] | mbarriers, from a 1024-B
/// aligned base. Barriers: Q, fullK[s], fullV[s], emptyK[s], emptyV[s]: a K
/// buffer goes back as soon as its S = Q K^T is done, a V buffer after P V.
template <int ST> struct Layout {
  static constexpr uint32_t kQ = 0;
  static __device__ __forceinline__ uint32_t k(int s) { return (1 + s) * kTileBytes; }
  static __device__ __forceinline__ uint32_t v(int s) { return (1 + ST + s) * kTileBytes; }
  static constexpr uint32_t kBars = (1 + 2 * ST) * kTileBytes;
  static __device__ __forceinline__ uint32_t barQ() { return kBars; }
  static __device__ __forceinline__ uint32_t fullK(int s) { return kBars + 8 * (1 + s); }
  static __device__ __forceinline__ uint32_t fullV(int s) { return kBars + 8 * (1 + ST + s); }
  static __device__ __forceinline__ uint32_t emptyK(int s) { return kBars + 8 * (1 + 2 * ST + s); }
  static __device__ __forceinline__ uint32_t emptyV(int s) { return kBars + 8 * (1 + 3 * ST + s); }
  static constexpr size_t kBytes = kBars + 8 * (1 + 4 * ST) + 1024; // + alignment slack
};

__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
__device__ __forceinline__ uint32_t packBf16(float a, float b) {
  __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<uint32_t *>(&v);
}

/// Key tiles the query block [m0, m0 + kBM) must visit (from key 0).
__device__ __forceinline__ int numKeyTiles(const Params &p, int m0) {
  int kLimit = p.kEnd;
  if (p.diag) kLimit = min(kLimit, m0 + kBM - p.diagShift);
  if (m0 + kBM <= p.rowBegin) kLimit = 0;
  return kLimit > 0 ? (kLimit + kBN - 1) / kBN : 0;
}

/// True when some element of the tile (query block m0, keys from n0) is hidden.
__device__ __forceinline__ bool tileNeedsMask(const Params &p, int m0, int n0) {
  return n0 + kBN > p.kEnd || m0 < p.rowBegin || (p.diag && n0 + kBN - 1 > m0 - p.diagShift);
}

// ---------------------------------------------------------------------------
// Producer: one thread issues every TMA load.
// ---------------------------------------------------------------------------
template <int ST>
__device__ void produce(const CUtensorMap *tq, const CUtensorMap *tk, const CUtensorMap *tv,
                        uint32_t base, int m0, int zq, int zkv, int nTiles) {
  using L = Layout<ST>;
  mbarArriveExpectTx(base + L::barQ(), kTileBytes);
  tmaLoad3d(base + L::kQ, tq, base + L::barQ(), 0, m0, zq);
  tmaLoad3d(base + L::kQ + kHalfBytes, tq, base + L::barQ(), 64, m0, zq);
  int stage = 0;
  uint32_t phase = 0;
  for (int t = 0; t < nTiles; ++t) {
    const int n0 = t * kBN;
    const uint32_t fk = base + L::fullK(stage), fv = base + L::fullV(stage);
    if (t >= ST) mbarWait(base + L::emptyK(stage), phase ^ 1);
    mbarArriveExpectTx(fk, kTileBytes);
    tmaLoad3d(base + L::k(stage), tk, fk, 0, n0, zkv);
    tmaLoad3d(base + L::k(stage) + kHalfBytes, tk, fk, 64, n0, zkv);
    if (t >= ST) mbarWait(base + L::emptyV(stage), phase ^ 1);
    mbarArriveExpectTx(fv, kTileBytes);
    tmaLoad3d(base + L::v(stage), tv, fv, 0, n0, zkv);
    tmaLoad3d(base + L::v(stage) + kHalfBytes, tv, fv, 64, n0, zkv);
    if (++stage == ST) {
      stage = 0;
      phase ^= 1;
    }
  }
}

// ---------------------------------------------------------------------------
// Consumer building blocks (one warpgroup, 64 query rows)
// ---------------------------------------------------------------------------
/// s = Q K^T for this warpgroup's 64 rows and one 128-key tile (issued, not
/// waited for). Both tiles are [rows][128] as two 64-column swizzled halves.
/// HOIST: descriptors built once per GEMM, advanced by descAt (d38a1bd).
template <bool HOIST>
__device__ __forceinline__ void issueQK(float (&s)[64], uint32_t qAddr, uint32_t kAddr) {
  wgmmaFence();
  const SmemDesc dq = smemDescHalves(qAddr, 16, 1024), dk = smemDescHalves(kAddr, 16, 1024);
#pragma unroll
  for (int kk = 0; kk < kD / 16; ++kk) {
    const uint32_t off = (kk >> 2) * kHalfBytes + (kk & 3) * 32;
    if constexpr (HOIST)
      wgmmaSS(s, descAt(dq, off), descAt(dk, off), kk > 0);
    else
      wgmmaSS(s, smemDesc(qAddr + off, 16, 1024), smemDesc(kAddr + off, 16, 1024), kk > 0);
  }
  wgmmaCommit();
}

/// o += P V: P (bf16, registers) is 64 x 128 keys, V the [keys][d] tile.
template <bool HOIST>
__device__ __forceinline__ void issuePV(float (&o)[64], const uint32_t (&pf)[32], uint32_t vAddr,
                                        const Params &p) {
  wgmmaFence();
  const SmemDesc dv = smemDescHalves(vAddr, p.vLbo, p.vSbo);
#pragma unroll
  for (int kk = 0; kk < kBN / 16; ++kk)
    wgmmaRS(o, pf[4 * kk], pf[4 * kk + 1], pf[4 * kk + 2], pf[4 * kk + 3],
            HOIST ? descAt(dv, kk * 16 * 128) : smemDesc(vAddr + kk * 16 * 128, p.vLbo, p.vSbo));
  wgmmaCommit();
}

struct Rows {
  float m[2], l[2]; // running max (log2 domain) and this thread's partial sum
};

/// Online softmax of one tile in place: s becomes exp2(s * scaleLog2 - m).
/// Thread rows: i0 and i0 + 8 (accumulator elements e >> 1); columns
/// n0 + 8 * jt + 2 * (lane & 3) + (e & 1).
template <bool MASK>
__device__ __forceinline__ void softmaxTile(float (&s)[64], float (&alpha)[2], Rows &rs,
                                            const Params &p, int i0, int n0, int lane) {
  if constexpr (MASK) {
#pragma unroll
    for (int x = 0; x < 64; ++x) {
      const int i = i0 + ((x >> 1) & 1) * 8;
      const int j = n0 + (x >> 2) * 8 + (lane & 3) * 2 + (x & 1);
      const bool vis = j < p.kEnd && i >= p.rowBegin && (!p.diag || j <= i - p.diagShift);
      if (!vis) s[x] = -INFINITY;
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float mx = -INFINITY;
#pragma unroll
    for (int jt = 0; jt < 16; ++jt) mx = fmaxf(mx, fmaxf(s[4 * jt + 2 * r], s[4 * jt + 2 * r + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
    const float mNew = fmaxf(rs.m[r], mx * p.scaleLog2);
    const float mUse = mNew == -INFINITY ? 0.f : mNew;
    alpha[r] = fastExp2(rs.m[r] - mUse);
    rs.m[r] = mNew;
    float sum = 0.f;
#pragma unroll
    for (int jt = 0; jt < 16; ++jt) {
      float &a = s[4 * jt + 2 * r], &b = s[4 * jt + 2 * r + 1];
      a = fastExp2(fmaf(a, p.scaleLog2, -mUse));
      b = fastExp2(fmaf(b, p.scaleLog2, -mUse));
      sum += a + b;
    }
    rs.l[r] = rs.l[r] * alpha[r] + sum;
  }
}

__device__ __forceinline__ void softmaxAny(float (&s)[64], float (&alpha)[2], Rows &rs,
                                           const Params &p, int m0, int i0, int n0, int lane) {
  if (tileNeedsMask(p, m0, n0))
    softmaxTile<true>(s, alpha, rs, p, i0, n0, lane);
  else
    softmaxTile<false>(s, alpha, rs, p, i0, n0, lane);
}

/// o *= alpha (per row); P = bf16(s) in the wgmma register-A layout.
/// SKIP: alpha is exactly 1 where a row's max did not move, so a warp whose
/// 16 rows all kept their max skips the 64 multiplies (most tiles, late in
/// a long row).
template <bool SKIP>
__device__ __forceinline__ void rescaleAndPack(float (&o)[64], uint32_t (&pf)[32],
                                               const float (&s)[64], const float (&alpha)[2]) {
  if (!SKIP || __any_sync(0xffffffff, alpha[0] != 1.f || alpha[1] != 1.f)) {
#pragma unroll
    for (int x = 0; x < 64; ++x) o[x] *= alpha[(x >> 1) & 1];
  }
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) {
    pf[4 * kk + 0] = packBf16(s[8 * kk + 0], s[8 * kk + 1]);
    pf[4 * kk + 1] = packBf16(s[8 * kk + 2], s[8 * kk + 3]);
    pf[4 * kk + 2] = packBf16(s[8 * kk + 4], s[8 * kk + 5]);
    pf[4 * kk + 3] = packBf16(s[8 * kk + 6], s[8 * kk + 7]);
  }
}

/// Hands a K/V stage back to the producer (one arrival per consumer warp).
__device__ __forceinline__ void releaseStage(uint32_t bar, int lane) {
  __syncwarp();
  if (lane == 0) mbarArrive(bar);
}

// ---------------------------------------------------------------------------
// Epilogues
// ---------------------------------------------------------------------------
__device__ __forceinline__ float quadSum(float x) {
  x += __shfl_xor_sync(0xffffffff, x, 1);
  return x + __shfl_xor_sync(0xffffffff, x, 2);
}

/// Normalised bf16 O and the natural-log LSE (rows with l == 0: 0, -inf).
__device__ void storeOut(const Params &p, const float (&o)[64], const Rows &rs, int64_t bh,
                         int i0, int lane) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float l = quadSum(rs.l[r]);
    const int i = i0 + 8 * r;
    if (i >= p.Sq) continue;
    const float inv = l > 0.f ? 1.f / l : 0.f;
    __nv_bfloat16 *row =
        static_cast<__nv_bfloat16 *>(p.out) + (bh * p.Sq + i) * kD + (lane & 3) * 2;
#pragma unroll
    for (int jt = 0; jt < 16; ++jt)
      *reinterpret_cast<uint32_t *>(row + 8 * jt) =
          packBf16(o[4 * jt + 2 * r] * inv, o[4 * jt + 2 * r + 1] * inv);
    if ((lane & 3) == 0)
      p.lse[bh * p.Sq + i] = l > 0.f ? (rs.m[r] + log2f(l)) * kLn2 : -INFINITY;
  }
}

/// Merges (o / l, lse_b) into the fp32 partial (out, lse): lse' =
/// logaddexp(lse, lse_b), out' = out * e^(lse - lse') + o_b * e^(lse_b - lse').
/// Rows with l == 0 keep the partial untouched.
__device__ void mergeOut(const Params &p, const float (&o)[64], const Rows &rs, int64_t bh,
                         int i0, int lane) {
  float l[2], la[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] = quadSum(rs.l[r]);
    const int i = i0 + 8 * r;
    la[r] = (i < p.Sq && l[r] > 0.f) ? p.lse[bh * p.Sq + i] : -INFINITY;
  }
  __syncwarp(); // every lane of the quad read the LSE before lane 0 rewrites it
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = i0 + 8 * r;
    if (i >= p.Sq || !(l[r] > 0.f)) continue; // quad-uniform
    const float lb = (rs.m[r] + log2f(l[r])) * kLn2;
    float *row = static_cast<float *>(p.out) + (bh * p.Sq + i) * kD + (lane & 3) * 2;
    float wa = 0.f, wb = 1.f / l[r], lNew = lb;
    if (la[r] != -INFINITY) {
      const float mx = fmaxf(la[r], lb);
      lNew = mx + log1pf(expf(fminf(la[r], lb) - mx));
      wa = expf(la[r] - lNew);
      wb = expf(lb - lNew) / l[r];
    }
#pragma unroll
    for (int jt = 0; jt < 16; ++jt) {
      float2 *dst = reinterpret_cast<float2 *>(row + 8 * jt);
      const float2 prev = wa != 0.f ? *dst : make_float2(0.f, 0.f);
      *dst = make_float2(fmaf(wa, prev.x, wb * o[4 * jt + 2 * r]),
                         fmaf(wa, prev.y, wb * o[4 * jt + 2 * r + 1]));
    }
    if ((lane & 3) == 0) p.lse[bh * p.Sq + i] = lNew;
  }
}

// ---------------------------------------------------------------------------
// Consumer main loop
// ---------------------------------------------------------------------------
/// Per-warpgroup state of the consumer loop.
struct Consumer {
  uint32_t base, qAddr;
  int m0, i0, lane, cw;
  float o[64], s[64], alpha[2];
  uint32_t pf[32];
  Rows rs;
};

/// Ping-pong between the two consumer warpgroups (FA3's inter-warpgroup
/// schedule): named barrier 1 + cw is "warpgroup cw may issue its GEMMs";
/// each warpgroup waits for its turn, issues, then hands the turn over, so
/// one warpgroup's softmax runs while the other's GEMMs use the tensor cores.
template <bool PP> __device__ __forceinline__ void turnWait(int cw) {
  if constexpr (PP) asm volatile("bar.sync %0, 256;\n" ::"r"(1 + cw) : "memory");
}
template <bool PP> __device__ __forceinline__ void turnPass(int cw) {
  if constexpr (PP) asm volatile("bar.arrive %0, 256;\n" ::"r"(2 - cw) : "memory");
}

/// Serial loop: S = Q K^T, softmax, O += P V, one tile after the other.
template <int ST>
__device__ void consumeSerial(Consumer &c, const Params &p, int nTiles) {
  using L = Layout<ST>;
  int stage = 0;
  uint32_t phase = 0;
  for (int t = 0; t < nTiles; ++t) {
    mbarWait(c.base + L::fullK(stage), phase);
    issueQK<false>(c.s, c.qAddr, c.base + L::k(stage));
    wgmmaWait<0>();
    fenceRegs(c.s);
    releaseStage(c.base + L::emptyK(stage), c.lane);
    softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, t * kBN, c.lane);
    rescaleAndPack<false>(c.o, c.pf, c.s, c.alpha);
    mbarWait(c.base + L::fullV(stage), phase);
    issuePV<false>(c.o, c.pf, c.base + L::v(stage), p);
    wgmmaWait<0>();
    fenceRegs(c.o);
    fenceRegs(c.pf);
    releaseStage(c.base + L::emptyV(stage), c.lane);
    if (++stage == ST) {
      stage = 0;
      phase ^= 1;
    }
  }
}

/// Overlapped loop: tile 0 alone; then for t >= 1 issue S_t = Q K_t^T and
/// O += P_{t-1} V_{t-1} together and run the softmax of S_t while the PV GEMM
/// still runs. PP adds the inter-warpgroup ping-pong around each issue.
template <int ST, bool PP, bool SKIP, bool HOIST>
__device__ void consumeOverlap(Consumer &c, const Params &p, int nTiles) {
  using L = Layout<ST>;
  if (PP && c.cw == 1) turnPass<PP>(1); // warpgroup 0 goes first
  turnWait<PP>(c.cw);
  mbarWait(c.base + L::fullK(0), 0);
  issueQK<HOIST>(c.s, c.qAddr, c.base + L::k(0));
  turnPass<PP>(c.cw);
  wgmmaWait<0>();
  fenceRegs(c.s);
  releaseStage(c.base + L::emptyK(0), c.lane);
  softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, 0, c.lane);
  rescaleAndPack<false>(c.o, c.pf, c.s, c.alpha);
  int prev = 0, stage = 0;
  uint32_t prevPhase = 0, phase = 0;
  for (int t = 1; t < nTiles; ++t) {
    if (++stage == ST) {
      stage = 0;
      phase ^= 1;
    }
    turnWait<PP>(c.cw);
    mbarWait(c.base + L::fullK(stage), phase);
    issueQK<HOIST>(c.s, c.qAddr, c.base + L::k(stage));
    mbarWait(c.base + L::fullV(prev), prevPhase);
    issuePV<HOIST>(c.o, c.pf, c.base + L::v(prev), p);
    turnPass<PP>(c.cw);
    wgmmaWait<1>();
    fenceRegs(c.s);
    releaseStage(c.base + L::emptyK(stage), c.lane);
    softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, t * kBN, c.lane);
    wgmmaWait<0>();
    fenceRegs(c.o);
    fenceRegs(c.pf);
    releaseStage(c.base + L::emptyV(prev), c.lane);
    rescaleAndPack<SKIP>(c.o, c.pf, c.s, c.alpha);
    prev = stage;
    prevPhase = phase;
  }
  turnWait<PP>(c.cw);
  mbarWait(c.base + L::fullV(prev), prevPhase);
  issuePV<HOIST>(c.o, c.pf, c.base + L::v(prev), p);
  if (c.cw == 0) turnPass<PP>(c.cw); // warpgroup 1 takes no further turn
  wgmmaWait<0>();
  fenceRegs(c.o);
  releaseStage(c.base + L::emptyV(prev), c.lane);
}

/// MODE: 0 serial, else the bits kOverlap (always set), kPingPong, kSkipRescale,
/// kHoist (descriptors built once per GEMM).
constexpr int kOverlap = 1, kPingPong = 2, kSkipRescale = 4, kHoist = 8;
template <int ST, int MODE, bool ACC>
__device__ void consume(const Params &p, uint32_t base, int m0, int64_t bh, int nTiles, int cw) {
  Consumer c;
  const int ctid = threadIdx.x - 128 * (1 + cw);
  c.base = base;
  c.m0 = m0;
  c.cw = cw;
  c.lane = ctid & 31;
  c.i0 = m0 + cw * 64 + (ctid >> 5) * 16 + (c.lane >> 2);
  c.qAddr = base + Layout<ST>::kQ + cw * 64 * 128; // this warpgroup's 64 rows
#pragma unroll
  for (int x = 0; x < 64; ++x) c.o[x] = c.s[x] = 0.f;
  c.rs = Rows{{-INFINITY, -INFINITY}, {0.f, 0.f}};
  mbarWait(base + Layout<ST>::barQ(), 0);
  if constexpr (MODE == 0)
    consumeSerial<ST>(c, p, nTiles);
  else
    consumeOverlap<ST, (MODE & kPingPong) != 0, (MODE & kSkipRescale) != 0,
                   (MODE & kHoist) != 0>(c, p, nTiles);
  if constexpr (ACC)
    mergeOut(p, c.o, c.rs, bh, c.i0, c.lane);
  else
    storeOut(p, c.o, c.rs, bh, c.i0, c.lane);
}

/// Query block that sees no key: out = 0, lse = -inf (non-accumulating only).
__device__ void storeEmpty(const Params &p, int64_t bh, int m0) {
  const int rows = min(kBM, p.Sq - m0);
  __nv_bfloat16 *out = static_cast<__nv_bfloat16 *>(p.out) + (bh * p.Sq + m0) * kD;
  for (int x = threadIdx.x; x < rows * kD / 2; x += blockDim.x)
    reinterpret_cast<uint32_t *>(out)[x] = 0u;
  for (int r = threadIdx.x; r < rows; r += blockDim.x) p.lse[bh * p.Sq + m0 + r] = -INFINITY;
}

template <int ST, int MODE, bool ACC>
__global__ void __launch_bounds__(kThreads, 1)
    fwdKernel(const __grid_constant__ CUtensorMap tmQ, const __grid_constant__ CUtensorMap tmK,
              const __grid_constant__ CUtensorMap tmV, const Params p) {
  using L = Layout<ST>;
  extern __shared__ __align__(1024) unsigned char smemRaw[];
  const uint32_t base = (smemU32(smemRaw) + 1023u) & ~1023u;
  // Query blocks are launched last-first (the long rows under a causal mask
  // start first); headsFastest puts the heads on x so that every head's long
  // blocks start before any short one.
  const int mBlocks = (p.Sq + kBM - 1) / kBM;
  const int mIdx = p.headsFastest ? blockIdx.y : blockIdx.x;
  const int h = p.headsFastest ? blockIdx.x : blockIdx.y, b = blockIdx.z;
  const int m0 = (mBlocks - 1 - mIdx) * kBM;
  const int64_t bh = int64_t(b) * p.Hq + h;
  const int zkv = b * (p.Hq / p.hRatio) + h / p.hRatio;
  const int nTiles = numKeyTiles(p, m0);
  if (nTiles == 0) { // CTA-uniform
    if constexpr (!ACC) storeEmpty(p, bh, m0);
    return;
  }
  if (threadIdx.x == 0) {
    mbarInit(base + L::barQ(), 1);
    for (int s = 0; s < ST; ++s) {
      mbarInit(base + L::fullK(s), 1);
      mbarInit(base + L::fullV(s), 1);
      mbarInit(base + L::emptyK(s), kConsumerWarps);
      mbarInit(base + L::emptyV(s), kConsumerWarps);
    }
    mbarInitFence();
    tmaPrefetchDesc(&tmQ);
    tmaPrefetchDesc(&tmK);
    tmaPrefetchDesc(&tmV);
  }
  __syncthreads();
  // Role split: each warpgroup takes one branch, so setmaxnreg applies.
  if (threadIdx.x < 128) {
    regDealloc<24>();
    if (threadIdx.x == 0) produce<ST>(&tmQ, &tmK, &tmV, base, m0, int(bh), zkv, nTiles);
  } else {
    regAlloc<240>();
    consume<ST, MODE, ACC>(p, base, m0, bh, nTiles, threadIdx.x / 128 - 1);
  }
}

// ---------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------
PFN_cuTensorMapEncodeTiled_v12000 encodeFn() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void *f = nullptr;
    cudaDriverEntryPointQueryResult q{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault,
                                         &q) != cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
      return PFN_cuTensorMapEncodeTiled_v12000(nullptr);
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  return fn;
}

/// Tensor map over a contiguous bf16 [bh][rows][128] tensor, box 64 x 128 x 1,
/// 128-byte swizzle; rows past the end read as zeros.
bool makeMap(CUtensorMap *m, const void *ptr, int64_t rows, int64_t bh) {
  auto enc = encodeFn();
  if (!enc) return false;
  const cuuint64_t dims[3] = {cuuint64_t(kD), cuuint64_t(rows), cuuint64_t(bh)};
  const cuuint64_t strides[2] = {cuuint64_t(kD) * 2, cuuint64_t(rows) * kD * 2};
  const cuuint32_t box[3] = {64, cuuint32_t(kBN), 1};
  const cuuint32_t estr[3] = {1, 1, 1};
  return enc(m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, const_cast<void *>(ptr), dims, strides, box,
             estr, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <int ST, int MODE, bool ACC>
cudaError_t launch(const CUtensorMap (&maps)[3], const Params &p, dim3 grid, cudaStream_t s) {
  auto kern = fwdKernel<ST, MODE, ACC>;
  constexpr size_t bytes = Layout<ST>::kBytes;
  static const cudaError_t attr =
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes));
  if (attr != cudaSuccess) return attr;
  kern<<<grid, kThreads, bytes, s>>>(maps[0], maps[1], maps[2], p);
  return cudaGetLastError();
}

/// Variants (bench): variant % 10 picks the kernel: 1 = 2 stages serial,
/// 2 / 3 = 2 / 3 stages overlapped, 4 / 5 = the same + ping-pong, 6 / 7 =
/// overlapped + rescale skip, 8 / 9 = overlapped + ping-pong + rescale skip;
/// 0 = the default (kDefaultKernel). (variant / 10) % 10 == 1 swaps the V
/// descriptor's strides (a layout self-check for the bench: must fail).
/// (variant / 100) % 10 picks the grid order: 0 = heads fastest when diag
/// (causal), 1 = query blocks fastest, 2 = heads fastest. (variant / 1000)
/// % 10 == 1 builds the wgmma descriptors once per GEMM (kHoist) in kernel
/// 8, 2 forces them per wgmma (the default: kDefaultHoist). The runtime
/// build instantiates kernel 8 only (with and without kHoist; any other
/// kernel digit runs it); CPRT_HOPPER_ALL_VARIANTS (the bench) builds all.
constexpr int kDefaultKernel = 8; // docs/hopper.md, 2026-12-02 sweep
constexpr bool kDefaultHoist = false;
template <bool ACC>
cudaError_t launchVariant(int variant, const CUtensorMap (&maps)[3], const Params &p, dim3 grid,
                          cudaStream_t s) {
  constexpr int kO = kOverlap, kP = kPingPong, kS = kSkipRescale;
  const int hoistDigit = (variant / 1000) % 10;
  const bool hoist = hoistDigit == 1 || (hoistDigit == 0 && kDefaultHoist);
  const int kernel = variant % 10 == 0 ? kDefaultKernel : variant % 10;
  if (kernel == 8) {
    return hoist ? launch<2, kO | kP | kS | kHoist, ACC>(maps, p, grid, s)
                 : launch<2, kO | kP | kS, ACC>(maps, p, grid, s);
  }
#ifdef CPRT_HOPPER_ALL_VARIANTS
  switch (kernel) {
  case 1: return launch<2, 0, ACC>(maps, p, grid, s);
  case 2: return launch<2, kO, ACC>(maps, p, grid, s);
  case 4: return launch<2, kO | kP, ACC>(maps, p, grid, s);
  case 5: return launch<3, kO | kP, ACC>(maps, p, grid, s);
  case 6: return launch<2, kO | kS, ACC>(maps, p, grid, s);
  case 7: return launch<3, kO | kS, ACC>(maps, p, grid, s);
  case 9: return launch<3, kO | kP | kS, ACC>(maps, p, grid, s);
  default: return launch<3, kO, ACC>(maps, p, grid, s);
  }
#else
  return launch<2, kO | kP | kS, ACC>(maps, p, grid, s);
#endif
}

bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

} // namespace

const char *unsupportedReason(const FwdArgs &a) {
  if (a.D != kD) return "head dim must be 128";
  if (a.B <= 0 || a.Hq <= 0 || a.Hkv <= 0 || a.Sq <= 0 || a.Skv <= 0) return "empty shape";
  if (a.Hq % a.Hkv != 0) return "Hq must be a multiple of Hkv";
  if (a.Sq >= (int64_t(1) << 30) || a.Skv >= (int64_t(1) << 30)) return "sequence too long";
  if (a.Hq > 65535 || a.B > 65535) return "too many heads or batches";
  if (!a.q || !a.k || !a.v || !a.out || !a.lse) return "null pointer";
  if (!aligned16(a.q) || !aligned16(a.k) || !aligned16(a.v) || !aligned16(a.out))
    return "tensors must be 16-byte aligned";
  if (a.kEnd > a.Skv) return "kEnd beyond Skv";
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess)
    return "no CUDA device";
  if (major != 9 || minor != 0) return "needs an sm_90 (Hopper) device";
  if (!encodeFn()) return "cuTensorMapEncodeTiled unavailable";
  return nullptr;
}

cudaError_t attentionForward(const FwdArgs &a, cudaStream_t s) {
  if (unsupportedReason(a)) return cudaErrorInvalidValue;
  CUtensorMap maps[3];
  if (!makeMap(&maps[0], a.q, a.Sq, a.B * a.Hq) || !makeMap(&maps[1], a.k, a.Skv, a.B * a.Hkv) ||
      !makeMap(&maps[2], a.v, a.Skv, a.B * a.Hkv))
    return cudaErrorInvalidValue;
  Params p;
  p.out = a.out;
  p.lse = a.lse;
  p.Hq = int(a.Hq);
  p.hRatio = int(a.Hq / a.Hkv);
  p.Sq = int(a.Sq);
  p.scaleLog2 = a.scale * kLog2e;
  p.rowBegin = int(std::max<int64_t>(0, std::min<int64_t>(a.rowBegin, a.Sq)));
  p.kEnd = int(a.kEnd < 0 ? a.Skv : a.kEnd);
  p.diag = a.diag;
  p.diagShift = int(std::max<int64_t>(-(int64_t(1) << 30), std::min<int64_t>(a.diagShift, int64_t(1) << 30)));
  const bool swap = (a.variant / 10) % 10 == 1;
  p.vLbo = swap ? 1024u : uint32_t(kHalfBytes); // next 64 d columns: the other half
  p.vSbo = swap ? uint32_t(kHalfBytes) : 1024u; // next 8 keys: next swizzle atom
  const int order = (a.variant / 100) % 10;
  const unsigned mBlocks = unsigned((a.Sq + kBM - 1) / kBM);
  p.headsFastest = (order == 2 || (order == 0 && a.diag)) && mBlocks <= 65535;
  const dim3 grid = p.headsFastest ? dim3(unsigned(a.Hq), mBlocks, unsigned(a.B))
                                   : dim3(mBlocks, unsigned(a.Hq), unsigned(a.B));
  return a.accumulate ? launchVariant<true>(a.variant, maps, p, grid, s)
                      : launchVariant<false>(a.variant, maps, p, grid, s);
}

} // namespace cprt::cuda::hopper
