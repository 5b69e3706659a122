//===- NaiveAttention.cu - Attention for what the flash kernels skip ------===//
//
// One thread per (batch, query head, query row), an online softmax over the
// visible keys in fp32, any head dim up to 256 and any element type (fp32
// included). The flash kernels need bf16/fp16 and D in {64, 128, 256}; the
// compiled per-rank modules of small or fp32 models (the torch-mlir Llama
// fixture: fp32, D = 16) reach the GPU ring through this kernel. Same
// contract as the flash forward: step behaviour, MaskSpec, accumulate mode,
// fully masked rows give out 0 / LSE -inf (or leave the partial untouched).
//
//===----------------------------------------------------------------------===//
#include "FlashCommon.cuh"
#include "NaiveAttention.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cprt::cuda {
namespace {

constexpr int kMaxD = 256;

template <typename T, typename OutT>
__global__ void naiveForward(FwdLaunch p) {
  const int64_t rows = p.B * p.Hq * p.Sq;
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= rows) return;
  const int64_t i = t % p.Sq, h = (t / p.Sq) % p.Hq, b = t / (p.Sq * p.Hq);
  const int64_t hk = h / (p.Hq / p.Hkv);
  const T *q = static_cast<const T *>(p.q) + b * p.qS[0] + h * p.qS[1] + i * p.qS[2];
  const T *k = static_cast<const T *>(p.k) + b * p.kS[0] + hk * p.kS[1];
  const T *v = static_cast<const T *>(p.v) + b * p.vS[0] + hk * p.vS[1];
  OutT *o = static_cast<OutT *>(p.out) + b * p.oS[0] + h * p.oS[1] + i * p.oS[2];
  float *lse = p.lse + (b * p.Hq + h) * p.Sq + i;
  const StepRanges st{p.step.rowBegin, p.step.kEnd, p.step.diag, p.step.diagShift};
  const DevMask m{p.mask.qPos,        p.mask.kvPos,       p.mask.docIds,
                  p.mask.boolMask,    p.mask.addMask,     p.mask.maskBStride,
                  p.mask.maskHStride, p.mask.maskRowStride, p.mask.windowLeft,
                  p.mask.causal,      p.mask.general,     p.mask.usesPos};
  const int64_t hb = b * m.maskBStride + h * m.maskHStride;

  float acc[kMaxD];
  for (int d = 0; d < p.D; ++d) acc[d] = 0.f;
  float mx = -INFINITY, sum = 0.f;
  for (int64_t j = 0; j < p.Skv; ++j) {
    if (!stepVisible(st, i, j)) continue;
    float add = 0.f;
    if (m.general && !maskVisible(m, hb, i, j, add)) continue;
    const T *kr = k + j * p.kS[2];
    float s = 0.f;
    for (int d = 0; d < p.D; ++d) s += toF(q[d]) * toF(kr[d]);
    s = s * p.scale + add;
    if (s == -INFINITY) continue;
    const float nm = fmaxf(mx, s);
    const float corr = expf(mx - nm), w = expf(s - nm);
    const T *vr = v + j * p.vS[2];
    for (int d = 0; d < p.D; ++d) acc[d] = acc[d] * corr + w * toF(vr[d]);
    sum = sum * corr + w;
    mx = nm;
  }
  if (sum == 0.f) { // nothing visible
    if (p.accumulate) return;
    for (int d = 0; d < p.D; ++d) o[d] = fromF<OutT>(0.f);
    *lse = -INFINITY;
    return;
  }
  const float l = mx + logf(sum);
  if (p.accumulate) {
    const float old = *lse, nl = old == -INFINITY ? l : fmaxf(old, l) +
                                     log1pf(expf(-fabsf(old - l)));
    const float a = old == -INFINITY ? 0.f : expf(old - nl), c = expf(l - nl);
    for (int d = 0; d < p.D; ++d)
      o[d] = fromF<OutT>(a * toF(o[d]) + c * acc[d] / sum);
    *lse = nl;
    return;
  }
  for (int d = 0; d < p.D; ++d) o[d] = fromF<OutT>(acc[d] / sum);
  *lse = l;
}

template <typename T> void launchTyped(const FwdLaunch &l, cudaStream_t s) {
  const int64_t rows = l.B * l.Hq * l.Sq;
  const int threads = 128;
  const unsigned blocks = unsigned((rows + threads - 1) / threads);
  if (l.outType == 0)
    naiveForward<T, float><<<blocks, threads, 0, s>>>(l);
  else
    naiveForward<T, T><<<blocks, threads, 0, s>>>(l);
}

} // namespace

bool naiveSupportsHeadDim(int64_t d) { return d > 0 && d <= kMaxD; }

void launchNaiveForward(const FwdLaunch &l, cudaStream_t s) {
  if (!naiveSupportsHeadDim(l.D))
    throw std::runtime_error("naive attention: head dim " + std::to_string(l.D) +
                             " unsupported (1..256)");
  if (l.B * l.Hq * l.Sq == 0) return;
  if (l.outType != 0 && l.outType != l.inType)
    throw std::runtime_error("naive attention: out must be fp32 or the input type");
  switch (l.inType) {
  case 0: launchTyped<float>(l, s); break;
  case 1: launchTyped<__nv_bfloat16>(l, s); break;
  case 2: launchTyped<__half>(l, s); break;
  default: throw std::runtime_error("naive attention: bad element type");
  }
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("naive attention launch: ") + cudaGetErrorString(e));
}

} // namespace cprt::cuda
