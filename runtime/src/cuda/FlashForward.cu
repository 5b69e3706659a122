//===- FlashForward.cu - FA2-style forward with mma.sync -------------------===//
//
// One CTA = one (batch, query head, BM-row query block); each warp owns 16
// query rows. K/V tiles of BN rows stream through double-buffered shared
// memory (cp.async) while the online softmax keeps m, l and O in registers.
// Scores live in the log2 domain (scale * log2 e folded in) so the inner loop
// uses exp2. Returns out (any storage type) and the natural-log LSE.
//
//===----------------------------------------------------------------------===//
#include "FlashCommon.cuh"
#include "FlashKernels.h"
#include "CudaCheck.h"

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

template <typename T, typename OutT, int D, int W, int BN>
__global__ void __launch_bounds__(W * 32) flashFwdKernel(const FwdParams p) {
  constexpr int BM = 16 * W;
  constexpr int NT = W * 32;
  constexpr bool kQInRegs = D <= 128;
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

  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  float mRow[2] = {-INFINITY, -INFINITY}, lRow[2] = {0.f, 0.f};
  const int64_t row0 = m0 + warp * 16 + (lane >> 2);

  if (nTiles > 0) {
    loadTile<BM, D, NT>(sQ, gq, p.qS[2], m0, p.Sq, tid);
    cpAsyncCommit();
    loadTile<BN, D, NT>(sK, gk, p.kS[2], 0, p.Skv, tid);
    loadTile<BN, D, NT>(sV, gv, p.vS[2], 0, p.Skv, tid);
    cpAsyncCommit();

    uint32_t qf[kQInRegs ? D / 16 : 1][4];
    const int aRow = warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
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

      // S = Q K^T (16 x BN per warp)
      float s[BN / 8][4];
#pragma unroll
      for (int i = 0; i < BN / 8; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t a[4];
        if constexpr (kQInRegs) {
#pragma unroll
          for (int x = 0; x < 4; ++x) a[x] = qf[kk][x];
        } else {
          ldsm4(a, smemAddr(sQ + swz<D>(aRow, kk * 2 + aChunk)));
        }
#pragma unroll
        for (int np = 0; np < BN / 16; ++np) {
          uint32_t bf[4];
          const int r = np * 16 + (lane & 7) + (lane >> 4) * 8;
          ldsm4(bf, smemAddr(tK + swz<D>(r, kk * 2 + ((lane >> 3) & 1))));
          mma16816<T>(s[2 * np], a, bf[0], bf[1]);
          mma16816<T>(s[2 * np + 1], a, bf[2], bf[3]);
        }
      }

      // Mask + scale into the log2 domain.
      const bool needMask = p.mask.general || n0 + BN > st.kEnd || m0 < st.rowBegin ||
                            (st.diag && n0 + BN - 1 > m0 - st.diagShift);
      if (needMask) {
#pragma unroll
        for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int64_t i = row0 + (e >> 1) * 8;
            const int64_t j = n0 + nt * 8 + (lane & 3) * 2 + (e & 1);
            bool vis = stepVisible(st, i, j) && i < p.Sq;
            float add = 0.f;
            if (vis && p.mask.general) vis = maskVisible(p.mask, hb, i, j, add);
            s[nt][e] = vis ? s[nt][e] * p.scaleLog2 + add * kLog2e : -INFINITY;
          }
      } else {
#pragma unroll
        for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) s[nt][e] *= p.scaleLog2;
      }

      // Online softmax (rows lane/4 and lane/4 + 8 of the warp's 16).
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = mRow[r];
#pragma unroll
        for (int nt = 0; nt < BN / 8; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
        const float mUse = mx == -INFINITY ? 0.f : mx;
        const float alpha = exp2f(mRow[r] - mUse);
        mRow[r] = mx;
        float ls = 0.f;
#pragma unroll
        for (int nt = 0; nt < BN / 8; ++nt) {
          s[nt][2 * r] = exp2f(s[nt][2 * r] - mUse);
          s[nt][2 * r + 1] = exp2f(s[nt][2 * r + 1] - mUse);
          ls += s[nt][2 * r] + s[nt][2 * r + 1];
        }
        lRow[r] = lRow[r] * alpha + ls;
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt) {
          o[dt][2 * r] *= alpha;
          o[dt][2 * r + 1] *= alpha;
        }
      }

      // O += P V
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t a[4];
        a[0] = Pack<T>::pack(s[2 * kk][0], s[2 * kk][1]);
        a[1] = Pack<T>::pack(s[2 * kk][2], s[2 * kk][3]);
        a[2] = Pack<T>::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        a[3] = Pack<T>::pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
        const int r = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t bf[4];
          ldsm4t(bf, smemAddr(tV + swz<D>(r, dp * 2 + (lane >> 4))));
          mma16816<T>(o[2 * dp], a, bf[0], bf[1]);
          mma16816<T>(o[2 * dp + 1], a, bf[2], bf[3]);
        }
      }
      __syncthreads(); // buffer `buf` is refilled two iterations later
    }
  }

  // Epilogue: normalise, store out and the natural-log LSE.
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = lRow[r];
    l += __shfl_xor_sync(0xffffffff, l, 1);
    l += __shfl_xor_sync(0xffffffff, l, 2);
    const int64_t i = row0 + r * 8;
    const float inv = l > 0.f ? 1.f / l : 0.f;
    if (i < p.Sq) {
      OutT *orow = go + i * p.oS[2] + (lane & 3) * 2;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
        store2<OutT>(orow + dt * 8, o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
      if ((lane & 3) == 0) glse[i] = l > 0.f ? (mRow[r] + log2f(l)) * kLn2 : -INFINITY;
    }
  }
}

template <typename T, typename OutT, int D, int W>
void launchTyped(const FwdParams &fp, int64_t B, cudaStream_t s) {
  constexpr int BN = 64, BM = 16 * W;
  constexpr size_t smemBytes = size_t(BM * D + 4 * BN * D) * sizeof(T);
  auto kern = flashFwdKernel<T, OutT, D, W, BN>;
  CPRT_CUDA_CHECK(
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smemBytes)));
  dim3 grid(unsigned((fp.Sq + BM - 1) / BM), unsigned(fp.Hq), unsigned(B));
  kern<<<grid, W * 32, smemBytes, s>>>(fp);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

/// Warps per CTA (16 query rows each) for head dims <= 128: 8 by default
/// (BM = 128 rows share each K/V tile); CPRT_FWD_WARPS=4 selects BM = 64.
int forwardWarps() {
  static const int w = [] {
    const char *e = std::getenv("CPRT_FWD_WARPS");
    return e && std::atoi(e) == 4 ? 4 : 8;
  }();
  return w;
}

template <typename T, typename OutT>
void launchD(const FwdParams &fp, int64_t B, int64_t D, cudaStream_t s) {
  switch (D) {
  case 64:
    return forwardWarps() == 8 ? launchTyped<T, OutT, 64, 8>(fp, B, s)
                               : launchTyped<T, OutT, 64, 4>(fp, B, s);
  case 128:
    return forwardWarps() == 8 ? launchTyped<T, OutT, 128, 8>(fp, B, s)
                               : launchTyped<T, OutT, 128, 4>(fp, B, s);
  case 256: return launchTyped<T, OutT, 256, 4>(fp, B, s);
  default: cudaFail("flash forward: unsupported head dim " + std::to_string(D));
  }
}

template <typename T> void launchOut(const FwdParams &fp, const FwdLaunch &l, cudaStream_t s) {
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

void launchFlashForward(const FwdLaunch &l, cudaStream_t s) {
  if (l.B == 0 || l.Sq == 0) return;
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
