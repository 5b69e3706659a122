//===- AutoBackend.h - Per-shape choice of flash kernels or cuDNN -*- C++ -*-===//
//
// A CudaBackend that runs each attention call on whichever of the two GPU
// paths is faster for it: our flash kernels (CudaBackend) or cuDNN's fused
// SDPA (CudnnBackend). The choice is measured, not assumed: the first call
// of a new problem (shape, dtypes, step behaviour, forward or backward) runs
// both paths once to warm up (cuDNN builds its graph) and once timed with
// CUDA events, on scratch outputs, and caches the faster one; later calls of
// the same problem go straight to it. Calls that cuDNN cannot take (masks
// beyond the step behaviour, causal_strict, skip) go to the flash kernels
// without measuring. Results never depend on the choice beyond rounding: both
// paths meet the same tolerances against a float64 reference.
//
// Decisions are shared by every AutoBackend of the process (per device), so
// N virtual ranks measure a problem once (the others run that call on cuDNN
// meanwhile, building their own graph for it: cuDNN graphs are per backend). The measuring call synchronises
// the stream once (to read the events); set CPRT_CUDA_AUTO_VERBOSE=1 to
// print every decision to stderr.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_AUTOBACKEND_H
#define CPRT_CUDA_AUTOBACKEND_H

#include "cprt/cuda/CudnnBackend.h"

#include <functional>
#include <memory>
#include <string>

namespace cprt {

class AutoBackend final : public CudaBackend {
public:
  explicit AutoBackend(cudaStream_t stream = nullptr, int device = -1);
  ~AutoBackend() override;
  const char *name() const override { return "auto"; }
  void forward(const AttentionParams &p, const ForwardArgs &a) override;
  void backward(const AttentionParams &p, const BackwardArgs &a) override;

  /// Calls that ran on cuDNN / on the flash kernels, and problems measured.
  int64_t cudnnCalls() const { return cudnnCalls_; }
  int64_t flashCalls() const { return flashCalls_; }
  int64_t measured() const { return measured_; }

private:
  struct Pick {
    bool ready; ///< false while one rank measures it
    bool cudnn;
    float flashMs, cudnnMs;
  };
  /// Whether cuDNN runs this problem: the cached decision, or (the first
  /// time) runs `run(false)` (flash) and `run(true)` (cuDNN) on scratch
  /// outputs, warm then timed, and caches the faster path. While another
  /// rank measures the same problem, answers cuDNN without caching.
  bool choose(const std::string &problem, const std::function<void(bool cudnn)> &run);
  CudnnBackend &cudnn();

  std::unique_ptr<CudnnBackend> cudnn_;
  int64_t cudnnCalls_ = 0, flashCalls_ = 0, measured_ = 0;
  bool verbose_ = false;
};

} // namespace cprt

#endif
