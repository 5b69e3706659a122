//===- CudaBackend.h - Flash-attention kernels on CUDA GPUs -----*- C++ -*-===//
//
// KernelBackend over device memory: FA2-style forward / backward on tensor
// cores (mma.sync, sm_80+; built for sm_90 and sm_80), fp32 merge, the
// memory operations the ring scheduler uses (so cprt::ringAttentionForward /
// Backward run unchanged on the GPU with a GpuCommunicator on the same
// stream), and the load balancer's permutations. Tensor pointers are device
// pointers. MaskSpec arrays (qPos, kvPos, docIds, boolMask, addMask) may be
// host memory (the Attention.h contract): they are staged to the device and
// cached (by address, size and content); device pointers are used as they
// are. All work is queued on stream() and returns without waiting; call
// synchronize() before reading results on the host.
//
// Supported: q/k/v (and dout) bf16 or fp16 of one type, fp32 accumulation,
// head dim 64 / 128 / 256 forward, 64 / 128 backward; out fp32 or the input
// type; dq/dk/dv fp32 or the input type (fp32 with accumulate). Views need
// 16-byte aligned bases and B/H/S strides that are multiples of 8 elements.
// fp32 inputs and other head dims (1..256) take the naive kernels of
// NaiveAttention.cu, forward and backward (same contract, much slower).
// Fully masked rows give out 0 and LSE -inf (never NaN).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_CUDABACKEND_H
#define CPRT_CUDA_CUDABACKEND_H

#include "cprt/Attention.h"

#include <cuda_runtime_api.h>
#include <vector>

namespace cprt {

class CudaBackend : public KernelBackend {
public:
  /// device < 0: the calling thread's current device.
  explicit CudaBackend(cudaStream_t stream = nullptr, int device = -1);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend &) = delete;
  CudaBackend &operator=(const CudaBackend &) = delete;

  const char *name() const override { return "cuda"; }
  void forward(const AttentionParams &p, const ForwardArgs &a) override;
  void backward(const AttentionParams &p, const BackwardArgs &a) override;
  void mergePartial(float *out, float *lse, const float *outB, const float *lseB, int64_t rows,
                    int64_t d) override;

  // Memory operations in device memory, ordered on stream().
  void attentionDelta(const AttentionShape &s, const TensorView &dout, const TensorView &out,
                      float *delta) override {
    computeDelta(s, dout, out, delta);
  }
  void *allocate(size_t bytes) override;
  void deallocate(void *ptr) override;
  void copy(void *dst, const void *src, size_t bytes) override;
  void copy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
              size_t rows) override;
  void zero(void *dst, size_t bytes) override;
  void fillF32(float *dst, float value, size_t n) override;
  void addF32(float *dst, const float *src, size_t n) override;
  void convert(const void *src, DType srcType, void *dst, DType dstType, size_t n) override;

  cudaStream_t stream() const { return stream_; }
  void setStream(cudaStream_t s) { stream_ = s; }
  int device() const { return device_; }
  /// Waits for the stream; throws cprt::Error on a CUDA error.
  void synchronize();

  /// delta = rowsum(dout * out), fp32 [B, Hq, Sq] contiguous.
  void computeDelta(const AttentionShape &s, const TensorView &dout, const TensorView &out,
                    float *delta);
  /// dst (dtype t, contiguous) = src (fp32), n elements.
  void convertFromF32(const float *src, void *dst, DType t, int64_t n);
  /// Load-balancer permutations on [outer][seq][innerBytes] buffers:
  /// gather: dst[o][i] = idx[i] >= 0 ? src[o][idx[i]] : 0 for i < seqDst;
  /// scatter: dst[o][idx[i]] = src[o][i] for idx[i] >= 0, i < seqSrc.
  /// idx is a device array of int64.
  void gatherRows(const void *src, void *dst, const int64_t *idx, int64_t outer, int64_t seqSrc,
                  int64_t seqDst, int64_t innerBytes);
  void scatterRows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                   int64_t seqSrc, int64_t seqDst, int64_t innerBytes);

protected:
  float *scratch(float *&buf, size_t &cap, size_t n);
  /// Device copy of a mask array (passthrough for device memory).
  const void *toDevice(const void *p, size_t bytes);
  MaskSpec deviceMask(const AttentionParams &p);
  struct Staged {
    const void *host;
    std::vector<char> copy;
    void *dev;
  };
  std::vector<Staged> staged_;
  cudaStream_t stream_;
  int device_;
  float *dqAccum_ = nullptr, *delta_ = nullptr;
  size_t dqCap_ = 0, deltaCap_ = 0;
};

} // namespace cprt

#endif
