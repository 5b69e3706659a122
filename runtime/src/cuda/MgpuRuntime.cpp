//===- MgpuRuntime.cpp - the mgpu* functions of GPU-compiled code ---------===//
//
// cprt_gpu_compiled.h: the `mgpu*` functions MLIR's gpu-to-llvm lowering
// calls (Debian's MLIR ships no mlir_cuda_runtime): thin wrappers over the
// CUDA driver / runtime API, bound to the calling rank's stream (GpuThread.h),
// with device-code modules loaded lazily per device, allocation counters and
// the CPRT_GPU_SYNC / CPRT_GPU_DEBUG_NAN debugging hooks.
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/cprt_gpu_compiled.h"
#include "GpuThread.h"

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

using namespace cprt::gpu;

namespace {

std::mutex namesMu;
std::unordered_map<void *, std::string> kernelNames;

} // namespace

/// CPRT_GPU_DEBUG_NAN=1: after each kernel / runtime call, counts the NaNs
/// (as fp32) in every live buffer of compiled code and reports the buffers
/// whose count grew: the first report names the op that made the first NaN.
void cprt::gpu::debugScan(const std::string &what) {
  if (!debugNan() || tls.failed || tls.debugReports > 12) return;
  cudaStreamSynchronize(tls.stream);
  for (auto &[p, bytes] : tls.sizes) {
    std::vector<float> h(bytes / 4);
    if (cudaMemcpy(h.data(), p, h.size() * 4, cudaMemcpyDeviceToHost) != cudaSuccess) return;
    int64_t n = 0;
    for (float f : h) n += f != f;
    int64_t &prev = tls.nans[p];
    if (n > prev && tls.debugReports++ <= 12)
      std::fprintf(stderr, "[nan] after %s (launch %lld): buffer %p (%zu bytes) NaN %lld -> %lld\n",
                   what.c_str(), (long long)tls.launches, p, bytes, (long long)prev, (long long)n);
    prev = n;
  }
}

namespace {

bool checkCu(CUresult r, const char *what) {
  if (r == CUDA_SUCCESS) return true;
  const char *s = nullptr;
  cuGetErrorString(r, &s);
  fail(std::string(what) + ": " + (s ? s : "unknown CUDA driver error"));
  return false;
}

/// The stream compiled code means: its own (the rank stream) for null.
cudaStream_t streamOf(void *s) {
  return s ? static_cast<cudaStream_t>(s) : tls.stream;
}


/// A device-code blob: loaded lazily per device (the load call runs in a
/// global constructor, before any device is chosen).
struct GpuModule {
  const void *data;
  size_t size;
  bool jit;
  std::mutex mu;
  std::map<std::pair<int, std::string>, CUfunction> functions;
  std::map<int, CUmodule> modules;
};

CUfunction getFunction(GpuModule *m, const char *name) {
  int dev = 0;
  if (!checkCuda(cudaGetDevice(&dev), "cudaGetDevice")) return nullptr;
  // The runtime API makes the primary context current.
  if (!checkCuda(cudaFree(nullptr), "CUDA context")) return nullptr;
  std::lock_guard<std::mutex> lock(m->mu);
  auto key = std::make_pair(dev, std::string(name));
  auto it = m->functions.find(key);
  if (it != m->functions.end()) return it->second;
  CUmodule &mod = m->modules[dev];
  if (!mod) {
    CUresult r = m->jit ? cuModuleLoadDataEx(&mod, m->data, 0, nullptr, nullptr)
                        : cuModuleLoadData(&mod, m->data);
    if (!checkCu(r, "loading the module's device code (cuModuleLoadData)")) {
      mod = nullptr;
      return nullptr;
    }
  }
  CUfunction f = nullptr;
  if (!checkCu(cuModuleGetFunction(&f, mod, name),
               (std::string("kernel ") + name).c_str()))
    return nullptr;
  m->functions[key] = f;
  {
    std::lock_guard<std::mutex> names(namesMu);
    kernelNames[f] = name;
  }
  return f;
}

} // namespace

extern "C" {

//===----------------------------------------------------------------------===//
// mgpu* (MLIR gpu-to-llvm ABI)
//===----------------------------------------------------------------------===//

void *mgpuModuleLoad(void *data, size_t size) {
  auto *m = new GpuModule{data, size, false, {}, {}, {}};
  return m;
}
void *mgpuModuleLoadJIT(void *data, int /*optLevel*/, size_t size) {
  auto *m = new GpuModule{data, size, true, {}, {}, {}};
  return m;
}
void mgpuModuleUnload(void *module) {
  auto *m = static_cast<GpuModule *>(module);
  // Modules are unloaded at exit (global destructor): contexts may be gone,
  // so the CUmodules are left to the driver's teardown.
  delete m;
}
void *mgpuModuleGetFunction(void *module, const char *name) {
  if (tls.failed) return nullptr;
  return getFunction(static_cast<GpuModule *>(module), name);
}
void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz, intptr_t bx,
                      intptr_t by, intptr_t bz, int32_t smem, void *stream, void **params,
                      void **extra, size_t /*paramsCount*/) {
  if (tls.failed || !function) return;
  ++tls.launches;
  checkCu(cuLaunchKernel(static_cast<CUfunction>(function), unsigned(gx), unsigned(gy),
                         unsigned(gz), unsigned(bx), unsigned(by), unsigned(bz),
                         unsigned(smem), static_cast<CUstream>(streamOf(stream)), params,
                         extra),
          "cuLaunchKernel");
  if (!tls.failed && syncEveryOp())
    checkCuda(cudaStreamSynchronize(streamOf(stream)), "kernel");
  if (debugNan()) {
    std::string name;
    {
      std::lock_guard<std::mutex> names(namesMu);
      name = kernelNames[function];
    }
    debugScan("kernel " + name + " grid " + std::to_string(gx) + " block " + std::to_string(bx));
  }
}
void *mgpuStreamCreate() {
  if (tls.stream) return tls.stream; // compiled code runs on the rank stream
  cudaStream_t s = nullptr;
  checkCuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return s;
}
void mgpuStreamDestroy(void *stream) {
  if (!stream || stream == tls.stream) return;
  checkCuda(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "cudaStreamDestroy");
}
void mgpuStreamSynchronize(void *stream) {
  // The rank stream orders everything compiled code does (kernels, runtime
  // calls, copies, frees), and the host never reads device memory inside
  // the function: no wait here unless CPRT_GPU_SYNC asks for one.
  if (tls.failed) return;
  if ((!stream || stream == tls.stream) && !syncEveryOp()) return;
  checkCuda(cudaStreamSynchronize(streamOf(stream)), "cudaStreamSynchronize");
}
void mgpuStreamWaitEvent(void *stream, void *event) {
  checkCuda(cudaStreamWaitEvent(streamOf(stream), static_cast<cudaEvent_t>(event), 0),
            "cudaStreamWaitEvent");
}
void *mgpuEventCreate() {
  cudaEvent_t e = nullptr;
  checkCuda(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
  return e;
}
void mgpuEventDestroy(void *event) {
  checkCuda(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "cudaEventDestroy");
}
void mgpuEventSynchronize(void *event) {
  checkCuda(cudaEventSynchronize(static_cast<cudaEvent_t>(event)), "cudaEventSynchronize");
}
void mgpuEventRecord(void *event, void *stream) {
  checkCuda(cudaEventRecord(static_cast<cudaEvent_t>(event), streamOf(stream)),
            "cudaEventRecord");
}
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared) {
  if (tls.failed) return nullptr;
  void *p = nullptr;
  if (isHostShared) {
    checkCuda(cudaMallocManaged(&p, bytes ? bytes : 1), "cudaMallocManaged");
  } else if (!checkCuda(cudaMallocAsync(&p, bytes ? bytes : 1, streamOf(stream)),
                        "device allocation (cudaMallocAsync)")) {
    return nullptr;
  }
  tls.sizes[p] = bytes;
  if (debugNan()) { // what the allocation held before anything wrote it
    tls.nans[p] = 0;
    debugScan("allocation of " + std::to_string(bytes) + " bytes");
  }
  tls.bytesNow += int64_t(bytes);
  tls.bytesPeak = std::max(tls.bytesPeak, tls.bytesNow);
  return p;
}
void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr) return;
  auto it = tls.sizes.find(ptr);
  if (it != tls.sizes.end()) {
    tls.bytesNow -= int64_t(it->second);
    tls.sizes.erase(it);
  }
  checkCuda(cudaFreeAsync(ptr, streamOf(stream)), "cudaFreeAsync");
}
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (tls.failed) return;
  checkCuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, streamOf(stream)),
            "cudaMemcpyAsync");
}
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  if (tls.failed) return;
  checkCu(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                           static_cast<CUstream>(streamOf(stream))),
          "cuMemsetD32Async");
}
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  if (tls.failed) return;
  checkCu(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                           static_cast<CUstream>(streamOf(stream))),
          "cuMemsetD16Async");
}
void mgpuSetDefaultDevice(int32_t device) {
  checkCuda(cudaSetDevice(device), "cudaSetDevice");
}

} // extern "C"
