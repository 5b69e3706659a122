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
// The backward (for what the flash backward skips: fp32, D outside
// {64, 128}) recomputes the probabilities from the forward's LSE in two
// kernels without atomics: one thread per query row for dq (into the
// unscaled fp32 accumulator of BwdLaunch), one thread per (batch, KV head,
// key row) for dk and dv, summed over the query heads that share the KV head
// (GQA). Same contract as the flash backward: step behaviour, MaskSpec,
// accumulate mode (fp32 dk/dv added to), rows with LSE -inf contribute 0.
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

/// The kernel view of a launch's mask.
__device__ __forceinline__ DevMask devMask(const DevMaskDesc &d) {
  return DevMask{d.qPos,        d.kvPos,       d.docIds,        d.boolMask,
                 d.addMask,     d.maskBStride, d.maskHStride,   d.maskRowStride,
                 d.windowLeft,  d.causal,      d.general,       d.usesPos};
}

/// The scaled score of query row q and key row k (mask added), or -inf
/// when key j is hidden from query i.
template <typename T>
__device__ __forceinline__ float bwdScore(const BwdLaunch &p, const DevMask &m, int64_t hb,
                                          int64_t i, int64_t j, const T *q, const T *k) {
  const StepRanges st{p.step.rowBegin, p.step.kEnd, p.step.diag, p.step.diagShift};
  if (!stepVisible(st, i, j)) return -INFINITY;
  float add = 0.f;
  if (m.general && !maskVisible(m, hb, i, j, add)) return -INFINITY;
  float s = 0.f;
  for (int d = 0; d < p.D; ++d) s += toF(q[d]) * toF(k[d]);
  return s * p.scale + add;
}

/// dqAccum[b,h,i] = sum_j P_ij (dP_ij - delta_i) k_j (unscaled), one
/// thread per query row.
template <typename T> __global__ void naiveBackwardDq(BwdLaunch p) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= p.B * p.Hq * p.Sq) return;
  const int64_t i = t % p.Sq, h = (t / p.Sq) % p.Hq, b = t / (p.Sq * p.Hq);
  const int64_t hk = h / (p.Hq / p.Hkv);
  float *acc = p.dqAccum + t * p.D;
  for (int d = 0; d < p.D; ++d) acc[d] = 0.f;
  const float lse = p.lse[t], delta = p.delta[t];
  if (lse == -INFINITY) return; // nothing visible in the forward
  const T *q = static_cast<const T *>(p.q) + b * p.qS[0] + h * p.qS[1] + i * p.qS[2];
  const T *dout = static_cast<const T *>(p.dout) + b * p.doS[0] + h * p.doS[1] + i * p.doS[2];
  const T *k = static_cast<const T *>(p.k) + b * p.kS[0] + hk * p.kS[1];
  const T *v = static_cast<const T *>(p.v) + b * p.vS[0] + hk * p.vS[1];
  const DevMask m = devMask(p.mask);
  const int64_t hb = b * m.maskBStride + h * m.maskHStride;
  for (int64_t j = 0; j < p.Skv; ++j) {
    const T *kr = k + j * p.kS[2], *vr = v + j * p.vS[2];
    const float s = bwdScore(p, m, hb, i, j, q, kr);
    if (s == -INFINITY) continue;
    const float pr = expf(s - lse);
    float dp = 0.f;
    for (int d = 0; d < p.D; ++d) dp += toF(dout[d]) * toF(vr[d]);
    const float ds = pr * (dp - delta);
    for (int d = 0; d < p.D; ++d) acc[d] += ds * toF(kr[d]);
  }
}

/// dv[b,hk,j] = sum_{h,i} P_ij dout_i and dk = scale * sum_{h,i} dS_ij q_i
/// over the query heads h of KV head hk, one thread per key row.
template <typename T, typename DkvT> __global__ void naiveBackwardDkDv(BwdLaunch p) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= p.B * p.Hkv * p.Skv) return;
  const int64_t j = t % p.Skv, hk = (t / p.Skv) % p.Hkv, b = t / (p.Skv * p.Hkv);
  const int64_t group = p.Hq / p.Hkv;
  const T *kr = static_cast<const T *>(p.k) + b * p.kS[0] + hk * p.kS[1] + j * p.kS[2];
  const T *vr = static_cast<const T *>(p.v) + b * p.vS[0] + hk * p.vS[1] + j * p.vS[2];
  const DevMask m = devMask(p.mask);
  float dk[kMaxD], dv[kMaxD];
  for (int d = 0; d < p.D; ++d) dk[d] = dv[d] = 0.f;
  for (int64_t h = hk * group; h < (hk + 1) * group; ++h) {
    const int64_t hb = b * m.maskBStride + h * m.maskHStride, row0 = (b * p.Hq + h) * p.Sq;
    for (int64_t i = 0; i < p.Sq; ++i) {
      const float lse = p.lse[row0 + i];
      if (lse == -INFINITY) continue;
      const T *q = static_cast<const T *>(p.q) + b * p.qS[0] + h * p.qS[1] + i * p.qS[2];
      const float s = bwdScore(p, m, hb, i, j, q, kr);
      if (s == -INFINITY) continue;
      const T *dout =
          static_cast<const T *>(p.dout) + b * p.doS[0] + h * p.doS[1] + i * p.doS[2];
      const float pr = expf(s - lse);
      float dp = 0.f;
      for (int d = 0; d < p.D; ++d) dp += toF(dout[d]) * toF(vr[d]);
      const float ds = pr * (dp - p.delta[row0 + i]);
      for (int d = 0; d < p.D; ++d) {
        dv[d] += pr * toF(dout[d]);
        dk[d] += ds * toF(q[d]);
      }
    }
  }
  DkvT *dko = static_cast<DkvT *>(p.dk) + b * p.dkS[0] + hk * p.dkS[1] + j * p.dkS[2];
  DkvT *dvo = static_cast<DkvT *>(p.dv) + b * p.dvS[0] + hk * p.dvS[1] + j * p.dvS[2];
  for (int d = 0; d < p.D; ++d) {
    const float gk = dk[d] * p.scale, gv = dv[d];
    dko[d] = fromF<DkvT>(p.accumulate ? toF(dko[d]) + gk : gk);
    dvo[d] = fromF<DkvT>(p.accumulate ? toF(dvo[d]) + gv : gv);
  }
}

template <typename T> void launchBackwardTyped(const BwdLaunch &l, cudaStream_t s) {
  const int threads = 128;
  auto blocks = [&](int64_t n) { return unsigned((n + threads - 1) / threads); };
  naiveBackwardDq<T><<<blocks(l.B * l.Hq * l.Sq), threads, 0, s>>>(l);
  if (l.dkvType == 0)
    naiveBackwardDkDv<T, float><<<blocks(l.B * l.Hkv * l.Skv), threads, 0, s>>>(l);
  else
    naiveBackwardDkDv<T, T><<<blocks(l.B * l.Hkv * l.Skv), threads, 0, s>>>(l);
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

void launchNaiveBackward(const BwdLaunch &l, cudaStream_t s) {
  if (!naiveSupportsHeadDim(l.D))
    throw std::runtime_error("naive attention backward: head dim " + std::to_string(l.D) +
                             " unsupported (1..256)");
  if (l.B * l.Hq * l.Sq == 0 && l.B * l.Hkv * l.Skv == 0) return;
  if (l.dkvType != 0 && (l.dkvType != l.inType || l.accumulate))
    throw std::runtime_error("naive attention backward: dk/dv must be fp32 or (without "
                             "accumulate) the input type");
  switch (l.inType) {
  case 0: launchBackwardTyped<float>(l, s); break;
  case 1: launchBackwardTyped<__nv_bfloat16>(l, s); break;
  case 2: launchBackwardTyped<__half>(l, s); break;
  default: throw std::runtime_error("naive attention backward: bad element type");
  }
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("naive attention backward launch: ") +
                             cudaGetErrorString(e));
}

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
