//===- KernelBackend.cpp - Host defaults of the backend memory ops --------===//
#include "cprt/Attention.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
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
