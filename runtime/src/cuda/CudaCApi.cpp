//===- CudaCApi.cpp - C ABI over the CUDA backend, comms and ring ---------===//
#include "cprt_cuda_harness.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "cprt/Error.h"
#include "cprt/CpuBackend.h"
#include "cprt/LoadBalancer.h"
#include "cprt/cuda/CudaBackend.h"
#include "cprt/cuda/CudnnBackend.h"
#ifdef CPRT_HAVE_CUDNN
#include "cprt/cuda/AutoBackend.h"
#endif
#include "cprt/cuda/GpuCommunicator.h"
#include "cprt/Hybrid.h"
#include "cprt/RingAttention.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace cprt;

namespace {

thread_local std::string lastError;

template <typename F> int guarded(F &&f) {
  try {
    f();
    lastError.clear();
    return 0;
  } catch (const Error &e) {
    lastError = e.what();
    return int(e.code());
  } catch (const std::exception &e) {
    lastError = e.what();
    return int(ErrorCode::Internal);
  } catch (...) {
    lastError = "unknown error";
    return int(ErrorCode::Internal);
  }
}

TensorView mkView(void *p, int32_t dt, int64_t h, int64_t s, int64_t d, const int64_t *st) {
  TensorView v = TensorView::contiguous(p, DType(dt), h, s, d);
  if (st && (st[0] || st[1] || st[2])) {
    v.stride[0] = st[0];
    v.stride[1] = st[1];
    v.stride[2] = st[2];
  }
  return v;
}

AttentionParams params(const cprt_cuda_attn *a) {
  AttentionParams p;
  p.shape.batch = a->batch; p.shape.headsQ = a->heads_q; p.shape.headsKV = a->heads_kv;
  p.shape.seqQ = a->seq_q; p.shape.seqKV = a->seq_kv; p.shape.headDim = a->head_dim;
  p.scale = a->scale;
  p.stepCausal = StepCausal(a->step_causal);
  MaskSpec &m = p.mask;
  m.qPos = a->q_pos; m.kvPos = a->kv_pos; m.causal = a->causal;
  m.windowLeft = a->window_left; m.docIds = a->doc_ids; m.docLen = a->doc_len;
  m.boolMask = a->bool_mask; m.addMask = a->add_mask;
  m.maskBStride = a->mask_b_stride; m.maskHStride = a->mask_h_stride;
  m.maskRowStride = a->mask_row_stride;
  return p;
}

/// The same sharded ring on the CPU (CpuBackend, thread communicator) on
/// host copies of the device tensors: the oracle the GPU ring is compared to.
void runCpuRing(const cprt_cuda_ring &rr, const ShardLayout &layout, const RingOptions &opts,
                const AttentionShape &local) {
  const int W = rr.world;
  const int64_t L = layout.localLen, S = rr.seq, B = rr.batch, Hq = rr.heads_q,
                Hkv = rr.heads_kv, D = rr.head_dim;
  const DType dt = DType(rr.dtype);
  const size_t es = dtypeSize(dt);
  auto host = [&](const void *d, size_t bytes) {
    std::vector<char> h(bytes);
    if (d) CPRT_CUDA_CHECK(cudaMemcpy(h.data(), d, bytes, cudaMemcpyDeviceToHost));
    return h;
  };
  const size_t qB = size_t(B * Hq * S * D) * es, kvB = size_t(B * Hkv * S * D) * es;
  auto q = host(rr.q, qB), k = host(rr.k, kvB), v = host(rr.v, kvB),
       dout = host(rr.backward ? rr.dout : nullptr, qB);
  const int64_t qShape[4] = {B, Hq, S, D}, kvShape[4] = {B, Hkv, S, D}, lShape[3] = {B, Hq, S};
  const size_t lqB = size_t(B * Hq * L * D) * es, lkvB = size_t(B * Hkv * L * D) * es,
               llB = size_t(B * Hq * L) * 4;
  std::vector<char> gOut(lqB * W), gLse(llB * W), gDq(lqB * W), gDk(lkvB * W), gDv(lkvB * W);
  auto group = makeThreadGroup(W);
  std::vector<std::exception_ptr> errs(W);
  std::vector<std::thread> ts;
  const int threadsPerRank = std::max(1, int(std::thread::hardware_concurrency()) / W);
  for (int r = 0; r < W; ++r)
    ts.emplace_back([&, r] {
      try {
        auto comm = makeThreadCommunicator(group, r);
        CpuBackend be(threadsPerRank);
        std::vector<char> lq(lqB), lk(lkvB), lv(lkvB), ld(lqB);
        shardBuffer(q.data(), lq.data(), qShape, 4, 2, es, layout, r);
        shardBuffer(k.data(), lk.data(), kvShape, 4, 2, es, layout, r);
        shardBuffer(v.data(), lv.data(), kvShape, 4, 2, es, layout, r);
        char *out = gOut.data() + r * lqB;
        float *lse = reinterpret_cast<float *>(gLse.data() + r * llB);
        ringAttentionForward(*comm, be, layout, opts, local, dt, lq.data(), lk.data(),
                             lv.data(), out, lse);
        if (rr.backward) {
          shardBuffer(dout.data(), ld.data(), qShape, 4, 2, es, layout, r);
          ringAttentionBackward(*comm, be, layout, opts, local, dt, ld.data(), lq.data(),
                                lk.data(), lv.data(), out, lse, gDq.data() + r * lqB,
                                gDk.data() + r * lkvB, gDv.data() + r * lkvB);
        }
      } catch (const std::exception &e) {
        errs[r] = std::current_exception();
        threadGroupFail(*group, r, e.what());
      }
    });
  for (auto &t : ts) t.join();
  for (auto &e : errs)
    if (e) std::rethrow_exception(e);
  auto back = [&](const std::vector<char> &g, void *dst, const int64_t *shape, int nd,
                  size_t esz, size_t bytes) {
    std::vector<char> h(bytes);
    unshardBuffer(g.data(), h.data(), shape, nd, 2, esz, layout);
    CPRT_CUDA_CHECK(cudaMemcpy(dst, h.data(), bytes, cudaMemcpyHostToDevice));
  };
  back(gOut, rr.out, qShape, 4, es, qB);
  back(gLse, rr.lse, lShape, 3, 4, size_t(B * Hq * S) * 4);
  if (rr.backward) {
    back(gDq, rr.dq, qShape, 4, es, qB);
    back(gDk, rr.dk, kvShape, 4, es, kvB);
    back(gDv, rr.dv, kvShape, 4, es, kvB);
  }
}

/// Backend numbers of the C ABI: 0 flash kernels, 1 cuDNN (flash fallback),
/// 2 auto (measured per problem), -1 the default (auto when built with
/// cuDNN, else flash).
int resolveBackend(int which) {
  if (which == -1) return cprt_cuda_default_backend();
  check(which >= 0 && which <= 2,
        "backend must be -1 (default), 0 (flash), 1 (cudnn) or 2 (auto), got " +
            std::to_string(which));
#ifndef CPRT_HAVE_CUDNN
  check(which == 0, std::string("backend ") + (which == 1 ? "cudnn" : "auto") +
                        ": built without the cuDNN backend (needs the cudnn-frontend "
                        "headers, scripts/fetch-cudnn-frontend.sh)");
#endif
  return which;
}

/// The backend a C ABI call asked for (cached per thread: graphs, scratch).
CudaBackend &backendFor(int which, cudaStream_t s) {
  // Deliberately never destroyed: destructors at process exit would run
  // after the CUDA runtime shut down.
  static thread_local CudaBackend *cache[3] = {nullptr, nullptr, nullptr};
  which = resolveBackend(which);
  CudaBackend *&be = cache[which];
  if (!be) {
#ifdef CPRT_HAVE_CUDNN
    if (which == 1) be = new CudnnBackend(s);
    if (which == 2) be = new AutoBackend(s);
#endif
    if (which == 0) be = new CudaBackend(s);
  }
  be->setStream(s);
  return *be;
}

std::unique_ptr<CudaBackend> makeBackend(int which, cudaStream_t s, int device) {
  which = resolveBackend(which);
#ifdef CPRT_HAVE_CUDNN
  if (which == 1) return std::make_unique<CudnnBackend>(s, device);
  if (which == 2) return std::make_unique<AutoBackend>(s, device);
#endif
  return std::make_unique<CudaBackend>(s, device);
}

#ifdef CPRT_HAVE_NCCL
/// Runs `fn(rank, comm)` as one rank of an NCCL job of `world` processes
/// (one per GPU, this process's current device). The unique id goes through
/// `idFile` (rank 0 writes it and removes it once init, which is collective,
/// has read it everywhere); without one, world must be 1 and a private path
/// is used. initTimeoutMs bounds the rendezvous and init (0: the default),
/// timeoutMs the operations. The communicator is aborted or finalised before
/// its stream is destroyed, also when fn throws.
template <typename Fn>
void runNcclRank(const char *what, const char *idFile, int rank, int world,
                 int64_t initTimeoutMs, int64_t timeoutMs, Fn &&fn) {
  const bool multi = idFile && *idFile;
  check(world == 1 || multi, std::string(what) + ": NCCL with world > 1 runs one rank per "
                                                 "process: set rank and nccl_id_file (a new "
                                                 "path per call)");
  if (!multi) rank = 0;
  check(rank >= 0 && rank < world, std::string(what) + ": NCCL rank " + std::to_string(rank) +
                                       " out of range for world " + std::to_string(world));
  const std::string path = multi ? std::string(idFile)
                                 : "/tmp/cprt_nccl_id_" + std::string(what).substr(0, 4) +
                                       std::to_string(getpid());
  auto comm = makeNcclCommunicatorFromFile(path, rank, world, -1, initTimeoutMs);
  if (rank == 0) unlink(path.c_str());
  if (timeoutMs > 0) comm->setTimeoutMs(timeoutMs);
  cudaStream_t st;
  CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  comm->setStream(st);
  try {
    fn(rank, *comm);
    comm->synchronize();
  } catch (...) {
    comm.reset(); // aborts (or finalizes) before the stream goes
    cudaStreamDestroy(st);
    throw;
  }
  comm.reset();
  cudaStreamDestroy(st);
}
#endif

} // namespace

extern "C" {

int cprt_cuda_default_backend(void) {
#ifdef CPRT_HAVE_CUDNN
  return 2;
#else
  return 0;
#endif
}

int cprt_cuda_forward_kernel_counts(int64_t *hopper, int64_t *mma) {
  int64_t h = 0, m = 0;
  cprt::cuda::forwardKernelCounts(h, m);
  if (hopper) *hopper = h;
  if (mma) *mma = m;
  return cprt::cuda::hopperForwardEnabled() ? 1 : 0;
}

int cprt_cuda_attention_forward(const cprt_cuda_attn *a) {
  return guarded([&] {
    CudaBackend &be = backendFor(a->backend, static_cast<cudaStream_t>(a->stream));
    ForwardArgs f;
    f.q = mkView(a->q, a->dtype, a->heads_q, a->seq_q, a->head_dim, a->q_stride);
    f.k = mkView(a->k, a->dtype, a->heads_kv, a->seq_kv, a->head_dim, a->k_stride);
    f.v = mkView(a->v, a->dtype, a->heads_kv, a->seq_kv, a->head_dim, a->v_stride);
    f.out = mkView(a->out, a->out_dtype, a->heads_q, a->seq_q, a->head_dim, a->out_stride);
    f.lse = a->lse;
    f.accumulate = a->accumulate != 0;
    be.forward(params(a), f);
  });
}

int cprt_cuda_attention_backward(const cprt_cuda_attn *a) {
  return guarded([&] {
    CudaBackend *be = &backendFor(a->backend, static_cast<cudaStream_t>(a->stream));
    BackwardArgs g;
    g.q = mkView(a->q, a->dtype, a->heads_q, a->seq_q, a->head_dim, a->q_stride);
    g.k = mkView(a->k, a->dtype, a->heads_kv, a->seq_kv, a->head_dim, a->k_stride);
    g.v = mkView(a->v, a->dtype, a->heads_kv, a->seq_kv, a->head_dim, a->v_stride);
    g.out = mkView(a->out, a->out_dtype, a->heads_q, a->seq_q, a->head_dim, a->out_stride);
    g.dout = mkView(a->dout, a->dtype, a->heads_q, a->seq_q, a->head_dim, nullptr);
    g.lse = a->lse;
    g.dq = mkView(a->dq, a->grad_dtype, a->heads_q, a->seq_q, a->head_dim, nullptr);
    g.dk = mkView(a->dk, a->grad_dtype, a->heads_kv, a->seq_kv, a->head_dim, nullptr);
    g.dv = mkView(a->dv, a->grad_dtype, a->heads_kv, a->seq_kv, a->head_dim, nullptr);
    be->backward(params(a), g);
  });
}

int cprt_cuda_merge(float *out, float *lse, const float *outB, const float *lseB, int64_t rows,
                    int64_t d, void *stream) {
  return guarded([&] {
    cuda::launchMerge(out, lse, outB, lseB, rows, d, static_cast<cudaStream_t>(stream));
  });
}

int cprt_cuda_gather_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                          int64_t seqSrc, int64_t seqDst, int64_t innerBytes, void *stream) {
  return guarded([&] {
    cuda::launchGatherRows(src, dst, idx, outer, seqSrc, seqDst, innerBytes,
                           static_cast<cudaStream_t>(stream));
  });
}

int cprt_cuda_scatter_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                           int64_t seqSrc, int64_t seqDst, int64_t innerBytes, void *stream) {
  return guarded([&] {
    cuda::launchScatterRows(src, dst, idx, outer, seqSrc, seqDst, innerBytes,
                            static_cast<cudaStream_t>(stream));
  });
}

int cprt_cuda_ring_run(cprt_cuda_ring *rr) {
  return guarded([&] {
    const int W = rr->world;
    check(W > 0, "ring: world must be > 0");
    const int U = rr->ulysses_size > 1 ? rr->ulysses_size : 1;
    check(W % U == 0, "ring: ulysses_size " + std::to_string(U) +
                          " does not divide the world of " + std::to_string(W));
    check(U == 1 || (!rr->bool_mask && !rr->add_mask && !rr->doc_ids_host),
          "ring: the hybrid (ulysses_size > 1) takes no explicit mask or document ids");
    check(U == 1 || rr->transport != 2,
          "ring: the CPU oracle (transport 2) runs the ring only, not the hybrid");
    BalancerOptions bo;
    bo.docIds = rr->doc_ids_host;
    ShardLayout layout = makeLayout(Balancer(rr->balancer), rr->seq, W, bo);
    const int64_t L = layout.localLen, S = rr->seq, B = rr->batch, Hq = rr->heads_q,
                  Hkv = rr->heads_kv, D = rr->head_dim;
    const DType dt = DType(rr->dtype);
    const size_t es = dtypeSize(dt);
    CPRT_CUDA_CHECK(cudaDeviceSynchronize());

    // Device copies of the layout (per-rank gather indices) and doc ids.
    int64_t *idx = nullptr;
    CPRT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&idx), layout.slotToPos.size() * 8));
    CPRT_CUDA_CHECK(cudaMemcpy(idx, layout.slotToPos.data(), layout.slotToPos.size() * 8,
                               cudaMemcpyHostToDevice));
    RingOptions opts;
    opts.rotate = RotateMethod(rr->rotate);
    opts.causal = rr->causal;
    opts.scale = rr->scale;
    opts.mask.windowLeft = rr->window_left;
    opts.mask.docIds = rr->doc_ids_host; // host (Attention.h contract)
    opts.mask.docLen = rr->doc_ids_host ? S : 0;
    opts.mask.boolMask = rr->bool_mask;
    opts.mask.addMask = rr->add_mask;
    opts.mask.maskBStride = rr->mask_b_stride;
    opts.mask.maskHStride = rr->mask_h_stride;
    opts.mask.maskRowStride = rr->mask_row_stride;
    AttentionShape local{B, Hq, Hkv, L, L, D};
    const int iters = rr->iters > 0 ? rr->iters : 1;
    const bool timed = rr->iters > 0;
    double msPerIter = 0;
    RingStats stats0;
    // NCCL with one rank per process: this process's rank reports, and the
    // result shards are all-gathered so that every rank holds the full output.
    int reportRank = 0;
    bool gatherAll = false;

    auto body = [&](int r, GpuCommunicator &comm) {
      std::unique_ptr<CudaBackend> bePtr = makeBackend(rr->backend, comm.stream(), comm.device());
      CudaBackend &be = *bePtr;
      const int64_t *myIdx = idx + int64_t(r) * L;
      auto alloc = [&](size_t bytes) {
        void *p = nullptr;
        CPRT_CUDA_CHECK(cudaMallocAsync(&p, bytes ? bytes : 16, be.stream()));
        return p;
      };
      const size_t qB = size_t(B * Hq * L * D) * es, kvB = size_t(B * Hkv * L * D) * es;
      void *q = alloc(qB), *k = alloc(kvB), *v = alloc(kvB), *out = alloc(qB);
      float *lse = static_cast<float *>(alloc(size_t(B * Hq * L) * 4));
      void *dout = nullptr, *dq = nullptr, *dk = nullptr, *dv = nullptr;
      be.gatherRows(rr->q, q, myIdx, B * Hq, S, L, D * es);
      be.gatherRows(rr->k, k, myIdx, B * Hkv, S, L, D * es);
      be.gatherRows(rr->v, v, myIdx, B * Hkv, S, L, D * es);
      if (rr->backward) {
        dout = alloc(qB); dq = alloc(qB); dk = alloc(kvB); dv = alloc(kvB);
        be.gatherRows(rr->dout, dout, myIdx, B * Hq, S, L, D * es);
      }
      RingStats st;
      // The hybrid (ulysses_size > 1): the grid's axis communicators, split
      // once from this rank's (collective), outside the timed loop.
      GridComms grid;
      HybridLayout hybrid;
      if (U > 1) {
        grid = makeGridComms(comm, U);
        hybrid = makeHybridLayout(Balancer(rr->balancer), S, U, W / U, bo);
      }
      auto once = [&] {
        // The schedules of RingAttention.cpp / Hybrid.cpp, unchanged: device
        // memory through the backend, transfers through the GPU communicator.
        if (U > 1) {
          st = hybridAttentionForward(grid, be, hybrid, opts, local, dt, q, k, v, out, lse);
          if (rr->backward)
            hybridAttentionBackward(grid, be, hybrid, opts, local, dt, dout, q, k, v, out, lse,
                                    dq, dk, dv);
          return;
        }
        st = ringAttentionForward(comm, be, layout, opts, local, dt, q, k, v, out, lse);
        if (rr->backward)
          ringAttentionBackward(comm, be, layout, opts, local, dt, dout, q, k, v, out, lse, dq,
                                dk, dv);
      };
      if (timed) { // warm-up
        once();
        be.synchronize();
      }
      comm.barrier();
      be.synchronize();
      comm.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      for (int it = 0; it < iters; ++it) once();
      be.synchronize();
      comm.barrier();
      be.synchronize();
      const auto t1 = std::chrono::steady_clock::now();
      if (r == reportRank) {
        msPerIter = std::chrono::duration<double, std::milli>(t1 - t0).count() / iters;
        stats0 = st;
      }
      // Unshard (padding slots are dropped by the scatter).
      auto unshard = [&](void *shard, void *global, int64_t outer, size_t rowBytes) {
        if (!gatherAll) {
          be.scatterRows(shard, global, myIdx, outer, L, S, rowBytes);
          return;
        }
        // Every rank's shard through the communicator, then W scatters.
        const size_t bytes = size_t(outer * L) * rowBytes;
        char *all = static_cast<char *>(alloc(bytes * W));
        comm.startAllGather(shard, all, bytes)->wait();
        for (int j = 0; j < W; ++j)
          be.scatterRows(all + j * bytes, global, idx + int64_t(j) * L, outer, L, S, rowBytes);
        CPRT_CUDA_CHECK(cudaFreeAsync(all, be.stream()));
      };
      unshard(out, rr->out, B * Hq, D * es);
      unshard(lse, rr->lse, B * Hq, 4);
      if (rr->backward) {
        unshard(dq, rr->dq, B * Hq, D * es);
        unshard(dk, rr->dk, B * Hkv, D * es);
        unshard(dv, rr->dv, B * Hkv, D * es);
      }
      for (void *p : {q, k, v, out, static_cast<void *>(lse), dout, dq, dk, dv})
        if (p) CPRT_CUDA_CHECK(cudaFreeAsync(p, be.stream()));
      be.synchronize();
    };

    if (rr->transport == 2) { // the CPU oracle: CpuBackend + thread ranks
      cudaFree(idx);
      runCpuRing(*rr, layout, opts, local);
      return;
    }
    try {
      if (rr->transport == 0) {
        runVirtualRanks(W, body);
      } else {
#ifdef CPRT_HAVE_NCCL
        // One rank per process: rank rr->rank of W on the current device.
        runNcclRank("ring", rr->nccl_id_file, rr->rank, W, 0, rr->timeout_ms,
                    [&](int rank, GpuCommunicator &comm) {
                      reportRank = rank;
                      gatherAll = W > 1;
                      body(rank, comm);
                    });
#else
        fail(ErrorCode::Invalid, "ring: built without NCCL");
#endif
      }
    } catch (...) {
      cudaFree(idx);
      throw;
    }
    CPRT_CUDA_CHECK(cudaDeviceSynchronize());
    cudaFree(idx);
    if (rr->ms_per_iter_host) *rr->ms_per_iter_host = float(msPerIter);
    rr->steps_computed = stats0.stepsComputed;
    rr->steps_skipped = stats0.stepsSkipped;
    rr->comm_ops = stats0.commOps;
  });
}

int cprt_cuda_comm_test(int32_t transport, int32_t world, int32_t silentRank,
                        int64_t timeoutMs) {
  return cprt_cuda_comm_test_rank(transport, world, 0, nullptr, silentRank, timeoutMs);
}

int cprt_cuda_comm_test_rank(int32_t transport, int32_t world, int32_t rank,
                             const char *ncclIdFile, int32_t silentRank, int64_t timeoutMs) {
  return guarded([&] {
    const size_t count = 1000;
    auto body = [&](int r, GpuCommunicator &comm) {
      if (r == silentRank) return; // a peer that never shows up
      const int W = comm.size();
      const cudaStream_t st = comm.stream();
      auto dev = [&](size_t n) {
        float *p = nullptr;
        CPRT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&p), (n ? n : 1) * 4));
        return p;
      };
      auto put = [&](float *d, const std::vector<float> &h) {
        CPRT_CUDA_CHECK(cudaMemcpyAsync(d, h.data(), h.size() * 4, cudaMemcpyHostToDevice, st));
        CPRT_CUDA_CHECK(cudaStreamSynchronize(st));
      };
      auto get = [&](const float *d, size_t n) {
        comm.synchronize();
        std::vector<float> h(n);
        CPRT_CUDA_CHECK(cudaMemcpyAsync(h.data(), d, n * 4, cudaMemcpyDeviceToHost, st));
        CPRT_CUDA_CHECK(cudaStreamSynchronize(st));
        return h;
      };
      auto expect = [&](bool ok, const std::string &what) {
        if (!ok)
          fail(ErrorCode::Internal, "comm test rank " + std::to_string(r) + ": " + what);
      };
      float *send = dev(count * W), *recv = dev(count * W);
      std::vector<float> h(count * W);
      for (int off : {1, 2, -1}) { // ring shift (and the all-to-all form)
        for (int via = 0; via < 2; ++via) {
          for (size_t i = 0; i < count; ++i) h[i] = float(r * 1000 + i);
          put(send, std::vector<float>(h.begin(), h.begin() + count));
          auto req = via ? comm.startShiftViaAllToAll(send, recv, count * 4, off)
                         : comm.startShift(send, recv, count * 4, off);
          req->wait();
          auto got = get(recv, count);
          const int from = ((r - off) % W + W) % W;
          for (size_t i = 0; i < count; ++i)
            expect(got[i] == float(from * 1000 + i),
                   std::string(via ? "shift via all-to-all" : "shift") + " offset " +
                       std::to_string(off));
        }
      }
      // all-gather
      for (size_t i = 0; i < count; ++i) h[i] = float(r * 1000 + i);
      put(send, std::vector<float>(h.begin(), h.begin() + count));
      comm.startAllGather(send, recv, count * 4)->wait();
      auto g = get(recv, count * W);
      for (int j = 0; j < W; ++j)
        for (size_t i = 0; i < count; ++i)
          expect(g[j * count + i] == float(j * 1000 + i), "all-gather");
      // variable all-to-all: r sends (r + j + 1) floats of value r*100+j to j
      std::vector<size_t> sc(W), so(W), rc(W), ro(W);
      size_t sTot = 0, rTot = 0;
      for (int j = 0; j < W; ++j) {
        sc[j] = size_t(r + j + 1) * 4; so[j] = sTot; sTot += sc[j];
        rc[j] = size_t(j + r + 1) * 4; ro[j] = rTot; rTot += rc[j];
      }
      std::vector<float> hs(sTot / 4);
      for (int j = 0; j < W; ++j)
        for (size_t i = 0; i < sc[j] / 4; ++i) hs[so[j] / 4 + i] = float(r * 100 + j);
      float *s2 = dev(sTot / 4), *r2 = dev(rTot / 4);
      put(s2, hs);
      comm.startAllToAllV(s2, sc.data(), so.data(), r2, rc.data(), ro.data())->wait();
      auto a2 = get(r2, rTot / 4);
      for (int j = 0; j < W; ++j)
        for (size_t i = 0; i < rc[j] / 4; ++i)
          expect(a2[ro[j] / 4 + i] == float(j * 100 + r), "all-to-all-v");
      // reduce-scatter: block b of rank j holds j + b * 0.5 + i
      for (int b = 0; b < W; ++b)
        for (size_t i = 0; i < count; ++i) h[b * count + i] = float(r) + b * 0.5f + float(i);
      put(send, h);
      comm.startReduceScatterSumF32(send, recv, count)->wait();
      auto rs = get(recv, count);
      for (size_t i = 0; i < count; ++i) {
        const float want = float(W * (W - 1) / 2) + W * (r * 0.5f + float(i));
        expect(std::abs(rs[i] - want) <= 1e-3f * std::abs(want), "reduce-scatter");
      }
      // exclusive scan (sum) in rank order and reversed: rank j sends j + 1 + i
      for (bool reverse : {false, true}) {
        for (size_t i = 0; i < count; ++i) h[i] = float(r + 1) + float(i);
        put(send, std::vector<float>(h.begin(), h.begin() + count));
        comm.startExScan(send, recv, count, ScanType::F32, ScanKind::Sum, reverse)->wait();
        auto ex = get(recv, count);
        for (size_t i = 0; i < count; ++i) {
          float want = 0.f;
          for (int j = 0; j < W; ++j)
            if (reverse ? j > r : j < r) want += float(j + 1) + float(i);
          expect(ex[i] == want, reverse ? "exscan (reverse)" : "exscan");
        }
      }
      comm.barrier();
      for (float *p : {send, recv, s2, r2}) cudaFree(p);
    };
    if (transport == 0) {
      runVirtualRanks(world, body, -1, timeoutMs);
    } else {
#ifdef CPRT_HAVE_NCCL
      // Rendezvous and init with the default timeout (processes start at
      // different times), the collectives with timeoutMs.
      const bool multi = ncclIdFile && *ncclIdFile;
      runNcclRank("comm test", ncclIdFile, rank, world, multi ? 0 : timeoutMs, timeoutMs,
                  [&](int r, GpuCommunicator &comm) {
                    body(r, comm);
                    if (r == silentRank && world > 1) {
                      // Silent until the others gave up, then late: the
                      // barrier must fail too (peers aborted), not hang.
                      std::this_thread::sleep_for(
                          std::chrono::milliseconds(comm.timeoutMs() + 1000));
                      comm.barrier();
                      fail(ErrorCode::Internal, "comm test rank " + std::to_string(r) +
                                                    ": the silent rank's late barrier succeeded");
                    }
                  });
#else
      fail(ErrorCode::Invalid, "comm test: built without NCCL");
#endif
    }
  });
}

const char *cprt_cuda_last_error(void) { return lastError.c_str(); }

int cprt_cuda_synchronize(void) {
  return guarded([] { CPRT_CUDA_CHECK(cudaDeviceSynchronize()); });
}

} // extern "C"
