//===- CudnnBackend.h - Attention through cuDNN's SDPA graphs ---*- C++ -*-===//
//
// A CudaBackend whose forward / backward go through cuDNN's fused SDPA
// (graph API via the header-only cudnn-frontend), with softmax stats as the
// LSE (natural log, fp32). Graphs are built once per shape/stride/mode and
// cached. Handled by cuDNN: no MaskSpec beyond the step behaviour, step
// behaviours not_causal, causal (top-left), kv_head_half and q_tail_half
// (as sub-views), bf16/fp16, GQA. Everything else (positions, windows,
// documents, bool/additive masks, causal_strict, unsupported shapes) falls
// back to the flash kernels of CudaBackend, so results never depend on
// which path ran. fp32 outputs / accumulation go through a typed scratch.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_CUDNNBACKEND_H
#define CPRT_CUDA_CUDNNBACKEND_H

#include "cprt/cuda/CudaBackend.h"

#include <memory>

namespace cprt {

class CudnnBackend final : public CudaBackend {
public:
  explicit CudnnBackend(cudaStream_t stream = nullptr, int device = -1);
  ~CudnnBackend() override;
  const char *name() const override { return "cudnn"; }
  void forward(const AttentionParams &p, const ForwardArgs &a) override;
  void backward(const AttentionParams &p, const BackwardArgs &a) override;
  /// Calls that went to cuDNN / fell back to the flash kernels.
  int64_t cudnnCalls() const { return cudnnCalls_; }
  int64_t fallbackCalls() const { return fallbackCalls_; }

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t cudnnCalls_ = 0, fallbackCalls_ = 0;
};

} // namespace cprt

#endif
