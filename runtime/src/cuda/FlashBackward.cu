//===- FlashBackward.cu - FA2-style backward with mma.sync -----------------===//
//
// One CTA = one (batch, KV head, BN-row KV block); each warp owns 16 KV rows
// and keeps their dK and dV in registers while the CTA walks every query
// head of the GQA group and every query block (so KV heads are never
// expanded and dK/dV need no atomics). dQ partials go to an fp32 scratch
// buffer with atomics. P is recomputed from the forward's LSE; delta =
// rowsum(dout * out) comes precomputed.
//
//===----------------------------------------------------------------------===//
#include "FlashCommon.cuh"
#include "FlashKernels.h"
#include "CudaCheck.h"

namespace cprt::cuda {

DevMask toDevMask(const DevMaskDesc &d);
StepRanges toStepRanges(const StepDesc &d);

namespace {

struct BwdParams {
  const void *q, *k, *v, *dout;
  const float *lse, *delta;
  float *dqAccum;
  void *dk, *dv;
  int64_t qS[3], kS[3], vS[3], doS[3], dkS[3], dvS[3];
  int64_t Hq, Hkv, Sq, Skv;
  float scale, scaleLog2;
  int accumulate;
  StepRanges step;
  DevMask mask;
};

__device__ __forceinline__ void atomicAdd2(float *p, float a, float b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  atomicAdd(reinterpret_cast<float2 *>(p), make_float2(a, b));
#else
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
#endif
}

template <typename T, typename DkvT, int D, int W>
__global__ void __launch_bounds__(W * 32) flashBwdKernel(const BwdParams p) {
  constexpr int BN = 16 * W; // KV rows per CTA
  constexpr int BM = 64;     // query rows per step
  static_assert(BM == 16 * W, "dQ uses one warp per 16 query rows");
  constexpr int NT = W * 32;
  extern __shared__ __align__(128) unsigned char smem[];
  T *sK = reinterpret_cast<T *>(smem);
  T *sV = sK + BN * D;
  T *sQ = sV + BN * D;       // 2 buffers
  T *sdO = sQ + 2 * BM * D;  // 2 buffers
  T *sdS = sdO + 2 * BM * D; // [BN][BM]
  float *sLse = reinterpret_cast<float *>(sdS + BN * BM); // 2 x BM (log2 domain)
  float *sDelta = sLse + 2 * BM;                          // 2 x BM

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int64_t n0 = int64_t(blockIdx.x) * BN;
  const int64_t hk = blockIdx.y, b = blockIdx.z;
  const int64_t G = p.Hq / p.Hkv;
  const StepRanges st = p.step;

  const T *gk = static_cast<const T *>(p.k) + b * p.kS[0] + hk * p.kS[1];
  const T *gv = static_cast<const T *>(p.v) + b * p.vS[0] + hk * p.vS[1];

  int64_t mStart = st.rowBegin;
  if (st.diag) mStart = max(mStart, n0 + st.diagShift);
  const int64_t mbBegin = mStart / BM;
  const int64_t mbEnd = (p.Sq + BM - 1) / BM;
  const int64_t perHead = n0 < st.kEnd && mbEnd > mbBegin ? mbEnd - mbBegin : 0;
  const int64_t nIter = perHead * G;

  float dk[D / 8][4], dv[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[i][e] = dv[i][e] = 0.f;

  auto loadStage = [&](int64_t it, int buf) {
    const int64_t hq = hk * G + it / perHead;
    const int64_t m0 = (mbBegin + it % perHead) * BM;
    const T *gq = static_cast<const T *>(p.q) + b * p.qS[0] + hq * p.qS[1];
    const T *gdo = static_cast<const T *>(p.dout) + b * p.doS[0] + hq * p.doS[1];
    loadTile<BM, D, NT>(sQ + buf * BM * D, gq, p.qS[2], m0, p.Sq, tid);
    loadTile<BM, D, NT>(sdO + buf * BM * D, gdo, p.doS[2], m0, p.Sq, tid);
    cpAsyncCommit();
    const int64_t rowBase = (b * p.Hq + hq) * p.Sq;
    for (int i = tid; i < BM; i += NT) {
      const int64_t r = m0 + i;
      float l = r < p.Sq ? p.lse[rowBase + r] : -INFINITY;
      sLse[buf * BM + i] = l == -INFINITY ? INFINITY : l * kLog2e;
      sDelta[buf * BM + i] = r < p.Sq ? p.delta[rowBase + r] : 0.f;
    }
  };

  if (nIter > 0) {
    loadTile<BN, D, NT>(sK, gk, p.kS[2], n0, p.Skv, tid);
    loadTile<BN, D, NT>(sV, gv, p.vS[2], n0, p.Skv, tid);
    cpAsyncCommit();
    loadStage(0, 0);
  }

  const int aRow = warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8; // A from [m][k]
  const int aChunk = lane >> 4;
  const int bRow = (lane & 7) + (lane >> 4) * 8;   // B from [n][k] (non-trans)
  const int bChunk = (lane >> 3) & 1;
  const int tRow = (lane & 7) + ((lane >> 3) & 1) * 8; // B from [k][n] (trans)
  const int tChunk = lane >> 4;

  for (int64_t it = 0; it < nIter; ++it) {
    const int buf = int(it & 1);
    if (it + 1 < nIter) {
      loadStage(it + 1, buf ^ 1);
      cpAsyncWait<1>();
    } else {
      cpAsyncWait<0>();
    }
    __syncthreads();
    const int64_t hq = hk * G + it / perHead;
    const int64_t m0 = (mbBegin + it % perHead) * BM;
    const int64_t hb = b * p.mask.maskBStride + hq * p.mask.maskHStride;
    const T *tQ = sQ + buf * BM * D;
    const T *tdO = sdO + buf * BM * D;
    const float *tLse = sLse + buf * BM;
    const float *tDelta = sDelta + buf * BM;

    // S^T = K_w Q^T and dP^T = V_w dO^T (16 KV rows x BM queries per warp).
    float sT[BM / 8][4], dpT[BM / 8][4];
#pragma unroll
    for (int i = 0; i < BM / 8; ++i)
#pragma unroll
      for (int e = 0; e < 4; ++e) sT[i][e] = dpT[i][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t ak[4], av[4];
      ldsm4(ak, smemAddr(sK + swz<D>(aRow, kk * 2 + aChunk)));
      ldsm4(av, smemAddr(sV + swz<D>(aRow, kk * 2 + aChunk)));
#pragma unroll
      for (int np = 0; np < BM / 16; ++np) {
        uint32_t bq[4], bo[4];
        ldsm4(bq, smemAddr(tQ + swz<D>(np * 16 + bRow, kk * 2 + bChunk)));
        ldsm4(bo, smemAddr(tdO + swz<D>(np * 16 + bRow, kk * 2 + bChunk)));
        mma16816<T>(sT[2 * np], ak, bq[0], bq[1]);
        mma16816<T>(sT[2 * np + 1], ak, bq[2], bq[3]);
        mma16816<T>(dpT[2 * np], av, bo[0], bo[1]);
        mma16816<T>(dpT[2 * np + 1], av, bo[2], bo[3]);
      }
    }

    // P^T (in sT) and dS^T (in dpT).
    const bool needMask = p.mask.general || n0 + BN > st.kEnd || m0 < st.rowBegin ||
                          m0 + BM > p.Sq || (st.diag && n0 + BN - 1 > m0 - st.diagShift);
#pragma unroll
    for (int nt = 0; nt < BM / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = nt * 8 + (lane & 3) * 2 + (e & 1);
        float x = sT[nt][e] * p.scaleLog2;
        bool vis = true;
        if (needMask) {
          const int64_t i = m0 + col;
          const int64_t j = n0 + warp * 16 + (lane >> 2) + (e >> 1) * 8;
          vis = stepVisible(st, i, j) && i < p.Sq;
          float add = 0.f;
          if (vis && p.mask.general) vis = maskVisible(p.mask, hb, i, j, add);
          x += add * kLog2e;
        }
        const float pr = vis ? exp2f(x - tLse[col]) : 0.f;
        sT[nt][e] = pr;
        dpT[nt][e] = pr * (dpT[nt][e] - tDelta[col]);
      }

    // dV += P^T dO, dK += dS^T Q (k-dim = queries).
#pragma unroll
    for (int kk = 0; kk < BM / 16; ++kk) {
      uint32_t ap[4], ad[4];
      ap[0] = Pack<T>::pack(sT[2 * kk][0], sT[2 * kk][1]);
      ap[1] = Pack<T>::pack(sT[2 * kk][2], sT[2 * kk][3]);
      ap[2] = Pack<T>::pack(sT[2 * kk + 1][0], sT[2 * kk + 1][1]);
      ap[3] = Pack<T>::pack(sT[2 * kk + 1][2], sT[2 * kk + 1][3]);
      ad[0] = Pack<T>::pack(dpT[2 * kk][0], dpT[2 * kk][1]);
      ad[1] = Pack<T>::pack(dpT[2 * kk][2], dpT[2 * kk][3]);
      ad[2] = Pack<T>::pack(dpT[2 * kk + 1][0], dpT[2 * kk + 1][1]);
      ad[3] = Pack<T>::pack(dpT[2 * kk + 1][2], dpT[2 * kk + 1][3]);
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        uint32_t bo[4], bq[4];
        ldsm4t(bo, smemAddr(tdO + swz<D>(kk * 16 + tRow, dp * 2 + tChunk)));
        ldsm4t(bq, smemAddr(tQ + swz<D>(kk * 16 + tRow, dp * 2 + tChunk)));
        mma16816<T>(dv[2 * dp], ap, bo[0], bo[1]);
        mma16816<T>(dv[2 * dp + 1], ap, bo[2], bo[3]);
        mma16816<T>(dk[2 * dp], ad, bq[0], bq[1]);
        mma16816<T>(dk[2 * dp + 1], ad, bq[2], bq[3]);
      }
    }

    // dS^T to shared memory ([BN][BM], swizzled) for dQ = dS K.
#pragma unroll
    for (int nt = 0; nt < BM / 8; ++nt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = warp * 16 + (lane >> 2) + r * 8;
        const int col = nt * 8 + (lane & 3) * 2;
        *reinterpret_cast<uint32_t *>(sdS + swz<BM>(row, col >> 3) + (col & 7)) =
            Pack<T>::pack(dpT[nt][2 * r], dpT[nt][2 * r + 1]);
      }
    __syncthreads();

    // dQ rows [16 warp, +16) of this query block: A = dS (stored as [k][m]).
    {
      uint32_t as[BN / 16][4];
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        const int krow = kk * 16 + (lane & 7) + ((lane >> 4) & 1) * 8;
        const int mch = warp * 2 + ((lane >> 3) & 1);
        ldsm4t(as[kk], smemAddr(sdS + swz<BM>(krow, mch)));
      }
      const int64_t qi = m0 + warp * 16 + (lane >> 2);
      float *dqRow = p.dqAccum + ((b * p.Hq + hq) * p.Sq + qi) * D + (lane & 3) * 2;
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        float acc[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
          uint32_t bk[4];
          ldsm4t(bk, smemAddr(sK + swz<D>(kk * 16 + tRow, dp * 2 + tChunk)));
          mma16816<T>(acc[0], as[kk], bk[0], bk[1]);
          mma16816<T>(acc[1], as[kk], bk[2], bk[3]);
        }
#pragma unroll
        for (int h2 = 0; h2 < 2; ++h2) {
          const int d0 = dp * 16 + h2 * 8;
          if (qi < p.Sq) atomicAdd2(dqRow + d0, acc[h2][0], acc[h2][1]);
          if (qi + 8 < p.Sq) atomicAdd2(dqRow + 8 * D + d0, acc[h2][2], acc[h2][3]);
        }
      }
    }
    __syncthreads(); // sdS and the stage buffer are rewritten next
  }

  // Epilogue: dK (scaled) and dV for this warp's 16 KV rows.
  DkvT *gdk = static_cast<DkvT *>(p.dk) + b * p.dkS[0] + hk * p.dkS[1];
  DkvT *gdv = static_cast<DkvT *>(p.dv) + b * p.dvS[0] + hk * p.dvS[1];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t j = n0 + warp * 16 + (lane >> 2) + r * 8;
    if (j >= p.Skv) continue;
    DkvT *kr = gdk + j * p.dkS[2] + (lane & 3) * 2;
    DkvT *vr = gdv + j * p.dvS[2] + (lane & 3) * 2;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      float k0 = dk[dt][2 * r] * p.scale, k1 = dk[dt][2 * r + 1] * p.scale;
      float v0 = dv[dt][2 * r], v1 = dv[dt][2 * r + 1];
      if (p.accumulate) {
        k0 += toF(kr[dt * 8]); k1 += toF(kr[dt * 8 + 1]);
        v0 += toF(vr[dt * 8]); v1 += toF(vr[dt * 8 + 1]);
      }
      store2<DkvT>(kr + dt * 8, k0, k1);
      store2<DkvT>(vr + dt * 8, v0, v1);
    }
  }
}

template <typename T, typename DkvT, int D>
void launchTyped(const BwdParams &bp, int64_t B, cudaStream_t s) {
  constexpr int W = 4, BN = 16 * W, BM = 64;
  constexpr size_t smemBytes =
      size_t(2 * BN * D + 4 * BM * D + BN * BM) * sizeof(T) + 4 * BM * sizeof(float);
  auto kern = flashBwdKernel<T, DkvT, D, W>;
  CPRT_CUDA_CHECK(
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smemBytes)));
  dim3 grid(unsigned((bp.Skv + BN - 1) / BN), unsigned(bp.Hkv), unsigned(B));
  kern<<<grid, W * 32, smemBytes, s>>>(bp);
  CPRT_CUDA_CHECK(cudaGetLastError());
}

template <typename T, typename DkvT>
void launchD(const BwdParams &bp, int64_t B, int64_t D, cudaStream_t s) {
  switch (D) {
  case 64: return launchTyped<T, DkvT, 64>(bp, B, s);
  case 128: return launchTyped<T, DkvT, 128>(bp, B, s);
  default: cudaFail("flash backward: unsupported head dim " + std::to_string(D) +
                    " (64 and 128 are supported)");
  }
}

template <typename T> void launchDkv(const BwdParams &bp, const BwdLaunch &l, cudaStream_t s) {
  if (l.dkvType == 0) return launchD<T, float>(bp, l.B, l.D, s);
  if (l.accumulate) cudaFail("flash backward: accumulate needs fp32 dk/dv");
  if (l.dkvType == l.inType) return launchD<T, T>(bp, l.B, l.D, s);
  cudaFail("flash backward: dk/dv must be fp32 or the input type");
}

} // namespace

void launchFlashBackward(const BwdLaunch &l, cudaStream_t s) {
  if (l.B == 0 || l.Skv == 0) return;
  BwdParams bp;
  bp.q = l.q; bp.k = l.k; bp.v = l.v; bp.dout = l.dout;
  bp.lse = l.lse; bp.delta = l.delta; bp.dqAccum = l.dqAccum;
  bp.dk = l.dk; bp.dv = l.dv;
  for (int i = 0; i < 3; ++i) {
    bp.qS[i] = l.qS[i]; bp.kS[i] = l.kS[i]; bp.vS[i] = l.vS[i];
    bp.doS[i] = l.doS[i]; bp.dkS[i] = l.dkS[i]; bp.dvS[i] = l.dvS[i];
  }
  bp.Hq = l.Hq; bp.Hkv = l.Hkv; bp.Sq = l.Sq; bp.Skv = l.Skv;
  bp.scale = l.scale;
  bp.scaleLog2 = l.scale * kLog2e;
  bp.accumulate = l.accumulate;
  bp.step = toStepRanges(l.step);
  bp.mask = toDevMask(l.mask);
  if (l.inType == 1) return launchDkv<__nv_bfloat16>(bp, l, s);
  if (l.inType == 2) return launchDkv<__half>(bp, l, s);
  cudaFail("flash backward: q/k/v/dout must be bf16 or fp16");
}

} // namespace cprt::cuda
