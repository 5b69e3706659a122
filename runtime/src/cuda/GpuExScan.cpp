//===- GpuExScan.cpp - exclusive scan over device-memory ranks ------------===//
//
// NCCL has no scan collective. The blocks of the ranks before this one (in
// scan order) arrive by the transport's all-to-all in device scratch, are
// copied to the host and folded there (foldScanBlocks, the same fold as the
// host transports), and the result is copied to `recv` on stream(). Compiled
// on the CPU-only build machine; runs where a GPU is present.
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/GpuCommunicator.h"

#include "CudaCheck.h"

#include <vector>

namespace cprt {
namespace {

/// A request that completed when it was started.
class DoneRequest final : public CommRequest {
public:
  void wait() override {}
};

/// Device scratch freed on every exit path.
struct DeviceScratch {
  void *ptr = nullptr;
  explicit DeviceScratch(size_t bytes) {
    if (bytes) CPRT_CUDA_CHECK(cudaMalloc(&ptr, bytes));
  }
  ~DeviceScratch() {
    if (ptr) cudaFree(ptr);
  }
};

} // namespace

CommRequestPtr GpuCommunicator::startExScan(const void *send, void *recv,
                                            size_t count, ScanType type,
                                            ScanKind kind, bool reverse) {
  const size_t bytes = count * scanTypeBytes(type);
  const int W = size(), r = rank();
  auto before = [&](int a, int b) { return reverse ? a > b : a < b; };
  std::vector<size_t> sc(W, 0), so(W, 0), rc(W, 0), ro(W, 0);
  std::vector<int> order;
  for (int q = 0; q < W; ++q) {
    ro[q] = size_t(q) * bytes;
    if (before(r, q)) sc[q] = bytes;
    if (before(q, r)) rc[q] = bytes;
  }
  for (int i = 0; i < W; ++i) {
    int q = reverse ? W - 1 - i : i;
    if (before(q, r)) order.push_back(q);
  }
  DeviceScratch scratch(size_t(W) * bytes);
  std::vector<char> host(size_t(W) * bytes), out(bytes);
  if (W > 1 && bytes > 0) {
    // wait() orders stream() after the transfer; the copy below follows it.
    startAllToAllV(send, sc.data(), so.data(), scratch.ptr, rc.data(),
                   ro.data())
        ->wait();
    CPRT_CUDA_CHECK(cudaMemcpyAsync(host.data(), scratch.ptr, host.size(),
                                    cudaMemcpyDeviceToHost, stream_));
    CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  std::vector<const void *> blocks;
  for (int q : order) blocks.push_back(host.data() + ro[q]);
  foldScanBlocks(blocks.data(), int(blocks.size()), out.data(), count, type,
                 kind);
  if (bytes) {
    CPRT_CUDA_CHECK(cudaMemcpyAsync(recv, out.data(), bytes,
                                    cudaMemcpyHostToDevice, stream_));
    CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  return std::make_unique<DoneRequest>();
}

} // namespace cprt
