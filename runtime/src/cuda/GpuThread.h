//===- GpuThread.h - per-rank state of GPU-compiled code --------*- C++ -*-===//
//
// Internal to the CUDA runtime. What the mgpu* shim (MgpuRuntime.cpp) and
// the cprt_gpu_* entries (GpuCompiledAbi.cpp) share: the calling rank
// thread's stream, backend, cuBLAS handle, sticky error and counters, and
// the debugging switches (CPRT_GPU_SYNC, CPRT_GPU_DEBUG_NAN).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SRC_CUDA_GPUTHREAD_H
#define CPRT_SRC_CUDA_GPUTHREAD_H

#include "cprt/Context.h"
#include "cprt/cuda/CudaBackend.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace cprt::gpu {

/// Per-thread (per-rank) state of compiled code.
struct GpuThread {
  cudaStream_t stream = nullptr; // the rank stream (null: legacy default)
  CudaBackend *backend = nullptr;
  cublasHandle_t cublas = nullptr;
  bool failed = false;
  std::string error;
  int64_t launches = 0, calls = 0, bytesNow = 0, bytesPeak = 0;
  std::unordered_map<void *, size_t> sizes; // live allocations
  std::unordered_map<void *, int64_t> nans; // CPRT_GPU_DEBUG_NAN
  int debugReports = 0;
};
/// This thread's state (defined in GpuCompiledAbi.cpp).
extern thread_local GpuThread tls;

/// CPRT_GPU_SYNC=1: synchronise after every kernel and runtime call.
inline bool syncEveryOp() {
  static const bool on = [] {
    const char *e = std::getenv("CPRT_GPU_SYNC");
    return e && *e && *e != '0';
  }();
  return on;
}

/// CPRT_GPU_DEBUG_NAN=1: scan the live buffers for NaNs after each op.
inline bool debugNan() {
  static const bool on = [] {
    const char *e = std::getenv("CPRT_GPU_DEBUG_NAN");
    return e && *e && *e != '0';
  }();
  return on;
}

/// With CPRT_GPU_DEBUG_NAN=1: counts the NaNs (as fp32) in every live buffer
/// of compiled code and reports the buffers whose count grew, naming `what`
/// (MgpuRuntime.cpp).
void debugScan(const std::string &what);

/// Records the first failure of this thread, with its rank.
inline void fail(const std::string &msg) {
  if (tls.failed) return;
  tls.failed = true;
  RankContext *c = currentContext();
  tls.error = c ? "rank " + std::to_string(c->comm->rank()) + ": " + msg : msg;
}

/// False (and the sticky error set) unless `e` is cudaSuccess.
inline bool checkCuda(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return true;
  fail(std::string(what) + ": " + cudaGetErrorString(e));
  return false;
}

} // namespace cprt::gpu

#endif // CPRT_SRC_CUDA_GPUTHREAD_H
