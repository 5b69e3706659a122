//===- CpuBackend.h - Blocked (flash-style) CPU attention -------*- C++ -*-===//
//
// Multi-threaded (OpenMP) CPU kernels: memory per thread is O(tile), never
// O(S^2). Storage fp32 / bf16 / fp16, accumulation in fp32. The CPU backend
// is the embedded default and the oracle for GPU backends.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CPUBACKEND_H
#define CPRT_CPUBACKEND_H

#include "cprt/Attention.h"

namespace cprt {

class CpuBackend final : public KernelBackend {
public:
  /// numThreads <= 0: OpenMP default.
  explicit CpuBackend(int numThreads = 0) : numThreads_(numThreads) {}
  const char *name() const override { return "cpu"; }
  void forward(const AttentionParams &p, const ForwardArgs &a) override;
  void backward(const AttentionParams &p, const BackwardArgs &a) override;
  void mergePartial(float *out, float *lse, const float *outB,
                    const float *lseB, int64_t rows, int64_t d) override;

  void setNumThreads(int n) { numThreads_ = n; }
  int numThreads() const;

  static constexpr int64_t kTileQ = 64;
  static constexpr int64_t kTileK = 64;

private:
  int numThreads_;
};

/// Validates shape/params/views; throws cprt::Error naming the problem.
void validateParams(const AttentionParams &p);

/// Free-function merge used by all host code (same math as mergePartial).
void mergePartialF32(float *out, float *lse, const float *outB,
                     const float *lseB, int64_t rows, int64_t d);

/// Converts n elements between storage types (fp32 <-> bf16 / fp16).
void convertToF32(const void *src, DType t, float *dst, int64_t n);
void convertFromF32(const float *src, void *dst, DType t, int64_t n);

/// Number of hardware threads OpenMP would use by default.
int hardwareThreads();

} // namespace cprt

#endif // CPRT_CPUBACKEND_H
