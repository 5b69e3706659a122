//===- KernelBackend.cpp - Host defaults of the backend memory ops --------===//
#include "cprt/Attention.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace cprt {

void *KernelBackend::allocate(size_t bytes) {
  // 64-byte alignment suits AVX-512 loads.
  void *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return p;
}

void KernelBackend::deallocate(void *ptr) { std::free(ptr); }

void KernelBackend::copy(void *dst, const void *src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}

void KernelBackend::copy2D(void *dst, size_t dpitch, const void *src,
                           size_t spitch, size_t width, size_t rows) {
  if (!width) return;
  char *d = static_cast<char *>(dst);
  const char *s = static_cast<const char *>(src);
  for (size_t i = 0; i < rows; ++i)
    std::memcpy(d + i * dpitch, s + i * spitch, width);
}

void KernelBackend::zero(void *dst, size_t bytes) {
  if (bytes) std::memset(dst, 0, bytes);
}

void KernelBackend::fillF32(float *dst, float value, size_t n) {
  std::fill(dst, dst + n, value);
}

void KernelBackend::addF32(float *dst, const float *src, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void KernelBackend::convert(const void *src, DType srcType, void *dst,
                            DType dstType, size_t n) {
  if (srcType == dstType) {
    copy(dst, src, n * dtypeSize(srcType));
    return;
  }
  if (srcType == DType::F32) {
    convertFromF32(static_cast<const float *>(src), dst, dstType, int64_t(n));
    return;
  }
  if (dstType == DType::F32) {
    convertToF32(src, srcType, static_cast<float *>(dst), int64_t(n));
    return;
  }
  std::vector<float> tmp(n);
  convertToF32(src, srcType, tmp.data(), int64_t(n));
  convertFromF32(tmp.data(), dst, dstType, int64_t(n));
}

void forwardAccumulateViaMerge(KernelBackend &be, const AttentionParams &p,
                               const ForwardArgs &a) {
  validateParams(p);
  const AttentionShape &s = p.shape;
  check(a.out.dtype == DType::F32,
        std::string("attention: accumulate needs an fp32 out, got ") +
            dtypeName(a.out.dtype));
  if (s.batch == 0 || s.seqQ == 0) return;
  check(a.out.data != nullptr && a.lse != nullptr,
        "attention: accumulate needs out and lse");
  const int64_t D = s.headDim, Sq = s.seqQ, Hq = s.headsQ;
  check(a.out.stride[3] == 1 && a.out.stride[2] == D,
        "attention: accumulate (merge fallback) needs out rows contiguous "
        "(sequence stride == head dim)");
  // Nothing visible: every row keeps its (out, lse) bit for bit.
  if (p.stepCausal == StepCausal::Skip || s.seqKV == 0) return;
  const size_t rows = size_t(s.batch * Hq * Sq);
  BackendBuffer part(be, rows * size_t(D) * 4), partLse(be, rows * 4);
  ForwardArgs f = a;
  f.accumulate = false;
  f.out = TensorView::contiguous(part.data(), DType::F32, Hq, Sq, D);
  f.lse = partLse.f32();
  be.forward(p, f);
  float *out = static_cast<float *>(a.out.data);
  if (a.out.stride[1] == Sq * D && a.out.stride[0] == Hq * Sq * D) {
    be.mergePartial(out, a.lse, part.f32(), partLse.f32(), int64_t(rows), D);
    return;
  }
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t r0 = (b * Hq + h) * Sq;
      be.mergePartial(out + b * a.out.stride[0] + h * a.out.stride[1], a.lse + r0,
                      part.f32() + r0 * D, partLse.f32() + r0, Sq, D);
    }
}

void KernelBackend::attentionDelta(const AttentionShape &s,
                                   const TensorView &dout,
                                   const TensorView &out, float *delta) {
  const int64_t D = s.headDim;
  std::vector<float> o(D), g(D);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.headsQ; ++h)
      for (int64_t i = 0; i < s.seqQ; ++i) {
        auto row = [&](const TensorView &v) {
          return static_cast<const char *>(v.data) +
                 (b * v.stride[0] + h * v.stride[1] + i * v.stride[2]) *
                     dtypeSize(v.dtype);
        };
        convertToF32(row(out), out.dtype, o.data(), D);
        convertToF32(row(dout), dout.dtype, g.data(), D);
        float acc = 0.f;
        for (int64_t x = 0; x < D; ++x) acc += o[x] * g[x];
        delta[(b * s.headsQ + h) * s.seqQ + i] = acc;
      }
}

} // namespace cprt
