//===- GpuRing.cpp - Ring attention driver over device memory -------------===//
#include "cprt/cuda/GpuRing.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cprt {
namespace {

/// Stream-ordered device allocation.
class DeviceBuffer {
public:
  DeviceBuffer(size_t bytes, cudaStream_t s) : s(s) {
    if (bytes) CPRT_CUDA_CHECK(cudaMallocAsync(&p, bytes, s));
  }
  ~DeviceBuffer() {
    if (p) cudaFreeAsync(p, s);
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  template <typename T = char> T *get() const { return static_cast<T *>(p); }

private:
  void *p = nullptr;
  cudaStream_t s;
};

/// What every step shares; the device copy of the layout's positions.
struct GpuRingSetup {
  int W, r;
  int64_t L, B, Hq, Hkv, D;
  size_t es, kvElems, qElems, rows;
  bool usePositions;
  AttentionParams base;     // device pointers (kernel)
  AttentionParams hostBase; // host pointers (blockHasWork)
  const ShardLayout &layout;
  const RingOptions &opts;
  std::vector<int32_t> docCopy;
  DeviceBuffer pos;

  GpuRingSetup(GpuCommunicator &comm, CudaBackend &kernel, const ShardLayout &layout,
               const RingOptions &opts, const AttentionShape &local, DType dt,
               const int32_t *hostDocIds)
      : layout(layout), opts(opts),
        pos(layout.slotToPos.size() * sizeof(int64_t), kernel.stream()) {
    W = comm.size();
    r = comm.rank();
    check(layout.worldSize == W, "gpu ring: layout is for " + std::to_string(layout.worldSize) +
                                     " ranks but the communicator has " + std::to_string(W));
    L = layout.localLen;
    check(local.seqQ == L && local.seqKV == L,
          "gpu ring: local sequence length must be the layout's " + std::to_string(L));
    check(!opts.mask.qPos && !opts.mask.kvPos && !opts.mask.causal,
          "gpu ring: positions and causality come from the layout and opts.causal");
    check(dt == DType::BF16 || dt == DType::F16, "gpu ring: dtype must be bf16 or fp16");
    B = local.batch; Hq = local.headsQ; Hkv = local.headsKV; D = local.headDim;
    es = dtypeSize(dt);
    kvElems = size_t(B * Hkv * L * D);
    qElems = size_t(B * Hq * L * D);
    rows = size_t(B * Hq * L);
    base.shape = local;
    base.scale = opts.scale;
    base.mask = opts.mask;
    base.mask.causal = opts.causal && !stepCausalIsExact(layout.balancer);
    usePositions = layout.hasPadding() || base.mask.causal || opts.mask.windowLeft > 0 ||
                   opts.mask.docIds || opts.mask.boolMask || opts.mask.addMask;
    validateParams(base);
    hostBase = base;
    if (opts.mask.docIds) {
      if (!hostDocIds) {
        docCopy.resize(size_t(opts.mask.docLen));
        CPRT_CUDA_CHECK(cudaMemcpyAsync(docCopy.data(), opts.mask.docIds, docCopy.size() * 4,
                                        cudaMemcpyDeviceToHost, kernel.stream()));
        CPRT_CUDA_CHECK(cudaStreamSynchronize(kernel.stream()));
        hostDocIds = docCopy.data();
      }
      hostBase.mask.docIds = hostDocIds;
    }
    if (usePositions) {
      CPRT_CUDA_CHECK(cudaMemcpyAsync(pos.get(), layout.slotToPos.data(),
                                      layout.slotToPos.size() * sizeof(int64_t),
                                      cudaMemcpyHostToDevice, kernel.stream()));
      base.mask.qPos = pos.get<int64_t>() + int64_t(r) * L;
      hostBase.mask.qPos = layout.localPositions(r);
    }
  }

  int source(int i) const { return ((r - i) % W + W) % W; }

  /// Kernel params of step i; *work says whether any pair is visible.
  AttentionParams step(int i, bool *work) const {
    AttentionParams p = base, h = hostBase;
    p.stepCausal = h.stepCausal = stepCausalFor(layout.balancer, opts.causal, W, r, i);
    if (usePositions) {
      p.mask.kvPos = pos.get<int64_t>() + int64_t(source(i)) * L;
      h.mask.kvPos = layout.localPositions(source(i));
    }
    *work = blockHasWork(h);
    return p;
  }
};

/// Packed KV blocks travelling around the ring (or gathered once).
class GpuKvRotation {
public:
  GpuKvRotation(GpuCommunicator &comm, RotateMethod m, const void *k, const void *v,
                size_t halfBytes, cudaStream_t s, RingStats &stats)
      : comm(comm), method(m), bytes(2 * halfBytes), stats(stats),
        a(m == RotateMethod::AllGather ? bytes * comm.size() : bytes, s),
        b(m == RotateMethod::AllGather ? bytes : bytes, s) {
    char *own = m == RotateMethod::AllGather ? b.get() : a.get();
    CPRT_CUDA_CHECK(cudaMemcpyAsync(own, k, halfBytes, cudaMemcpyDeviceToDevice, s));
    CPRT_CUDA_CHECK(cudaMemcpyAsync(own + halfBytes, v, halfBytes, cudaMemcpyDeviceToDevice, s));
    cur = a.get();
    next = b.get();
    if (m == RotateMethod::AllGather) {
      comm.startAllGather(own, a.get(), bytes)->wait();
      ++stats.commOps;
    }
  }
  const char *block(int i) const {
    if (method == RotateMethod::AllGather) {
      const int W = comm.size(), s = ((comm.rank() - i) % W + W) % W;
      return a.get() + size_t(s) * bytes;
    }
    return cur;
  }
  void startNext() {
    if (method == RotateMethod::AllGather) return;
    req = shift(cur, next, bytes, comm, method);
    ++stats.commOps;
  }
  void finishNext() {
    if (!req) return;
    req->wait();
    req.reset();
    std::swap(cur, next);
  }
  static CommRequestPtr shift(const void *send, void *recv, size_t bytes, Communicator &comm,
                              RotateMethod m) {
    return m == RotateMethod::AllToAll ? comm.startShiftViaAllToAll(send, recv, bytes, 1)
                                       : comm.startShift(send, recv, bytes, 1);
  }

private:
  Communicator &comm;
  RotateMethod method;
  size_t bytes;
  RingStats &stats;
  DeviceBuffer a, b;
  char *cur, *next;
  CommRequestPtr req;
};

TensorView view(const void *p, DType dt, int64_t h, int64_t l, int64_t d) {
  return TensorView::contiguous(const_cast<void *>(p), dt, h, l, d);
}

} // namespace

RingStats gpuRingAttentionForward(GpuCommunicator &comm, CudaBackend &kernel,
                                  const ShardLayout &layout, const RingOptions &opts,
                                  const AttentionShape &local, DType dt, const void *q,
                                  const void *k, const void *v, void *out, float *lse,
                                  const int32_t *hostDocIds) {
  const cudaStream_t s = kernel.stream();
  comm.setStream(s);
  GpuRingSetup st(comm, kernel, layout, opts, local, dt, hostDocIds);
  RingStats stats;
  const size_t kvBytes = st.kvElems * st.es;
  GpuKvRotation rot(comm, opts.rotate, k, v, kvBytes, s, stats);
  DeviceBuffer acc(st.qElems * 4, s), part(st.qElems * 4, s), partLse(st.rows * 4, s);
  bool first = true;
  for (int i = 0; i < st.W; ++i) {
    if (i + 1 < st.W) rot.startNext(); // overlaps the block below
    bool work;
    AttentionParams p = st.step(i, &work);
    if (work) {
      const char *kv = rot.block(i);
      ForwardArgs a;
      a.q = view(q, dt, st.Hq, st.L, st.D);
      a.k = view(kv, dt, st.Hkv, st.L, st.D);
      a.v = view(kv + kvBytes, dt, st.Hkv, st.L, st.D);
      a.out = view(first ? acc.get() : part.get(), DType::F32, st.Hq, st.L, st.D);
      a.lse = first ? lse : partLse.get<float>();
      kernel.forward(p, a);
      if (!first)
        kernel.mergePartial(acc.get<float>(), lse, part.get<float>(), partLse.get<float>(),
                            int64_t(st.rows), st.D);
      first = false;
      ++stats.stepsComputed;
    } else {
      ++stats.stepsSkipped;
    }
    if (i + 1 < st.W) rot.finishNext();
  }
  if (first) { // nothing visible at all
    CPRT_CUDA_CHECK(cudaMemsetAsync(acc.get(), 0, st.qElems * 4, s));
    cuda::launchFillF32(lse, -std::numeric_limits<float>::infinity(), int64_t(st.rows), s);
  }
  kernel.convertFromF32(acc.get<float>(), out, dt, int64_t(st.qElems));
  return stats;
}

RingStats gpuRingAttentionBackward(GpuCommunicator &comm, CudaBackend &kernel,
                                   const ShardLayout &layout, const RingOptions &opts,
                                   const AttentionShape &local, DType dt, const void *dout,
                                   const void *q, const void *k, const void *v, const void *out,
                                   const float *lse, void *dq, void *dk, void *dv,
                                   const int32_t *hostDocIds) {
  const cudaStream_t s = kernel.stream();
  comm.setStream(s);
  GpuRingSetup st(comm, kernel, layout, opts, local, dt, hostDocIds);
  RingStats stats;
  const size_t kvBytes = st.kvElems * st.es;
  GpuKvRotation rot(comm, opts.rotate, k, v, kvBytes, s, stats);

  DeviceBuffer delta(st.rows * 4, s), dqAcc(st.qElems * 4, s);
  kernel.computeDelta(local, view(dout, dt, st.Hq, st.L, st.D), view(out, dt, st.Hq, st.L, st.D),
                      delta.get<float>());
  CPRT_CUDA_CHECK(cudaMemsetAsync(dqAcc.get(), 0, st.qElems * 4, s));
  const size_t n = st.kvElems;
  const bool gather = opts.rotate == RotateMethod::AllGather;
  DeviceBuffer tmp(gather ? 0 : 2 * n * 4, s), bufA(gather ? 0 : 2 * n * 4, s),
      bufB(2 * n * 4, s), all(gather ? 2 * n * 4 * size_t(st.W) : 0, s);
  if (gather) CPRT_CUDA_CHECK(cudaMemsetAsync(all.get(), 0, 2 * n * 4 * size_t(st.W), s));
  float *sendBuf = bufA.get<float>(), *recvBuf = bufB.get<float>();
  CommRequestPtr dkvReq;

  for (int i = 0; i < st.W; ++i) {
    const int src = st.source(i);
    if (i + 1 < st.W) rot.startNext();
    bool work;
    AttentionParams p = st.step(i, &work);
    float *dkv = gather ? all.get<float>() + size_t(src) * 2 * n : tmp.get<float>();
    if (!gather) CPRT_CUDA_CHECK(cudaMemsetAsync(tmp.get(), 0, 2 * n * 4, s));
    if (work) {
      const char *kv = rot.block(i);
      BackwardArgs a;
      a.dout = view(dout, dt, st.Hq, st.L, st.D);
      a.q = view(q, dt, st.Hq, st.L, st.D);
      a.k = view(kv, dt, st.Hkv, st.L, st.D);
      a.v = view(kv + kvBytes, dt, st.Hkv, st.L, st.D);
      a.out = view(out, dt, st.Hq, st.L, st.D);
      a.lse = lse;
      a.delta = delta.get<float>();
      a.dq = view(dqAcc.get(), DType::F32, st.Hq, st.L, st.D);
      a.dk = view(dkv, DType::F32, st.Hkv, st.L, st.D);
      a.dv = view(dkv + n, DType::F32, st.Hkv, st.L, st.D);
      a.accumulate = true;
      kernel.backward(p, a);
      ++stats.stepsComputed;
    } else {
      ++stats.stepsSkipped;
    }
    if (!gather) {
      // The accumulator of block `src` arrived from r-1; add this rank's
      // share and pass it on to r+1. After W hops it is home.
      if (i == 0) {
        CPRT_CUDA_CHECK(
            cudaMemcpyAsync(sendBuf, tmp.get(), 2 * n * 4, cudaMemcpyDeviceToDevice, s));
      } else {
        dkvReq->wait();
        if (work) kernel.addF32(recvBuf, tmp.get<float>(), int64_t(2 * n));
        std::swap(sendBuf, recvBuf);
      }
      dkvReq = GpuKvRotation::shift(sendBuf, recvBuf, 2 * n * 4, comm, opts.rotate);
      ++stats.commOps;
    }
    if (i + 1 < st.W) rot.finishNext();
  }
  const float *dkvOwn;
  DeviceBuffer mine(gather ? 2 * n * 4 : 0, s);
  if (gather) {
    comm.startReduceScatterSumF32(all.get<float>(), mine.get<float>(), 2 * n)->wait();
    ++stats.commOps;
    dkvOwn = mine.get<float>();
  } else {
    dkvReq->wait();
    dkvOwn = recvBuf;
  }
  kernel.convertFromF32(dqAcc.get<float>(), dq, dt, int64_t(st.qElems));
  kernel.convertFromF32(dkvOwn, dk, dt, int64_t(n));
  kernel.convertFromF32(dkvOwn + n, dv, dt, int64_t(n));
  // Buffers are freed stream-ordered; transfers still reading them were
  // waited for above (the stream waits on their completion events).
  return stats;
}

} // namespace cprt
