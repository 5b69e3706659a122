//===- CudaBackend.cpp - KernelBackend over the CUDA flash kernels --------===//
#include "cprt/cuda/CudaBackend.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "NaiveAttention.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace cprt {
using namespace cprt::cuda;

namespace {

void checkView(const TensorView &v, const char *what, bool tensorCoreInput) {
  check(v.data != nullptr, std::string("cuda attention: null tensor '") + what + "'");
  check(v.stride[3] == 1,
        std::string("cuda attention: '") + what + "' must be contiguous in the head dim");
  if (tensorCoreInput) {
    check(v.dtype == DType::BF16 || v.dtype == DType::F16,
          std::string("cuda attention: '") + what + "' must be bf16 or fp16, got " +
              dtypeName(v.dtype));
    check(reinterpret_cast<uintptr_t>(v.data) % 16 == 0 && v.stride[0] % 8 == 0 &&
              v.stride[1] % 8 == 0 && v.stride[2] % 8 == 0,
          std::string("cuda attention: '") + what +
              "' needs a 16-byte aligned base and B/H/S strides that are multiples of 8");
  } else {
    check(reinterpret_cast<uintptr_t>(v.data) % (2 * dtypeSize(v.dtype)) == 0 &&
              v.stride[2] % 2 == 0,
          std::string("cuda attention: '") + what +
              "' needs an even sequence stride and a pair-aligned base");
  }
}

void copyStrides(const TensorView &v, int64_t (&s)[3]) {
  s[0] = v.stride[0];
  s[1] = v.stride[1];
  s[2] = v.stride[2];
}

StepDesc stepDesc(const AttentionParams &p) {
  StepDesc d;
  const int64_t sq = p.shape.seqQ, skv = p.shape.seqKV;
  d.rowBegin = 0;
  d.kEnd = skv;
  switch (p.stepCausal) {
  case StepCausal::Skip: d.kEnd = 0; break;
  case StepCausal::NotCausal: break;
  case StepCausal::Causal: d.diag = 1; break;
  case StepCausal::CausalStrict: d.diag = 1; d.diagShift = 1; break;
  case StepCausal::KvHeadHalf: d.kEnd = skv / 2; break;
  case StepCausal::QTailHalf: d.rowBegin = sq / 2; break;
  }
  return d;
}

DevMaskDesc maskDesc(const MaskSpec &m) {
  DevMaskDesc d;
  d.qPos = m.qPos; d.kvPos = m.kvPos; d.docIds = m.docIds;
  d.boolMask = m.boolMask; d.addMask = m.addMask;
  d.maskBStride = m.maskBStride; d.maskHStride = m.maskHStride;
  d.maskRowStride = m.maskRowStride; d.windowLeft = m.windowLeft;
  d.causal = m.causal;
  d.usesPos = m.hasPositions() || m.causal || m.windowLeft > 0 || m.docIds;
  d.general = !m.isTrivial();
  return d;
}

/// The launch of the naive forward (NaiveAttention.cu; mask filled by the
/// caller): any element type, head dims 1..256.
FwdLaunch naiveLaunch(const AttentionParams &p, const ForwardArgs &a) {
  const AttentionShape &s = p.shape;
  check(naiveSupportsHeadDim(s.headDim),
        "cuda attention: head dim " + std::to_string(s.headDim) + " unsupported (1..256)");
  check(a.q.data && a.out.data && (s.seqKV == 0 || (a.k.data && a.v.data)),
        "cuda attention: null q/k/v/out");
  check(a.q.stride[3] == 1 && a.k.stride[3] == 1 && a.v.stride[3] == 1 && a.out.stride[3] == 1,
        "cuda attention: q/k/v/out must be contiguous in the head dim");
  check(a.k.dtype == a.q.dtype && a.v.dtype == a.q.dtype,
        "cuda attention: q, k and v must share one dtype");
  check(a.lse != nullptr, "cuda attention: null lse");
  check(!a.accumulate || a.out.dtype == DType::F32,
        "cuda attention: accumulate needs an fp32 out");
  FwdLaunch l{};
  l.q = a.q.data; l.k = a.k.data; l.v = a.v.data; l.out = a.out.data; l.lse = a.lse;
  copyStrides(a.q, l.qS); copyStrides(a.k, l.kS); copyStrides(a.v, l.vS);
  copyStrides(a.out, l.oS);
  l.B = s.batch; l.Hq = s.headsQ; l.Hkv = s.headsKV; l.Sq = s.seqQ; l.Skv = s.seqKV;
  l.D = s.headDim;
  l.scale = p.effectiveScale();
  l.inType = int(a.q.dtype);
  l.outType = int(a.out.dtype);
  l.accumulate = a.accumulate;
  l.step = stepDesc(p);
  if (s.seqKV == 0) l.step.kEnd = 0;
  return l;
}

} // namespace

CudaBackend::CudaBackend(cudaStream_t stream, int device) : stream_(stream), device_(device) {
  if (device_ < 0) CPRT_CUDA_CHECK(cudaGetDevice(&device_));
}

CudaBackend::~CudaBackend() {
  cudaStreamSynchronize(stream_);
  cudaFree(dqAccum_);
  cudaFree(delta_);
  for (Staged &s : staged_) cudaFree(s.dev);
}

void *CudaBackend::allocate(size_t bytes) {
  void *p = nullptr;
  CPRT_CUDA_CHECK(cudaMallocAsync(&p, bytes ? bytes : 16, stream_));
  return p;
}

void CudaBackend::deallocate(void *ptr) {
  if (ptr) CPRT_CUDA_CHECK(cudaFreeAsync(ptr, stream_));
}

void CudaBackend::copy(void *dst, const void *src, size_t bytes) {
  if (bytes && dst != src)
    CPRT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_));
}

void CudaBackend::copy2D(void *dst, size_t dpitch, const void *src, size_t spitch,
                         size_t width, size_t rows) {
  if (width && rows)
    CPRT_CUDA_CHECK(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, rows, cudaMemcpyDefault,
                                      stream_));
}

void CudaBackend::zero(void *dst, size_t bytes) {
  if (bytes) CPRT_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream_));
}

void CudaBackend::fillF32(float *dst, float value, size_t n) {
  if (value == 0.f)
    CPRT_CUDA_CHECK(cudaMemsetAsync(dst, 0, n * 4, stream_));
  else
    launchFillF32(dst, value, int64_t(n), stream_);
}

void CudaBackend::convert(const void *src, DType srcType, void *dst, DType dstType, size_t n) {
  if (srcType == dstType) return copy(dst, src, n * dtypeSize(srcType));
  if (dstType == DType::F32) // bf16 / fp16 -> fp32
    return launchToF32(src, int(srcType), static_cast<float *>(dst), int64_t(n), 0, stream_);
  check(srcType == DType::F32,
        "cuda backend: convert between two 16-bit types goes through fp32");
  launchConvertF32(static_cast<const float *>(src), dst, int(dstType), int64_t(n), stream_);
}

const void *CudaBackend::toDevice(const void *p, size_t bytes) {
  if (!p || bytes == 0) return p;
  cudaPointerAttributes at{};
  if (cudaPointerGetAttributes(&at, p) == cudaSuccess &&
      (at.type == cudaMemoryTypeDevice || at.type == cudaMemoryTypeManaged))
    return p;
  cudaGetLastError(); // clear a sticky "invalid value" from the query
  for (Staged &s : staged_)
    if (s.host == p && s.copy.size() == bytes && std::memcmp(s.copy.data(), p, bytes) == 0)
      return s.dev;
  if (staged_.size() >= 32) { // bounded cache: drop the oldest
    CPRT_CUDA_CHECK(cudaFreeAsync(staged_.front().dev, stream_));
    staged_.erase(staged_.begin());
  }
  Staged s;
  s.host = p;
  s.copy.assign(static_cast<const char *>(p), static_cast<const char *>(p) + bytes);
  CPRT_CUDA_CHECK(cudaMallocAsync(&s.dev, bytes, stream_));
  // From the private copy, which outlives the asynchronous transfer.
  CPRT_CUDA_CHECK(cudaMemcpyAsync(s.dev, s.copy.data(), bytes, cudaMemcpyHostToDevice, stream_));
  staged_.push_back(std::move(s));
  return staged_.back().dev;
}

MaskSpec CudaBackend::deviceMask(const AttentionParams &p) {
  MaskSpec m = p.mask;
  const AttentionShape &s = p.shape;
  // Largest positions used (mask extents are indexed by positions).
  auto maxPos = [&](const int64_t *pos, int64_t n) -> int64_t {
    if (!pos) return n - 1;
    std::vector<int64_t> h(static_cast<size_t>(n));
    CPRT_CUDA_CHECK(cudaMemcpy(h.data(), pos, size_t(n) * 8, cudaMemcpyDefault));
    int64_t mx = -1;
    for (int64_t x : h) mx = std::max(mx, x);
    return mx;
  };
  if (m.boolMask || m.addMask) {
    const int64_t mp = maxPos(m.qPos, s.seqQ), mk = maxPos(m.kvPos, s.seqKV);
    size_t extent = 1;
    if (mp >= 0 && mk >= 0)
      extent = size_t((s.batch - 1) * m.maskBStride + (s.headsQ - 1) * m.maskHStride +
                      mp * m.maskRowStride + mk + 1);
    if (m.boolMask) m.boolMask = static_cast<const uint8_t *>(toDevice(m.boolMask, extent));
    if (m.addMask) m.addMask = static_cast<const float *>(toDevice(m.addMask, extent * 4));
  }
  m.qPos = static_cast<const int64_t *>(toDevice(m.qPos, size_t(s.seqQ) * 8));
  m.kvPos = static_cast<const int64_t *>(toDevice(m.kvPos, size_t(s.seqKV) * 8));
  if (m.docIds) m.docIds = static_cast<const int32_t *>(toDevice(m.docIds, size_t(m.docLen) * 4));
  return m;
}

void CudaBackend::synchronize() { CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

float *CudaBackend::scratch(float *&buf, size_t &cap, size_t n) {
  if (n > cap) {
    if (buf) {
      CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_));
      CPRT_CUDA_CHECK(cudaFree(buf));
      buf = nullptr;
    }
    CPRT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&buf), n * sizeof(float)));
    cap = n;
  }
  return buf;
}

void CudaBackend::forward(const AttentionParams &p, const ForwardArgs &a) {
  validateParams(p);
  const AttentionShape &s = p.shape;
  if (s.batch == 0 || s.seqQ == 0) return;
  if (a.q.dtype == DType::F32 || !flashSupportsHeadDim(s.headDim, false)) {
    // fp32 or a head dim without a flash kernel (compiled modules of small /
    // fp32 models): the one-thread-per-row kernel of NaiveAttention.cu.
    if (a.accumulate && (p.stepCausal == StepCausal::Skip || s.seqKV == 0)) return;
    FwdLaunch l = naiveLaunch(p, a);
    l.mask = maskDesc(deviceMask(p));
    launchNaiveForward(l, stream_);
    return;
  }
  check(flashSupportsHeadDim(s.headDim, false),
        "cuda attention: head dim " + std::to_string(s.headDim) +
            " unsupported (64, 128, 256)");
  checkView(a.q, "q", true);
  checkView(a.out, "out", false);
  check(a.lse != nullptr, "cuda attention: null lse");
  if (a.accumulate) {
    check(a.out.dtype == DType::F32,
          std::string("cuda attention: accumulate needs an fp32 out, got ") +
              dtypeName(a.out.dtype));
    // A block that sees nothing leaves (out, lse) as they are.
    if (p.stepCausal == StepCausal::Skip || s.seqKV == 0) return;
  }
  if (s.seqKV > 0) {
    checkView(a.k, "k", true);
    checkView(a.v, "v", true);
    check(a.k.dtype == a.q.dtype && a.v.dtype == a.q.dtype,
          "cuda attention: q, k and v must share one dtype");
  }
  FwdLaunch l{};
  l.q = a.q.data; l.k = a.k.data; l.v = a.v.data; l.out = a.out.data; l.lse = a.lse;
  copyStrides(a.q, l.qS); copyStrides(a.k, l.kS); copyStrides(a.v, l.vS);
  copyStrides(a.out, l.oS);
  l.B = s.batch; l.Hq = s.headsQ; l.Hkv = s.headsKV; l.Sq = s.seqQ; l.Skv = s.seqKV;
  l.D = s.headDim;
  l.scale = p.effectiveScale();
  check(l.scale > 0.f, "cuda attention: scale must be > 0 (the kernels fold it into exp2)");
  l.inType = int(a.q.dtype);
  l.outType = int(a.out.dtype);
  l.accumulate = a.accumulate;
  l.step = stepDesc(p);
  if (s.seqKV == 0) l.step.kEnd = 0;
  l.mask = maskDesc(deviceMask(p));
  if (s.seqKV == 0) { l.k = l.v = a.q.data; copyStrides(a.q, l.kS); copyStrides(a.q, l.vS); }
  launchFlashForward(l, stream_);
}

void CudaBackend::computeDelta(const AttentionShape &s, const TensorView &dout,
                               const TensorView &out, float *delta) {
  int64_t doS[3], oS[3];
  copyStrides(dout, doS);
  copyStrides(out, oS);
  launchDelta(dout.data, int(dout.dtype), doS, out.data, int(out.dtype), oS, delta, s.batch,
              s.headsQ, s.seqQ, s.headDim, stream_);
}

/// Checks the arguments of a backward: the flash kernels' layout rules, or
/// the naive kernel's (any element type, head dims 1..256).
static void checkBackward(const AttentionParams &p, const BackwardArgs &a, bool flash) {
  const AttentionShape &s = p.shape;
  if (a.accumulate)
    check(a.dq.dtype == DType::F32 && a.dk.dtype == DType::F32 && a.dv.dtype == DType::F32,
          "cuda attention backward: accumulate needs fp32 dq/dk/dv");
  check(s.seqQ > 0 && s.seqKV > 0, "cuda attention backward: empty sequence");
  check(a.k.dtype == a.q.dtype && a.v.dtype == a.q.dtype && a.dout.dtype == a.q.dtype,
        "cuda attention backward: q, k, v and dout must share one dtype");
  check(a.lse != nullptr, "cuda attention backward: null lse");
  check(a.dk.dtype == a.dv.dtype, "cuda attention backward: dk and dv must share one dtype");
  check(a.dq.data && a.dq.stride[3] == 1, "cuda attention backward: bad dq");
  if (!flash) {
    check(naiveSupportsHeadDim(s.headDim), "cuda attention backward: head dim " +
                                               std::to_string(s.headDim) +
                                               " unsupported (1..256)");
    for (const TensorView *v : {&a.q, &a.k, &a.v, &a.dout, &a.dk, &a.dv})
      check(v->data && v->stride[3] == 1,
            "cuda attention backward: tensors must be contiguous in the head dim");
    check(a.dk.dtype == DType::F32 || a.dk.dtype == a.q.dtype,
          "cuda attention backward: dk/dv must be fp32 or the input type");
    return;
  }
  checkView(a.q, "q", true); checkView(a.k, "k", true); checkView(a.v, "v", true);
  checkView(a.dout, "dout", true);
  checkView(a.dk, "dk", false); checkView(a.dv, "dv", false);
}

void CudaBackend::backward(const AttentionParams &p, const BackwardArgs &a) {
  validateParams(p);
  const AttentionShape &s = p.shape;
  if (s.batch == 0) return;
  // fp32 inputs and head dims the flash backward lacks (compiled fp32
  // modules, D = 16 fixtures) take the naive kernels of NaiveAttention.cu.
  const bool flash = a.q.dtype != DType::F32 && flashSupportsHeadDim(s.headDim, true);
  checkBackward(p, a, flash);

  const size_t rows = size_t(s.batch * s.headsQ * s.seqQ);
  const float *delta = a.delta;
  if (!delta) {
    check(a.out.data && a.out.stride[3] == 1, "cuda attention backward: bad out");
    float *d = scratch(delta_, deltaCap_, rows);
    computeDelta(s, a.dout, a.out, d);
    delta = d;
  }
  float *dqAcc = scratch(dqAccum_, dqCap_, rows * size_t(s.headDim));
  CPRT_CUDA_CHECK(cudaMemsetAsync(dqAcc, 0, rows * size_t(s.headDim) * 4, stream_));

  BwdLaunch l{};
  l.q = a.q.data; l.k = a.k.data; l.v = a.v.data; l.dout = a.dout.data;
  l.lse = a.lse; l.delta = delta; l.dqAccum = dqAcc; l.dk = a.dk.data; l.dv = a.dv.data;
  copyStrides(a.q, l.qS); copyStrides(a.k, l.kS); copyStrides(a.v, l.vS);
  copyStrides(a.dout, l.doS); copyStrides(a.dk, l.dkS); copyStrides(a.dv, l.dvS);
  l.B = s.batch; l.Hq = s.headsQ; l.Hkv = s.headsKV; l.Sq = s.seqQ; l.Skv = s.seqKV;
  l.D = s.headDim;
  l.scale = p.effectiveScale();
  l.inType = int(a.q.dtype);
  l.dkvType = int(a.dk.dtype);
  l.accumulate = a.accumulate;
  l.step = stepDesc(p);
  l.mask = maskDesc(deviceMask(p));
  if (flash)
    launchFlashBackward(l, stream_);
  else
    launchNaiveBackward(l, stream_);
  int64_t dqS[3];
  copyStrides(a.dq, dqS);
  launchStoreScaled(dqAcc, a.dq.data, int(a.dq.dtype), dqS, s.batch, s.headsQ, s.seqQ,
                    s.headDim, l.scale, a.accumulate, stream_);
}

void CudaBackend::mergePartial(float *out, float *lse, const float *outB, const float *lseB,
                               int64_t rows, int64_t d) {
  launchMerge(out, lse, outB, lseB, rows, d, stream_);
}

void CudaBackend::convertFromF32(const float *src, void *dst, DType t, int64_t n) {
  launchConvertF32(src, dst, int(t), n, stream_);
}

void CudaBackend::addF32(float *dst, const float *src, size_t n) {
  launchAddF32(dst, src, int64_t(n), stream_);
}

void CudaBackend::gatherRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                             int64_t seqSrc, int64_t seqDst, int64_t innerBytes) {
  launchGatherRows(src, dst, idx, outer, seqSrc, seqDst, innerBytes, stream_);
}

void CudaBackend::scatterRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                              int64_t seqSrc, int64_t seqDst, int64_t innerBytes) {
  launchScatterRows(src, dst, idx, outer, seqSrc, seqDst, innerBytes, stream_);
}

} // namespace cprt
