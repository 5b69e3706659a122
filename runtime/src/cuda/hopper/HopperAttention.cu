//===- HopperAttention.cu - sm_90a attention forward (wgmma + TMA) --------===//
//
// One CTA = one (batch, query head, 128-row query block); 384 threads in
// three warpgroups. Templated over the element type (bf16 or fp16: the
// wgmma type suffix, the P packing, the TMA data type, the stored O) and the
// head dim (64, 128, 256; Cfg below). Warpgroup 0 is the producer: after
// giving most of its registers back (setmaxnreg) one thread issues the TMA
// loads, Q once and then K and V tiles of kBN keys into a STAGES-deep ring
// of shared-memory buffers; each load completes on its "full" mbarrier and
// each buffer is handed back through an "empty" mbarrier. Warpgroups 1 and 2 are the
// consumers, 64 query rows each: S = Q K^T with wgmma from shared memory
// (both operands K-major, 128-byte swizzle as TMA writes it), the online
// softmax on the fp32 accumulators in registers (log2 domain, exp2), and
// O += P V with P as the register A operand and V read N-major (transposed)
// from shared memory. The overlapped loop issues the next S = Q K^T with
// this tile's O += P V and does the softmax while the tensor cores run (FA3's
// intra-warpgroup overlap); ping-pong also alternates the two consumer
// warpgroups' GEMM issue through named barriers (FA3's inter-warpgroup
// schedule). The epilogue writes O (the input type) and the natural-log
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
#include <type_traits>

namespace cprt::cuda::hopper {
namespace {

constexpr int kBM = 128;      // query rows per CTA (64 per consumer warpgroup)
constexpr int kThreads = 384; // producer + 2 consumer warpgroups
constexpr int kConsumerWarps = 8;
constexpr uint32_t kPanelRowBytes = 128; // one row of a 64-column SW128 panel
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

/// Compile-time configuration: element type T (__nv_bfloat16 or __half) and
/// head dim D. Tiles are stored as D / 64 panels of 64 columns (128-B rows,
/// one TMA box each, SW128). Keys per tile: 128, but 64 at D = 256 (FA3
/// shrinks the tile there too: O alone takes 128 registers a thread, and
/// Q + 2 stages of 128-key K and V would need 320 KB of shared memory).
/// Registers and shared memory per instantiation: above kDefaultKernel.
template <typename T, int D> struct Cfg {
  static_assert(D == 64 || D == 128 || D == 256, "head dim must be 64, 128 or 256");
  static constexpr bool kF16 = std::is_same_v<T, __half>;
  static constexpr int kD = D;
  static constexpr int kBN = D == 256 ? 64 : 128; // keys per tile
  static constexpr int kPanels = D / 64;
  static constexpr uint32_t kQPanel = kBM * kPanelRowBytes; // bytes of one Q panel
  static constexpr uint32_t kKPanel = kBN * kPanelRowBytes; // ... of one K or V panel
  static constexpr uint32_t kQBytes = kQPanel * kPanels;
  static constexpr uint32_t kKVBytes = kKPanel * kPanels;
  static constexpr int kSRegs = kBN / 2; // score accumulators a thread (64 x kBN)
  static constexpr int kORegs = D / 2;   // output accumulators a thread (64 x D)
  static constexpr int kPRegs = kBN / 4; // P as packed 16-bit pairs (wgmma A fragments)
};

struct Params {
  void *out;
  float *lse;
  int Hq, hRatio, Sq;
  float scaleLog2;
  int rowBegin, kEnd, diag, diagShift;
  uint32_t vLbo, vSbo; // V (N-major) descriptor strides
  int headsFastest;    // grid (heads, query blocks, B) instead of (blocks, heads, B)
};

/// Dynamic shared memory of the kernel with ST stages (Layout<C, ST>), and
/// sm_90's opt-in limit per block (227 KB).
template <class C> constexpr size_t smemBytes(int st) {
  return C::kQBytes + 2 * st * C::kKVBytes + 8 * (1 + 4 * st) + 1024; // + alignment slack
}
constexpr size_t kSmemLimit = 227 * 1024;

/// Shared memory: Q | K[STAGES] | V[STAGES] | mbarriers, from a 1024-B
/// aligned base. Barriers: Q, fullK[s], fullV[s], emptyK[s], emptyV[s]: a K
/// buffer goes back as soon as its S = Q K^T is done, a V buffer after P V.
template <class C, int ST> struct Layout {
  static constexpr uint32_t kQ = 0;
  static __device__ __forceinline__ uint32_t k(int s) { return C::kQBytes + s * C::kKVBytes; }
  static __device__ __forceinline__ uint32_t v(int s) {
    return C::kQBytes + (ST + s) * C::kKVBytes;
  }
  static constexpr uint32_t kBars = C::kQBytes + 2 * ST * C::kKVBytes;
  static __device__ __forceinline__ uint32_t barQ() { return kBars; }
  static __device__ __forceinline__ uint32_t fullK(int s) { return kBars + 8 * (1 + s); }
  static __device__ __forceinline__ uint32_t fullV(int s) { return kBars + 8 * (1 + ST + s); }
  static __device__ __forceinline__ uint32_t emptyK(int s) { return kBars + 8 * (1 + 2 * ST + s); }
  static __device__ __forceinline__ uint32_t emptyV(int s) { return kBars + 8 * (1 + 3 * ST + s); }
  static constexpr size_t kBytes = smemBytes<C>(ST);
  static_assert(kBytes == kBars + 8 * (1 + 4 * ST) + 1024, "smemBytes and Layout disagree");
};

__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
/// Two floats rounded to a packed pair of T (round to nearest even).
template <typename T> __device__ __forceinline__ uint32_t pack2(float a, float b) {
  if constexpr (std::is_same_v<T, __half>) {
    __half2 v = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&v);
  } else {
    __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&v);
  }
}

/// Key tiles the query block [m0, m0 + kBM) must visit (from key 0).
template <int BN> __device__ __forceinline__ int numKeyTiles(const Params &p, int m0) {
  int kLimit = p.kEnd;
  if (p.diag) kLimit = min(kLimit, m0 + kBM - p.diagShift);
  if (m0 + kBM <= p.rowBegin) kLimit = 0;
  return kLimit > 0 ? (kLimit + BN - 1) / BN : 0;
}

/// True when some element of the tile (query block m0, keys from n0) is hidden.
template <int BN> __device__ __forceinline__ bool tileNeedsMask(const Params &p, int m0, int n0) {
  return n0 + BN > p.kEnd || m0 < p.rowBegin || (p.diag && n0 + BN - 1 > m0 - p.diagShift);
}

// ---------------------------------------------------------------------------
// Producer: one thread issues every TMA load.
// ---------------------------------------------------------------------------
/// A tile of `rows` rows: one TMA box per 64-column panel, all on `bar`.
template <class C>
__device__ __forceinline__ void loadPanels(uint32_t dst, uint32_t panelBytes, const CUtensorMap *m,
                                           uint32_t bar, int row, int z) {
#pragma unroll
  for (int pn = 0; pn < C::kPanels; ++pn) tmaLoad3d(dst + pn * panelBytes, m, bar, 64 * pn, row, z);
}

template <class C, int ST>
__device__ void produce(const CUtensorMap *tq, const CUtensorMap *tk, const CUtensorMap *tv,
                        uint32_t base, int m0, int zq, int zkv, int nTiles) {
  using L = Layout<C, ST>;
  mbarArriveExpectTx(base + L::barQ(), C::kQBytes);
  loadPanels<C>(base + L::kQ, C::kQPanel, tq, base + L::barQ(), m0, zq);
  int stage = 0;
  uint32_t phase = 0;
  for (int t = 0; t < nTiles; ++t) {
    const int n0 = t * C::kBN;
    const uint32_t fk = base + L::fullK(stage), fv = base + L::fullV(stage);
    if (t >= ST) mbarWait(base + L::emptyK(stage), phase ^ 1);
    mbarArriveExpectTx(fk, C::kKVBytes);
    loadPanels<C>(base + L::k(stage), C::kKPanel, tk, fk, n0, zkv);
    if (t >= ST) mbarWait(base + L::emptyV(stage), phase ^ 1);
    mbarArriveExpectTx(fv, C::kKVBytes);
    loadPanels<C>(base + L::v(stage), C::kKPanel, tv, fv, n0, zkv);
    if (++stage == ST) {
      stage = 0;
      phase ^= 1;
    }
  }
}

// ---------------------------------------------------------------------------
// Consumer building blocks (one warpgroup, 64 query rows)
// ---------------------------------------------------------------------------
/// s = Q K^T for this warpgroup's 64 rows and one kBN-key tile (issued, not
/// waited for). Both tiles are [rows][D] as D / 64 swizzled 64-column panels;
/// k-step kk reads 16 columns: panel kk / 4, 32 B into its 128-B rows.
/// HOIST: descriptors built once per GEMM, advanced by descAt (d38a1bd).
template <class C, bool HOIST>
__device__ __forceinline__ void issueQK(float (&s)[C::kSRegs], uint32_t qAddr, uint32_t kAddr) {
  wgmmaFence();
  const SmemDesc dq = smemDescHalves(qAddr, 16, 1024), dk = smemDescHalves(kAddr, 16, 1024);
#pragma unroll
  for (int kk = 0; kk < C::kD / 16; ++kk) {
    const uint32_t offQ = (kk >> 2) * C::kQPanel + (kk & 3) * 32;
    const uint32_t offK = (kk >> 2) * C::kKPanel + (kk & 3) * 32;
    if constexpr (HOIST)
      wgmmaSS<C::kBN, C::kF16>(s, descAt(dq, offQ), descAt(dk, offK), kk > 0);
    else
      wgmmaSS<C::kBN, C::kF16>(s, smemDesc(qAddr + offQ, 16, 1024),
                               smemDesc(kAddr + offK, 16, 1024), kk > 0);
  }
  wgmmaCommit();
}

/// o += P V: P (T pairs, registers) is 64 x kBN keys, V the [keys][D] tile
/// read N-major; k-step kk = the next 16 keys (two 1024-B swizzle atoms).
template <class C, bool HOIST>
__device__ __forceinline__ void issuePV(float (&o)[C::kORegs], const uint32_t (&pf)[C::kPRegs],
                                        uint32_t vAddr, const Params &p) {
  wgmmaFence();
  const SmemDesc dv = smemDescHalves(vAddr, p.vLbo, p.vSbo);
#pragma unroll
  for (int kk = 0; kk < C::kBN / 16; ++kk)
    wgmmaRS<C::kD, C::kF16>(
        o, pf[4 * kk], pf[4 * kk + 1], pf[4 * kk + 2], pf[4 * kk + 3],
        HOIST ? descAt(dv, kk * 16 * 128) : smemDesc(vAddr + kk * 16 * 128, p.vLbo, p.vSbo));
  wgmmaCommit();
}

struct Rows {
  float m[2], l[2]; // running max (log2 domain) and this thread's partial sum
};

/// Online softmax of one tile in place: s becomes exp2(s * scaleLog2 - m).
/// Thread rows: i0 and i0 + 8 (accumulator elements e >> 1); columns
/// n0 + 8 * jt + 2 * (lane & 3) + (e & 1).
template <int NS, bool MASK>
__device__ __forceinline__ void softmaxTile(float (&s)[NS], float (&alpha)[2], Rows &rs,
                                            const Params &p, int i0, int n0, int lane) {
  if constexpr (MASK) {
#pragma unroll
    for (int x = 0; x < NS; ++x) {
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
    for (int jt = 0; jt < NS / 4; ++jt)
      mx = fmaxf(mx, fmaxf(s[4 * jt + 2 * r], s[4 * jt + 2 * r + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
    const float mNew = fmaxf(rs.m[r], mx * p.scaleLog2);
    const float mUse = mNew == -INFINITY ? 0.f : mNew;
    alpha[r] = fastExp2(rs.m[r] - mUse);
    rs.m[r] = mNew;
    float sum = 0.f;
#pragma unroll
    for (int jt = 0; jt < NS / 4; ++jt) {
      float &a = s[4 * jt + 2 * r], &b = s[4 * jt + 2 * r + 1];
      a = fastExp2(fmaf(a, p.scaleLog2, -mUse));
      b = fastExp2(fmaf(b, p.scaleLog2, -mUse));
      sum += a + b;
    }
    rs.l[r] = rs.l[r] * alpha[r] + sum;
  }
}

template <int NS>
__device__ __forceinline__ void softmaxAny(float (&s)[NS], float (&alpha)[2], Rows &rs,
                                           const Params &p, int m0, int i0, int n0, int lane) {
  if (tileNeedsMask<2 * NS>(p, m0, n0))
    softmaxTile<NS, true>(s, alpha, rs, p, i0, n0, lane);
  else
    softmaxTile<NS, false>(s, alpha, rs, p, i0, n0, lane);
}

/// o *= alpha (per row); P = T(s) in the wgmma register-A layout.
/// SKIP: alpha is exactly 1 where a row's max did not move, so a warp whose
/// 16 rows all kept their max skips the 64 multiplies (most tiles, late in
/// a long row).
template <class C, bool SKIP>
__device__ __forceinline__ void rescaleAndPack(float (&o)[C::kORegs], uint32_t (&pf)[C::kPRegs],
                                               const float (&s)[C::kSRegs],
                                               const float (&alpha)[2]) {
  using T = std::conditional_t<C::kF16, __half, __nv_bfloat16>;
  if (!SKIP || __any_sync(0xffffffff, alpha[0] != 1.f || alpha[1] != 1.f)) {
#pragma unroll
    for (int x = 0; x < C::kORegs; ++x) o[x] *= alpha[(x >> 1) & 1];
  }
#pragma unroll
  for (int kk = 0; kk < C::kBN / 16; ++kk) {
    pf[4 * kk + 0] = pack2<T>(s[8 * kk + 0], s[8 * kk + 1]);
    pf[4 * kk + 1] = pack2<T>(s[8 * kk + 2], s[8 * kk + 3]);
    pf[4 * kk + 2] = pack2<T>(s[8 * kk + 4], s[8 * kk + 5]);
    pf[4 * kk + 3] = pack2<T>(s[8 * kk + 6], s[8 * kk + 7]);
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

/// Normalised O (type T) and the natural-log LSE (rows with l == 0: 0, -inf).
template <typename T, int D>
__device__ void storeOut(const Params &p, const float (&o)[D / 2], const Rows &rs, int64_t bh,
                         int i0, int lane) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float l = quadSum(rs.l[r]);
    const int i = i0 + 8 * r;
    if (i >= p.Sq) continue;
    const float inv = l > 0.f ? 1.f / l : 0.f;
    T *row = static_cast<T *>(p.out) + (bh * p.Sq + i) * D + (lane & 3) * 2;
#pragma unroll
    for (int jt = 0; jt < D / 8; ++jt)
      *reinterpret_cast<uint32_t *>(row + 8 * jt) =
          pack2<T>(o[4 * jt + 2 * r] * inv, o[4 * jt + 2 * r + 1] * inv);
    if ((lane & 3) == 0)
      p.lse[bh * p.Sq + i] = l > 0.f ? (rs.m[r] + log2f(l)) * kLn2 : -INFINITY;
  }
}

/// Merges (o / l, lse_b) into the fp32 partial (out, lse): lse' =
/// logaddexp(lse, lse_b), out' = out * e^(lse - lse') + o_b * e^(lse_b - lse').
/// Rows with l == 0 keep the partial untouched.
template <int D>
__device__ void mergeOut(const Params &p, const float (&o)[D / 2], const Rows &rs, int64_t bh,
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
    float *row = static_cast<float *>(p.out) + (bh * p.Sq + i) * D + (lane & 3) * 2;
    float wa = 0.f, wb = 1.f / l[r], lNew = lb;
    if (la[r] != -INFINITY) {
      const float mx = fmaxf(la[r], lb);
      lNew = mx + log1pf(expf(fminf(la[r], lb) - mx));
      wa = expf(la[r] - lNew);
      wb = expf(lb - lNew) / l[r];
    }
#pragma unroll
    for (int jt = 0; jt < D / 8; ++jt) {
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
template <class C> struct Consumer {
  uint32_t base, qAddr;
  int m0, i0, lane, cw;
  float o[C::kORegs], s[C::kSRegs], alpha[2];
  uint32_t pf[C::kPRegs];
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
template <class C, int ST>
__device__ void consumeSerial(Consumer<C> &c, const Params &p, int nTiles) {
  using L = Layout<C, ST>;
  int stage = 0;
  uint32_t phase = 0;
  for (int t = 0; t < nTiles; ++t) {
    mbarWait(c.base + L::fullK(stage), phase);
    issueQK<C, false>(c.s, c.qAddr, c.base + L::k(stage));
    wgmmaWait<0>();
    fenceRegs(c.s);
    releaseStage(c.base + L::emptyK(stage), c.lane);
    softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, t * C::kBN, c.lane);
    rescaleAndPack<C, false>(c.o, c.pf, c.s, c.alpha);
    mbarWait(c.base + L::fullV(stage), phase);
    issuePV<C, false>(c.o, c.pf, c.base + L::v(stage), p);
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
template <class C, int ST, bool PP, bool SKIP, bool HOIST>
__device__ void consumeOverlap(Consumer<C> &c, const Params &p, int nTiles) {
  using L = Layout<C, ST>;
  if (PP && c.cw == 1) turnPass<PP>(1); // warpgroup 0 goes first
  turnWait<PP>(c.cw);
  mbarWait(c.base + L::fullK(0), 0);
  issueQK<C, HOIST>(c.s, c.qAddr, c.base + L::k(0));
  turnPass<PP>(c.cw);
  wgmmaWait<0>();
  fenceRegs(c.s);
  releaseStage(c.base + L::emptyK(0), c.lane);
  softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, 0, c.lane);
  rescaleAndPack<C, false>(c.o, c.pf, c.s, c.alpha);
  int prev = 0, stage = 0;
  uint32_t prevPhase = 0, phase = 0;
  for (int t = 1; t < nTiles; ++t) {
    if (++stage == ST) {
      stage = 0;
      phase ^= 1;
    }
    turnWait<PP>(c.cw);
    mbarWait(c.base + L::fullK(stage), phase);
    issueQK<C, HOIST>(c.s, c.qAddr, c.base + L::k(stage));
    mbarWait(c.base + L::fullV(prev), prevPhase);
    issuePV<C, HOIST>(c.o, c.pf, c.base + L::v(prev), p);
    turnPass<PP>(c.cw);
    wgmmaWait<1>();
    fenceRegs(c.s);
    releaseStage(c.base + L::emptyK(stage), c.lane);
    softmaxAny(c.s, c.alpha, c.rs, p, c.m0, c.i0, t * C::kBN, c.lane);
    wgmmaWait<0>();
    fenceRegs(c.o);
    fenceRegs(c.pf);
    releaseStage(c.base + L::emptyV(prev), c.lane);
    rescaleAndPack<C, SKIP>(c.o, c.pf, c.s, c.alpha);
    prev = stage;
    prevPhase = phase;
  }
  turnWait<PP>(c.cw);
  mbarWait(c.base + L::fullV(prev), prevPhase);
  issuePV<C, HOIST>(c.o, c.pf, c.base + L::v(prev), p);
  if (c.cw == 0) turnPass<PP>(c.cw); // warpgroup 1 takes no further turn
  wgmmaWait<0>();
  fenceRegs(c.o);
  releaseStage(c.base + L::emptyV(prev), c.lane);
}

/// MODE: 0 serial, else the bits kOverlap (always set), kPingPong, kSkipRescale,
/// kHoist (descriptors built once per GEMM).
constexpr int kOverlap = 1, kPingPong = 2, kSkipRescale = 4, kHoist = 8;
template <class C, int ST, int MODE, bool ACC>
__device__ void consume(const Params &p, uint32_t base, int m0, int64_t bh, int nTiles, int cw) {
  using T = std::conditional_t<C::kF16, __half, __nv_bfloat16>;
  Consumer<C> c;
  const int ctid = threadIdx.x - 128 * (1 + cw);
  c.base = base;
  c.m0 = m0;
  c.cw = cw;
  c.lane = ctid & 31;
  c.i0 = m0 + cw * 64 + (ctid >> 5) * 16 + (c.lane >> 2);
  // this warpgroup's 64 rows (in every panel)
  c.qAddr = base + Layout<C, ST>::kQ + cw * 64 * kPanelRowBytes;
#pragma unroll
  for (int x = 0; x < C::kORegs; ++x) c.o[x] = 0.f;
#pragma unroll
  for (int x = 0; x < C::kSRegs; ++x) c.s[x] = 0.f;
  c.rs = Rows{{-INFINITY, -INFINITY}, {0.f, 0.f}};
  mbarWait(base + Layout<C, ST>::barQ(), 0);
  if constexpr (MODE == 0)
    consumeSerial<C, ST>(c, p, nTiles);
  else
    consumeOverlap<C, ST, (MODE & kPingPong) != 0, (MODE & kSkipRescale) != 0,
                   (MODE & kHoist) != 0>(c, p, nTiles);
  if constexpr (ACC)
    mergeOut<C::kD>(p, c.o, c.rs, bh, c.i0, c.lane);
  else
    storeOut<T, C::kD>(p, c.o, c.rs, bh, c.i0, c.lane);
}

/// Query block that sees no key: out = 0, lse = -inf (non-accumulating only).
template <int D> __device__ void storeEmpty(const Params &p, int64_t bh, int m0) {
  const int rows = min(kBM, p.Sq - m0);
  uint16_t *out = static_cast<uint16_t *>(p.out) + (bh * p.Sq + m0) * D;
  for (int x = threadIdx.x; x < rows * D / 2; x += blockDim.x)
    reinterpret_cast<uint32_t *>(out)[x] = 0u;
  for (int r = threadIdx.x; r < rows; r += blockDim.x) p.lse[bh * p.Sq + m0 + r] = -INFINITY;
}

template <class C, int ST, int MODE, bool ACC>
__global__ void __launch_bounds__(kThreads, 1)
    fwdKernel(const __grid_constant__ CUtensorMap tmQ, const __grid_constant__ CUtensorMap tmK,
              const __grid_constant__ CUtensorMap tmV, const Params p) {
  using L = Layout<C, ST>;
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
  const int nTiles = numKeyTiles<C::kBN>(p, m0);
  if (nTiles == 0) { // CTA-uniform
    if constexpr (!ACC) storeEmpty<C::kD>(p, bh, m0);
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
    if (threadIdx.x == 0) produce<C, ST>(&tmQ, &tmK, &tmV, base, m0, int(bh), zkv, nTiles);
  } else {
    regAlloc<240>();
    consume<C, ST, MODE, ACC>(p, base, m0, bh, nTiles, threadIdx.x / 128 - 1);
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

/// Tensor map over a contiguous 16-bit (bf16 or fp16: f16) [bh][rows][d]
/// tensor, box 64 x boxRows x 1 (one panel), 128-byte swizzle; rows past the
/// end read as zeros.
bool makeMap(CUtensorMap *m, const void *ptr, int64_t rows, int64_t bh, int64_t d, int boxRows,
             bool f16) {
  auto enc = encodeFn();
  if (!enc) return false;
  const cuuint64_t dims[3] = {cuuint64_t(d), cuuint64_t(rows), cuuint64_t(bh)};
  const cuuint64_t strides[2] = {cuuint64_t(d) * 2, cuuint64_t(rows) * d * 2};
  const cuuint32_t box[3] = {64, cuuint32_t(boxRows), 1};
  const cuuint32_t estr[3] = {1, 1, 1};
  return enc(m, f16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3,
             const_cast<void *>(ptr), dims, strides, box,
             estr, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <class C, int ST, int MODE, bool ACC>
cudaError_t launch(const CUtensorMap (&maps)[3], const Params &p, dim3 grid, cudaStream_t s) {
  auto kern = fwdKernel<C, ST, MODE, ACC>;
  constexpr size_t bytes = Layout<C, ST>::kBytes;
  static_assert(bytes <= kSmemLimit, "shared memory over the sm_90 227 KB limit");
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
/// 8, 2 forces them per wgmma (the default: kDefaultHoist). Every (type, head
/// dim) instantiates kernel 8 (with and without kHoist) and kernel 9 where 3
/// stages fit in shared memory (D = 64, 128: 3-stage pipelining is the knob
/// most likely to matter at D = 64, whose tiles take half the tensor time);
/// any other kernel digit runs kernel 8. CPRT_HOPPER_ALL_VARIANTS (the
/// bench) builds all the kernels for bf16 D = 128, the configuration they
/// were swept on.
///
/// Resources of kernel 8 (ptxas -v, nvcc 13.0, sm_90a, 2026-12-02; every
/// instantiation, ACC and kHoist included, bf16 and fp16 alike): 168
/// registers (the launch allocation: __launch_bounds__(384, 1) caps it
/// there; the consumers then setmaxnreg to 240, the producer to 24), 0 bytes
/// spilled, no stack, 16 named barriers. Dynamic shared memory
/// (Layout<C, 2>::kBytes, limit 227 KB = 232,448 B):
///   D = 64  (128-key tiles): 83,016 B (kernel 9, 3 stages: 115,816 B)
///   D = 128 (128-key tiles): 164,936 B (kernel 9: 230,504 B)
///   D = 256 ( 64-key tiles): 197,704 B (3 stages would need 263,272 B)
constexpr int kDefaultKernel = 8; // docs/hopper.md, 2026-12-02 sweep
constexpr bool kDefaultHoist = false;
#ifdef CPRT_HOPPER_ALL_VARIANTS
constexpr bool kAllVariants = true;
#else
constexpr bool kAllVariants = false;
#endif

template <class C, bool ACC>
cudaError_t launchVariant(int variant, const CUtensorMap (&maps)[3], const Params &p, dim3 grid,
                          cudaStream_t s) {
  constexpr int kO = kOverlap, kP = kPingPong, kS = kSkipRescale;
  const int hoistDigit = (variant / 1000) % 10;
  const bool hoist = hoistDigit == 1 || (hoistDigit == 0 && kDefaultHoist);
  const int kernel = variant % 10 == 0 ? kDefaultKernel : variant % 10;
  constexpr bool kSweep =
      kAllVariants && std::is_same_v<C, Cfg<__nv_bfloat16, 128>>; // every kernel digit
  if constexpr (smemBytes<C>(3) <= kSmemLimit) {
    if (kernel == 9) return launch<C, 3, kO | kP | kS, ACC>(maps, p, grid, s);
  }
  if (kernel == 8 || !kSweep) {
    return hoist ? launch<C, 2, kO | kP | kS | kHoist, ACC>(maps, p, grid, s)
                 : launch<C, 2, kO | kP | kS, ACC>(maps, p, grid, s);
  }
  if constexpr (kSweep) {
    switch (kernel) {
    case 1: return launch<C, 2, 0, ACC>(maps, p, grid, s);
    case 2: return launch<C, 2, kO, ACC>(maps, p, grid, s);
    case 4: return launch<C, 2, kO | kP, ACC>(maps, p, grid, s);
    case 5: return launch<C, 3, kO | kP, ACC>(maps, p, grid, s);
    case 6: return launch<C, 2, kO | kS, ACC>(maps, p, grid, s);
    case 7: return launch<C, 3, kO | kS, ACC>(maps, p, grid, s);
    default: return launch<C, 3, kO, ACC>(maps, p, grid, s);
    }
  }
  return cudaErrorInvalidValue; // not reached
}

/// The instantiation for the element type (f16: fp16, else bf16) and head dim.
template <bool ACC>
cudaError_t launchConfig(bool f16, int64_t d, int variant, const CUtensorMap (&maps)[3],
                         const Params &p, dim3 grid, cudaStream_t s) {
  using Bf = __nv_bfloat16;
  switch (d) {
  case 64:
    return f16 ? launchVariant<Cfg<__half, 64>, ACC>(variant, maps, p, grid, s)
               : launchVariant<Cfg<Bf, 64>, ACC>(variant, maps, p, grid, s);
  case 128:
    return f16 ? launchVariant<Cfg<__half, 128>, ACC>(variant, maps, p, grid, s)
               : launchVariant<Cfg<Bf, 128>, ACC>(variant, maps, p, grid, s);
  case 256:
    return f16 ? launchVariant<Cfg<__half, 256>, ACC>(variant, maps, p, grid, s)
               : launchVariant<Cfg<Bf, 256>, ACC>(variant, maps, p, grid, s);
  default: return cudaErrorInvalidValue;
  }
}

/// Keys per K / V tile at head dim d (Cfg::kBN).
int keysPerTile(int64_t d) { return d == 256 ? Cfg<__nv_bfloat16, 256>::kBN : 128; }

bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

} // namespace

const char *unsupportedReason(const FwdArgs &a) {
  if (a.D != 64 && a.D != 128 && a.D != 256) return "head dim must be 64, 128 or 256";
  if (a.dtype != 1 && a.dtype != 2) return "q, k and v must be bf16 (1) or fp16 (2)";
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
  const bool f16 = a.dtype == 2;
  const int bn = keysPerTile(a.D);
  CUtensorMap maps[3];
  if (!makeMap(&maps[0], a.q, a.Sq, a.B * a.Hq, a.D, kBM, f16) ||
      !makeMap(&maps[1], a.k, a.Skv, a.B * a.Hkv, a.D, bn, f16) ||
      !makeMap(&maps[2], a.v, a.Skv, a.B * a.Hkv, a.D, bn, f16))
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
  // V read N-major: the next 64 d columns are the next panel (LBO), the next
  // 8 keys the next 1024-B swizzle atom (SBO).
  const bool swap = (a.variant / 10) % 10 == 1;
  const uint32_t vPanel = uint32_t(bn) * kPanelRowBytes;
  p.vLbo = swap ? 1024u : vPanel;
  p.vSbo = swap ? vPanel : 1024u;
  const int order = (a.variant / 100) % 10;
  const unsigned mBlocks = unsigned((a.Sq + kBM - 1) / kBM);
  p.headsFastest = (order == 2 || (order == 0 && a.diag)) && mBlocks <= 65535;
  const dim3 grid = p.headsFastest ? dim3(unsigned(a.Hq), mBlocks, unsigned(a.B))
                                   : dim3(mBlocks, unsigned(a.Hq), unsigned(a.B));
  return a.accumulate ? launchConfig<true>(f16, a.D, a.variant, maps, p, grid, s)
                      : launchConfig<false>(f16, a.D, a.variant, maps, p, grid, s);
}

} // namespace cprt::cuda::hopper
