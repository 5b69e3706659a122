//===- FlashForward.cu - FA2-style forward with mma.sync -------------------===//
//
// One CTA = one (batch, query head, BM-row query block); each warp owns 16
// query rows. K/V tiles of BN rows stream through double-buffered shared
// memory (cp.async) while the online softmax keeps m, l and O in registers.
// Scores live in the log2 domain (scale * log2 e folded in) so the inner loop
// uses exp2. Returns out (any storage type) and the natural-log LSE.
// Accumulate mode (ACC, fp32 out) merges the normalised block result into
// the partial (out, lse) in the epilogue instead of overwriting it.
//
//===----------------------------------------------------------------------===//
#include "FlashCommon.cuh"
#include "FlashKernels.h"
#include "CudaCheck.h"
#ifdef CPRT_HAVE_HOPPER_FWD
#include "hopper/HopperAttention.h"
#endif

#include <atomic>
#include <cmath>
#include <cstdlib>

namespace cprt::cuda {
namespace {

struct FwdParams {
  const void *q, *k, *v;
  void *out;
  float *lse;
  int64_t qS[3], kS[3], vS[3], oS[3];
  int64_t Hq, Hkv, Sq, Skv;
  float scaleLog2;
  StepRanges step;
  DevMask mask;
};

__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

/// MT = 16-row m-tiles per warp: with MT = 2 every K/V fragment read from
/// shared memory feeds twice as many mma (shared-memory bandwidth, not the
/// tensor cores, bounds mma.sync attention at 16 rows per warp).
/// ACC: merge into the fp32 partial (out, lse) (ForwardArgs::accumulate);
/// only the epilogue differs.
/// MINB: minimum resident CTAs per SM (register budget); FL: tuning flags,
/// kSkipRescale (skip O *= alpha when no row max of the warp moved).
constexpr int kSkipRescale = 1;
template <typename T, typename OutT, int D, int W, int BN, int MT, bool ACC, int MINB = 1,
          int FL = 0>
__global__ void __launch_bounds__(W * 32, MINB) flashFwdKernel(const FwdParams p) {
  static_assert(!ACC || std::is_same_v<OutT, float>, "accumulate needs an fp32 out");
  constexpr int BM = 16 * W * MT;
  constexpr int NT = W * 32;
  constexpr bool kQInRegs = D <= 128 && MT == 1;
  extern __shared__ __align__(128) unsigned char smem[];
  T *sQ = reinterpret_cast<T *>(smem);
  T *sK = sQ + BM * D;     // 2 buffers
  T *sV = sK + 2 * BN * D; // 2 buffers

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int64_t m0 = int64_t(gridDim.x - 1 - blockIdx.x) * BM; // long rows first
  const int64_t h = blockIdx.y, b = blockIdx.z;
  const int64_t hk = h / (p.Hq / p.Hkv);
  const T *gq = static_cast<const T *>(p.q) + b * p.qS[0] + h * p.qS[1];
  const T *gk = static_cast<const T *>(p.k) + b * p.kS[0] + hk * p.kS[1];
  const T *gv = static_cast<const T *>(p.v) + b * p.vS[0] + hk * p.vS[1];
  OutT *go = static_cast<OutT *>(p.out) + b * p.oS[0] + h * p.oS[1];
  float *glse = p.lse + (b * p.Hq + h) * p.Sq;
  const StepRanges st = p.step;
  const int64_t hb = b * p.mask.maskBStride + h * p.mask.maskHStride;

  int64_t kLimit = st.kEnd;
  if (st.diag) kLimit = min(kLimit, m0 + BM - st.diagShift);
  if (m0 + BM <= st.rowBegin) kLimit = 0;
  const int nTiles = kLimit > 0 ? int((kLimit + BN - 1) / BN) : 0;

  float o[MT][D / 8][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int i = 0; i < D / 8; ++i) o[mt][i][0] = o[mt][i][1] = o[mt][i][2] = o[mt][i][3] = 0.f;
  float mRow[MT][2], lRow[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    mRow[mt][0] = mRow[mt][1] = -INFINITY;
    lRow[mt][0] = lRow[mt][1] = 0.f;
  }
  const int64_t rowW = m0 + warp * 16 * MT + (lane >> 2); // + mt * 16 + r * 8

  if (nTiles > 0) {
    loadTile<BM, D, NT>(sQ, gq, p.qS[2], m0, p.Sq, tid);
    cpAsyncCommit();
    loadTile<BN, D, NT>(sK, gk, p.kS[2], 0, p.Skv, tid);
    loadTile<BN, D, NT>(sV, gv, p.vS[2], 0, p.Skv, tid);
    cpAsyncCommit();

    uint32_t qf[kQInRegs ? D / 16 : 1][4];
    const int aRow = warp * 16 * MT + (lane & 7) + ((lane >> 3) & 1) * 8; // + mt * 16
    const int aChunk = lane >> 4;

    for (int t = 0; t < nTiles; ++t) {
      const int buf = t & 1;
      if (t + 1 < nTiles) {
        loadTile<BN, D, NT>(sK + (buf ^ 1) * BN * D, gk, p.kS[2], int64_t(t + 1) * BN, p.Skv,
                            tid);
        loadTile<BN, D, NT>(sV + (buf ^ 1) * BN * D, gv, p.vS[2], int64_t(t + 1) * BN, p.Skv,
                            tid);
        cpAsyncCommit();
        cpAsyncWait<1>();
      } else {
        cpAsyncWait<0>();
      }
      __syncthreads();
      if (kQInRegs && t == 0) {
#pragma unroll
        for (int kk = 0; kk < (kQInRegs ? D / 16 : 1); ++kk)
          ldsm4(qf[kk], smemAddr(sQ + swz<D>(aRow, kk * 2 + aChunk)));
      }
      const T *tK = sK + buf * BN * D;
      const T *tV = sV + buf * BN * D;
      const int64_t n0 = int64_t(t) * BN;

      // S = Q K^T (16 MT x BN per warp)
      float s[MT][BN / 8][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int i = 0; i < BN / 8; ++i) s[mt][i][0] = s[mt][i][1] = s[mt][i][2] = s[mt][i][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if constexpr (kQInRegs) {
#pragma unroll
            for (int x = 0; x < 4; ++x) a[mt][x] = qf[kk][x];
          } else {
            ldsm4(a[mt], smemAddr(sQ + swz<D>(aRow + mt * 16, kk * 2 + aChunk)));
          }
        }
#pragma unroll
        for (int np = 0; np < BN / 16; ++np) {
          uint32_t bf[4];
          const int r = np * 16 + (lane & 7) + (lane >> 4) * 8;
          ldsm4(bf, smemAddr(tK + swz<D>(r, kk * 2 + ((lane >> 3) & 1))));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma16816<T>(s[mt][2 * np], a[mt], bf[0], bf[1]);
            mma16816<T>(s[mt][2 * np + 1], a[mt], bf[2], bf[3]);
          }
        }
      }

      // Mask (masked tiles are scaled here; others fold the scale into exp2).
      const bool needMask = p.mask.general || n0 + BN > st.kEnd || m0 < st.rowBegin ||
                            (st.diag && n0 + BN - 1 > m0 - st.diagShift);
      const float f = needMask ? 1.f : p.scaleLog2;
      if (needMask && !p.mask.general) {
        // Step behaviour only: 32-bit compares relative to the tile.
        const int i0 = int(rowW - n0);
        constexpr int64_t kBig = 1 << 30;
        const int kEndR = int(min(st.kEnd - n0, int64_t(BN)));
        const int rowBeginR = int(max(min(st.rowBegin - n0, kBig), -kBig));
        const int sqR = int(min(p.Sq - n0, kBig));
        const int shift = st.diag ? st.diagShift : -(1 << 30);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int i = i0 + mt * 16 + (e >> 1) * 8;
              const int j = nt * 8 + (lane & 3) * 2 + (e & 1);
              const bool vis = j < kEndR && i >= rowBeginR && i < sqR && j <= i - shift;
              s[mt][nt][e] = vis ? s[mt][nt][e] * p.scaleLog2 : -INFINITY;
            }
      } else if (needMask) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int64_t i = rowW + mt * 16 + (e >> 1) * 8;
              const int64_t j = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
              bool vis = stepVisible(st, i, j) && i < p.Sq;
              float add = 0.f;
              if (vis && p.mask.general) vis = maskVisible(p.mask, hb, i, j, add);
              s[mt][nt][e] = vis ? s[mt][nt][e] * p.scaleLog2 + add * kLog2e : -INFINITY;
            }
      }

      // Online softmax; rows lane/4 and lane/4 + 8 of every m-tile.
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          float mx = -INFINITY;
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
            mx = fmaxf(mx, fmaxf(s[mt][nt][2 * r], s[mt][nt][2 * r + 1]));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
          const float mNew = fmaxf(mRow[mt][r], mx * f); // log2 domain (scale > 0)
          const float mUse = mNew == -INFINITY ? 0.f : mNew;
          const float alpha = fastExp2(mRow[mt][r] - mUse);
          mRow[mt][r] = mNew;
          float ls = 0.f;
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt) {
            s[mt][nt][2 * r] = fastExp2(fmaf(s[mt][nt][2 * r], f, -mUse));
            s[mt][nt][2 * r + 1] = fastExp2(fmaf(s[mt][nt][2 * r + 1], f, -mUse));
            ls += s[mt][nt][2 * r] + s[mt][nt][2 * r + 1];
          }
          lRow[mt][r] = lRow[mt][r] * alpha + ls;
          // alpha == 1 exactly when the row max did not move: O *= 1 is a
          // no-op, so a warp whose rows all kept their max skips it.
          if (!(FL & kSkipRescale) || __any_sync(0xffffffff, alpha != 1.f)) {
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt) {
              o[mt][dt][2 * r] *= alpha;
              o[mt][dt][2 * r + 1] *= alpha;
            }
          }
        }

      // O += P V
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          a[mt][0] = Pack<T>::pack(s[mt][2 * kk][0], s[mt][2 * kk][1]);
          a[mt][1] = Pack<T>::pack(s[mt][2 * kk][2], s[mt][2 * kk][3]);
          a[mt][2] = Pack<T>::pack(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
          a[mt][3] = Pack<T>::pack(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
        const int r = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t bf[4];
          ldsm4t(bf, smemAddr(tV + swz<D>(r, dp * 2 + (lane >> 4))));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma16816<T>(o[mt][2 * dp], a[mt], bf[0], bf[1]);
            mma16816<T>(o[mt][2 * dp + 1], a[mt], bf[2], bf[3]);
          }
        }
      }
      __syncthreads(); // buffer `buf` is refilled two iterations later
    }
  }

  if constexpr (ACC) {
    // Merge (o_b, lse_b) into the partial (out, lse): lse' = logaddexp,
    // out' = out * exp(lse - lse') + o_b * exp(lse_b - lse'). Rows this block
    // cannot see (l == 0), and CTAs without key tiles, leave both untouched.
    if (nTiles == 0) return; // CTA-uniform
    float lb[MT][2], la[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float l = lRow[mt][r];
        l += __shfl_xor_sync(0xffffffff, l, 1);
        l += __shfl_xor_sync(0xffffffff, l, 2);
        lRow[mt][r] = l;
        const int64_t i = rowW + mt * 16 + r * 8;
        lb[mt][r] = l > 0.f ? (mRow[mt][r] + log2f(l)) * kLn2 : -INFINITY;
        // All four lanes of the quad read the row's LSE ...
        la[mt][r] = (i < p.Sq && l > 0.f) ? glse[i] : -INFINITY;
      }
    __syncwarp(); // ... before lane (lane & 3) == 0 overwrites it below.
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int64_t i = rowW + mt * 16 + r * 8;
        const float l = lRow[mt][r];
        if (i >= p.Sq || !(l > 0.f)) continue; // quad-uniform
        const float a = la[mt][r], b = lb[mt][r];
        float *orow = reinterpret_cast<float *>(go) + i * p.oS[2] + (lane & 3) * 2;
        float lNew;
        if (a == -INFINITY) { // empty partial row (holds 0): take the block as is
          lNew = b;
          const float inv = 1.f / l;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt)
            store2<float>(orow + dt * 8, o[mt][dt][2 * r] * inv, o[mt][dt][2 * r + 1] * inv);
        } else {
          const float m = fmaxf(a, b);
          lNew = m + log1pf(expf(fminf(a, b) - m));
          const float wa = expf(a - lNew), wb = expf(b - lNew) / l;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt) {
            const float2 prev = *reinterpret_cast<const float2 *>(orow + dt * 8);
            store2<float>(orow + dt * 8, fmaf(wa, prev.x, wb * o[mt][dt][2 * r]),
                          fmaf(wa, prev.y, wb * o[mt][dt][2 * r + 1]));
          }
        }
        if ((lane & 3) == 0) glse[i] = lNew;
      }
  } else {
    // Epilogue: normalise, store out and the natural-log LSE.
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float l = lRow[mt][r];
        l += __shfl_xor_sync(0xffffffff, l, 1);
        l += __shfl_xor_sync(0xffffffff, l, 2);
        const int64_t i = rowW + mt * 16 + r * 8;
        const float inv = l > 0.f ? 1.f / l : 0.f;
        if (i < p.Sq) {
          OutT *orow = go + i * p.oS[2] + (lane & 3) * 2;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt)
            store2<OutT>(orow + dt * 8, o[mt][dt][2 * r] * inv, o[mt][dt][2 * r + 1] * inv);
          if ((lane & 3) == 0) glse[i] = l > 0.f ? (mRow[mt][r] + log2f(l)) * kLn2 : -INFINITY;
        }
      }
  }
}

template <typename T, typename OutT, bool ACC, int D, int W, int MT = 1, int BN = 64,
          int MINB = 1, int FL = 0>
void launchTyped(const FwdParams &fp, int64_t B, cudaStream_t s) {
  constexpr int BM = 16 * W * MT;
  constexpr size_t smemBytes = size_t(BM * D + 4 * BN * D) * sizeof(T);
  auto kern = flashFwdKernel<T, OutT, D, W, BN, MT, ACC, MINB, FL>;
  CPRT_CUDA_CHECK(
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smemBytes)));
  dim3 grid(unsigned((fp.Sq + BM - 1) / BM), unsigned(fp.Hq), unsigned(B));
  kern<<<grid, W * 32, smemBytes, s>>>(fp);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

/// Earlier D=128 tile configurations, kept for comparison and chosen by
/// CPRT_FWD_VARIANT (bf16, typed out only; bench/gpu/bench_variants.py):
/// 1 = 32-key tiles without the rescale skip (the default until 2026-11-30),
/// 2 = 64-key tiles without it.
template <typename T, typename OutT, bool ACC>
bool launchVariant(const FwdParams &fp, int64_t B, int64_t D, cudaStream_t s) {
  if constexpr (std::is_same_v<T, __nv_bfloat16> && std::is_same_v<OutT, T> && !ACC) {
    static const int v = [] {
      const char *e = std::getenv("CPRT_FWD_VARIANT");
      return e ? std::atoi(e) : 0;
    }();
    if (D != 128) return false;
    if (v == 1) return launchTyped<T, OutT, ACC, 128, 4, 2, 32>(fp, B, s), true;
    if (v == 2) return launchTyped<T, OutT, ACC, 128, 4, 2, 64>(fp, B, s), true;
  }
  return false;
}

template <typename T, typename OutT, bool ACC = false>
void launchD(const FwdParams &fp, int64_t B, int64_t D, cudaStream_t s) {
  if (launchVariant<T, OutT, ACC>(fp, B, D, s)) return;
  switch (D) {
  // 4 warps x 32 rows. D=128: 64-key tiles with the rescale skip (297-301
  // TFLOP/s on the H200 vs 260-264 for 32-key tiles; 8 warps x 16 rows with
  // 32 or 64 keys, Q in registers or shared memory: 219-251; early P packing:
  // no gain; bench/RESULTS.md, 2026-11-30). D=64: 32-key tiles (H100 sweep).
  case 64: return launchTyped<T, OutT, ACC, 64, 4, 2, 32>(fp, B, s);
  case 128: return launchTyped<T, OutT, ACC, 128, 4, 2, 64, 1, kSkipRescale>(fp, B, s);
  case 256: return launchTyped<T, OutT, ACC, 256, 4>(fp, B, s);
  default: cudaFail("flash forward: unsupported head dim " + std::to_string(D));
  }
}

template <typename T> void launchOut(const FwdParams &fp, const FwdLaunch &l, cudaStream_t s) {
  if (l.accumulate) {
    if (l.outType != 0) cudaFail("flash forward: accumulate needs an fp32 out");
    return launchD<T, float, true>(fp, l.B, l.D, s);
  }
  if (l.outType == 0) return launchD<T, float>(fp, l.B, l.D, s);
  if (l.outType == l.inType) return launchD<T, T>(fp, l.B, l.D, s);
  cudaFail("flash forward: out must be fp32 or the input type");
}

} // namespace

DevMask toDevMask(const DevMaskDesc &d) {
  DevMask m;
  m.qPos = d.qPos; m.kvPos = d.kvPos; m.docIds = d.docIds;
  m.boolMask = d.boolMask; m.addMask = d.addMask;
  m.maskBStride = d.maskBStride; m.maskHStride = d.maskHStride;
  m.maskRowStride = d.maskRowStride; m.windowLeft = d.windowLeft;
  m.causal = d.causal; m.general = d.general; m.usesPos = d.usesPos;
  return m;
}

StepRanges toStepRanges(const StepDesc &d) {
  StepRanges r;
  r.rowBegin = d.rowBegin; r.kEnd = d.kEnd; r.diag = d.diag; r.diagShift = d.diagShift;
  return r;
}

namespace {

std::atomic<int64_t> hopperLaunches{0}, mmaLaunches{0};

#ifdef CPRT_HAVE_HOPPER_FWD
/// [B, H, S, D] with unit head-dim stride and no gaps (B = 1: any b stride).
bool packed(const int64_t st[3], int64_t B, int64_t H, int64_t S, int64_t D) {
  return st[2] == D && st[1] == S * D && (B == 1 || st[0] == H * S * D);
}
#endif

/// The sm_90a wgmma/TMA kernel (hopper/, docs/hopper.md) when this build has
/// it, the device is sm_90, hopperForwardEnabled() and the problem fits:
/// bf16 or fp16 in, D = 64, 128 or 256, no general mask (step behaviour
/// only), packed tensors, out of the input type or fp32. False: the caller
/// runs mma.sync.
bool tryHopper(const FwdLaunch &l, cudaStream_t s) {
#ifdef CPRT_HAVE_HOPPER_FWD
  if (l.inType != 1 && l.inType != 2) return false;
  if (l.D != 64 && l.D != 128 && l.D != 256) return false;
  if (l.mask.general || l.mask.usesPos) return false;
  // fp32 out: the accumulating kernel into (0, -inf) writes exactly o / l
  // and the LSE (the merge never reads out where the old LSE is -inf).
  const bool f32Out = !l.accumulate && l.outType == 0;
  if (!l.accumulate && !f32Out && l.outType != l.inType) return false;
  if (!packed(l.qS, l.B, l.Hq, l.Sq, l.D) || !packed(l.kS, l.B, l.Hkv, l.Skv, l.D) ||
      !packed(l.vS, l.B, l.Hkv, l.Skv, l.D) || !packed(l.oS, l.B, l.Hq, l.Sq, l.D))
    return false;
  if (!hopperForwardEnabled()) return false;
  hopper::FwdArgs a;
  a.q = l.q; a.k = l.k; a.v = l.v; a.out = l.out; a.lse = l.lse;
  a.B = l.B; a.Hq = l.Hq; a.Hkv = l.Hkv; a.Sq = l.Sq; a.Skv = l.Skv; a.D = l.D;
  a.dtype = l.inType;
  a.scale = l.scale;
  a.accumulate = l.accumulate;
  a.rowBegin = l.step.rowBegin; a.kEnd = l.step.kEnd;
  a.diag = l.step.diag; a.diagShift = l.step.diagShift;
  const char *v = std::getenv("CPRT_HOPPER_VARIANT");
  a.variant = v ? std::atoi(v) : 0;
  if (hopper::unsupportedReason(a)) return false;
  if (f32Out) {
    launchFillF32(l.lse, -INFINITY, l.B * l.Hq * l.Sq, s);
    // Rows that see no key keep out: zero it when there can be such rows.
    if (a.rowBegin > 0 || a.kEnd <= 0 || (a.diag && a.diagShift > 0))
      CPRT_CUDA_CHECK(cudaMemsetAsync(l.out, 0, size_t(l.B * l.Hq * l.Sq * l.D) * 4, s));
    a.accumulate = 1;
  }
  CPRT_CUDA_CHECK(hopper::attentionForward(a, s));
  return true;
#else
  (void)l; (void)s;
  return false;
#endif
}

} // namespace

bool hopperForwardBuilt() {
#ifdef CPRT_HAVE_HOPPER_FWD
  return true;
#else
  return false;
#endif
}

bool hopperForwardEnabled() {
  const char *e = std::getenv("CPRT_HOPPER_FWD");
  return hopperForwardBuilt() && !(e && e[0] == '0' && e[1] == 0);
}

void forwardKernelCounts(int64_t &hopper, int64_t &mma) {
  hopper = hopperLaunches.load(std::memory_order_relaxed);
  mma = mmaLaunches.load(std::memory_order_relaxed);
}

void launchFlashForward(const FwdLaunch &l, cudaStream_t s) {
  if (l.B == 0 || l.Sq == 0) return;
  if (tryHopper(l, s)) {
    hopperLaunches.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  mmaLaunches.fetch_add(1, std::memory_order_relaxed);
  FwdParams fp;
  fp.q = l.q; fp.k = l.k; fp.v = l.v; fp.out = l.out; fp.lse = l.lse;
  for (int i = 0; i < 3; ++i) {
    fp.qS[i] = l.qS[i]; fp.kS[i] = l.kS[i]; fp.vS[i] = l.vS[i]; fp.oS[i] = l.oS[i];
  }
  fp.Hq = l.Hq; fp.Hkv = l.Hkv; fp.Sq = l.Sq; fp.Skv = l.Skv;
  fp.scaleLog2 = l.scale * kLog2e;
  fp.step = toStepRanges(l.step);
  fp.mask = toDevMask(l.mask);
  if (l.inType == 1) return launchOut<__nv_bfloat16>(fp, l, s);
  if (l.inType == 2) return launchOut<__half>(fp, l, s);
  cudaFail("flash forward: q/k/v must be bf16 or fp16");
}

bool flashSupportsHeadDim(int64_t d, bool backward) {
  return backward ? (d == 64 || d == 128) : (d == 64 || d == 128 || d == 256);
}

} // namespace cprt::cuda
