//===- AutoBackend.cpp - Measured per-problem choice of flash or cuDNN ----===//
#include "cprt/cuda/AutoBackend.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace cprt {

namespace {

/// Problems cuDNN can take at all (CudnnBackend falls back otherwise).
bool cudnnCandidate(const AttentionParams &p) {
  return p.mask.isTrivial() && p.stepCausal != StepCausal::Skip &&
         p.stepCausal != StepCausal::CausalStrict;
}

std::string problemKey(const char *kind, const AttentionParams &p, DType in, DType out) {
  const AttentionShape &s = p.shape;
  return std::string(kind) + ":" + std::to_string(s.batch) + "," + std::to_string(s.headsQ) +
         "," + std::to_string(s.headsKV) + "," + std::to_string(s.seqQ) + "," +
         std::to_string(s.seqKV) + "," + std::to_string(s.headDim) + "," + dtypeName(in) +
         "->" + dtypeName(out) + "," + stepCausalName(p.stepCausal) +
         // Measured again when the flash forward kernel changes (CPRT_HOPPER_FWD).
         (cuda::hopperForwardEnabled() ? ",hopper" : "");
}

/// Two CUDA events around a piece of stream work.
struct EventPair {
  cudaEvent_t a = nullptr, b = nullptr;
  EventPair() {
    CPRT_CUDA_CHECK(cudaEventCreate(&a));
    CPRT_CUDA_CHECK(cudaEventCreate(&b));
  }
  ~EventPair() {
    cudaEventDestroy(a);
    cudaEventDestroy(b);
  }
  float ms() {
    CPRT_CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0;
    CPRT_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    return t;
  }
};

/// Process-wide decisions, keyed by device and problem.
std::mutex &picksMutex() {
  static std::mutex m;
  return m;
}
template <typename Pick> std::map<std::string, Pick> &picks() {
  static std::map<std::string, Pick> m;
  return m;
}

} // namespace

AutoBackend::AutoBackend(cudaStream_t stream, int device) : CudaBackend(stream, device) {
  const char *v = std::getenv("CPRT_CUDA_AUTO_VERBOSE");
  verbose_ = v && *v && std::string(v) != "0";
}

AutoBackend::~AutoBackend() = default;

CudnnBackend &AutoBackend::cudnn() {
  if (!cudnn_) cudnn_ = std::make_unique<CudnnBackend>(stream(), device());
  cudnn_->setStream(stream());
  return *cudnn_;
}

bool AutoBackend::choose(const std::string &problem, const std::function<void(bool)> &run) {
  const std::string key = "dev" + std::to_string(device()) + ":" + problem;
  {
    std::lock_guard<std::mutex> lock(picksMutex());
    auto it = picks<Pick>().find(key);
    // Another rank is measuring this problem right now: run it on cuDNN this
    // once (which also builds this backend's graph for it, as a measurement
    // would) rather than measure twice or wait for that rank (whose stream
    // may be ordered after ours through the communicator).
    if (it != picks<Pick>().end()) return it->second.ready ? it->second.cudnn : true;
    picks<Pick>().emplace(key, Pick{false, false, 0.f, 0.f});
  }
  ++measured_;
  Pick pick{true, false, 0.f, 0.f};
  try {
    run(false); // warm-up: module load, staging
    run(true);  // warm-up: cuDNN graph build and plan
    EventPair f, c;
    CPRT_CUDA_CHECK(cudaEventRecord(f.a, stream()));
    run(false);
    CPRT_CUDA_CHECK(cudaEventRecord(f.b, stream()));
    CPRT_CUDA_CHECK(cudaEventRecord(c.a, stream()));
    run(true);
    CPRT_CUDA_CHECK(cudaEventRecord(c.b, stream()));
    pick.flashMs = f.ms();
    pick.cudnnMs = c.ms();
    pick.cudnn = pick.cudnnMs < pick.flashMs;
  } catch (const Error &e) {
    // cuDNN refused the problem in a way its own fallback did not catch:
    // the flash kernels take it.
    if (verbose_) std::fprintf(stderr, "cprt auto: %s: cuDNN failed (%s)\n", key.c_str(), e.what());
    pick = Pick{true, false, 0.f, 0.f};
  }
  if (verbose_)
    std::fprintf(stderr, "cprt auto: %s: flash %.3f ms, cuDNN %.3f ms -> %s\n", key.c_str(),
                 pick.flashMs, pick.cudnnMs, pick.cudnn ? "cuDNN" : "flash");
  std::lock_guard<std::mutex> lock(picksMutex());
  picks<Pick>()[key] = pick;
  return pick.cudnn;
}

void AutoBackend::forward(const AttentionParams &p, const ForwardArgs &a) {
  validateParams(p);
  bool useCudnn = false;
  if (cudnnCandidate(p)) {
    const AttentionShape &s = p.shape;
    // Measured without accumulation, on contiguous scratch outputs: the
    // kernels' cost is the same and the caller's buffers stay untouched.
    BackendBuffer out, lse;
    auto run = [&](bool c) {
      if (!out.data()) {
        out = BackendBuffer(*this, size_t(s.batch * s.headsQ * s.seqQ * s.headDim) *
                                       dtypeSize(a.out.dtype));
        lse = BackendBuffer(*this, size_t(s.batch * s.headsQ * s.seqQ) * 4);
      }
      ForwardArgs t = a;
      t.accumulate = false;
      t.out = TensorView::contiguous(out.data(), a.out.dtype, s.headsQ, s.seqQ, s.headDim);
      t.lse = lse.f32();
      if (c)
        cudnn().forward(p, t);
      else
        CudaBackend::forward(p, t);
    };
    useCudnn = choose(problemKey("fwd", p, a.q.dtype, a.out.dtype), run);
  }
  if (useCudnn) {
    ++cudnnCalls_;
    cudnn().forward(p, a);
  } else {
    ++flashCalls_;
    CudaBackend::forward(p, a);
  }
}

void AutoBackend::backward(const AttentionParams &p, const BackwardArgs &a) {
  validateParams(p);
  bool useCudnn = false;
  if (cudnnCandidate(p)) {
    const AttentionShape &s = p.shape;
    BackendBuffer dq, dk, dv;
    auto run = [&](bool c) {
      const size_t qN = size_t(s.batch * s.headsQ * s.seqQ * s.headDim),
                   kvN = size_t(s.batch * s.headsKV * s.seqKV * s.headDim);
      if (!dq.data()) {
        dq = BackendBuffer(*this, qN * dtypeSize(a.dq.dtype));
        dk = BackendBuffer(*this, kvN * dtypeSize(a.dk.dtype));
        dv = BackendBuffer(*this, kvN * dtypeSize(a.dv.dtype));
      }
      BackwardArgs t = a;
      t.accumulate = false;
      t.dq = TensorView::contiguous(dq.data(), a.dq.dtype, s.headsQ, s.seqQ, s.headDim);
      t.dk = TensorView::contiguous(dk.data(), a.dk.dtype, s.headsKV, s.seqKV, s.headDim);
      t.dv = TensorView::contiguous(dv.data(), a.dv.dtype, s.headsKV, s.seqKV, s.headDim);
      if (c)
        cudnn().backward(p, t);
      else
        CudaBackend::backward(p, t);
    };
    useCudnn = choose(problemKey("bwd", p, a.q.dtype, a.dq.dtype), run);
  }
  if (useCudnn) {
    ++cudnnCalls_;
    cudnn().backward(p, a);
  } else {
    ++flashCalls_;
    CudaBackend::backward(p, a);
  }
}

} // namespace cprt
