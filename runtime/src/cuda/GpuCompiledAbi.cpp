//===- GpuCompiledAbi.cpp - Entry points of GPU-compiled modules ----------===//
//
// cprt_gpu_compiled.h: the `cprt_gpu_*` twins of the compiler ABI on
// device pointers, the cuBLAS GEMM entries, and the rank launchers. The
// `mgpu*` functions MLIR's gpu-to-llvm lowering calls are in MgpuRuntime.cpp;
// both share the rank thread's state (GpuThread.h).
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/cprt_gpu_compiled.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "GpuThread.h"
#include "cprt/Context.h"
#include "cprt/Error.h"
#include "cprt/Ulysses.h"
#include "../capi/DocumentsAbi.h"
#include "../capi/HybridAbi.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"
#include "cprt/cuda/CudaBackend.h"
#include "cprt/cuda/GpuCommunicator.h"

#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

using namespace cprt;
using namespace cprt::gpu;

thread_local GpuThread cprt::gpu::tls;

namespace {

//===----------------------------------------------------------------------===//
// Memref views (unranked memref: rank + descriptor)
//===----------------------------------------------------------------------===//

struct View {
  char *data = nullptr;
  std::vector<int64_t> shape, strides;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

View view(int64_t rank, const cprt_memref *d, int64_t elemBytes, const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  View v;
  const int64_t *sizes = d->sizes_and_strides;
  v.shape.assign(sizes, sizes + rank);
  v.strides.assign(sizes + rank, sizes + 2 * rank);
  v.data = static_cast<char *>(d->aligned) + d->offset * elemBytes;
  return v;
}

void requireContiguous(const View &v, const char *what) {
  int64_t expect = 1;
  for (int64_t i = int64_t(v.shape.size()) - 1; i >= 0; --i) {
    check(v.shape[i] <= 1 || v.strides[i] == expect,
          std::string("compiled code passed a non-contiguous ") + what);
    expect *= v.shape[i];
  }
}

/// Runs body unless this thread failed; exceptions become the sticky error.
template <typename F> void guarded(const char *op, F &&body) {
  if (tls.failed) return;
  ++tls.calls;
  try {
    body();
  } catch (const std::exception &e) {
    fail(std::string(op) + ": " + e.what());
  }
  if (!tls.failed && syncEveryOp())
    checkCuda(cudaStreamSynchronize(tls.stream), op);
  debugScan(op);
}

CudaBackend &backend() {
  check(tls.backend != nullptr,
        "no GPU rank context on this thread (run compiled code through "
        "cprt_gpu_run_virtual_ranks / cprt_gpu_run_nccl_rank)");
  return *tls.backend;
}

/// [batch..., H, S, D] -> B, H, S, D.
struct Dims {
  int64_t B = 1, H = 1, S = 1, D = 1;
};
Dims attnDims(const View &t) {
  size_t n = t.shape.size();
  check(n >= 2, "attention: expected rank >= 2 ([..., S, D])");
  Dims d;
  d.D = t.shape[n - 1];
  d.S = t.shape[n - 2];
  if (n >= 3) d.H = t.shape[n - 3];
  for (size_t i = 0; i + 3 < n; ++i) d.B *= t.shape[i];
  return d;
}

//===----------------------------------------------------------------------===//
// Attention (sdpa and ring, forward and backward)
//===----------------------------------------------------------------------===//

/// Device scratch (stream-ordered: freed after the work queued before it).
struct Scratch {
  void *p = nullptr;
  explicit Scratch(size_t bytes) { p = backend().allocate(bytes); }
  ~Scratch() {
    if (p) backend().deallocate(p);
  }
};

/// A memref argument as compiled code passes it (rank + descriptor).
struct Arg {
  int64_t rank = 0;
  const cprt_memref *d = nullptr;
};

/// One attention call of compiled code: the parameters of cprt_compiler.h's
/// sdpa / ring entries by role (absent operands stay empty).
struct AttnCall {
  const char *op = "";
  DType dt = DType::F32;
  bool backward = false;
  Arg q, k, v, mask, seg, out, lse, dout, dq, dk, dv;
  double scale = 0;
  int32_t flags = 0, rotate = 0, balancer = 0;
  int64_t seqLen = 0, window = 0;
  bool wholeDocs = false; // cprt_gpu_ring_docs_*: seg holds the whole sequence's ids
};

/// A contiguous tensor operand of `c` in its element type.
View tensor(const AttnCall &c, const Arg &a, const char *what) {
  View v = view(a.rank, a.d, int64_t(dtypeSize(c.dt)), what);
  requireContiguous(v, what);
  return v;
}

/// A contiguous f32 operand (LSE, mask).
View f32Tensor(const Arg &a, const char *what) {
  View v = view(a.rank, a.d, 4, what);
  requireContiguous(v, what);
  return v;
}

/// The strides of an additive f32 mask [mb?, mh?, rows, cols] over a query
/// of dims `q` (a dim of 1 broadcasts): element b*bs + h*hs + row*rs + col.
struct MaskStrides {
  int64_t b = 0, h = 0, row = 0, rows = 0, cols = 0, planes = 1;
};
MaskStrides maskStrides(const View &mask, const Dims &q) {
  const size_t n = mask.shape.size();
  check(n >= 2, "mask: expected rank >= 2");
  MaskStrides s;
  s.rows = mask.shape[n - 2];
  s.cols = mask.shape[n - 1];
  const int64_t mh = n >= 3 ? mask.shape[n - 3] : 1;
  int64_t mb = 1;
  for (size_t i = 0; i + 3 < n; ++i) mb *= mask.shape[i];
  check((mh == 1 || mh == q.H) && (mb == 1 || mb == q.B),
        "mask: batch/head dims must be 1 or match the query");
  s.planes = mb * mh;
  s.row = s.rows == 1 ? 0 : s.cols;
  s.h = mh == 1 ? 0 : s.rows * s.cols;
  s.b = mb == 1 ? 0 : mh * s.rows * s.cols;
  return s;
}

/// The LSE buffer of a forward: the caller's, or device scratch the kernels
/// write and nothing reads.
float *forwardLse(const AttnCall &c, const Dims &dq, std::unique_ptr<Scratch> &tmp) {
  if (c.flags & CPRT_C_HAS_LSE)
    return reinterpret_cast<float *>(f32Tensor(c.lse, "lse").data);
  tmp = std::make_unique<Scratch>(size_t(dq.B * dq.H * dq.S) * 4);
  return static_cast<float *>(tmp->p);
}

/// Whole-sequence attention (cp.sdpa / cp.sdpa_backward) on this rank's
/// backend: positions are local indices, so an explicit mask is read as it
/// is (device memory; the backend uses device pointers directly).
void sdpa(const AttnCall &c) {
  guarded(c.op, [&] {
    View q = tensor(c, c.q, "query"), k = tensor(c, c.k, "key"), v = tensor(c, c.v, "value"),
         o = tensor(c, c.out, "output");
    Dims dq = attnDims(q), dk = attnDims(k);
    AttentionParams p;
    p.shape = {dq.B, dq.H, dk.H, dq.S, dk.S, dq.D};
    p.scale = float(c.scale);
    p.stepCausal = (c.flags & CPRT_C_CAUSAL) ? StepCausal::Causal : StepCausal::NotCausal;
    if (c.flags & CPRT_C_HAS_MASK) {
      View mv = f32Tensor(c.mask, "mask");
      MaskStrides s = maskStrides(mv, dq);
      check((s.rows == 1 || s.rows == dq.S) && s.cols == dk.S,
            "mask: expected [.., Sq, Skv] rows and columns");
      p.mask.addMask = reinterpret_cast<const float *>(mv.data);
      p.mask.maskBStride = s.b;
      p.mask.maskHStride = s.h;
      p.mask.maskRowStride = s.row;
    }
    auto tv = [&](const View &x, const Dims &d) {
      return TensorView::contiguous(x.data, c.dt, d.H, d.S, d.D);
    };
    if (!c.backward) {
      std::unique_ptr<Scratch> lseTmp;
      ForwardArgs a;
      a.q = tv(q, dq); a.k = tv(k, dk); a.v = tv(v, dk); a.out = tv(o, dq);
      a.lse = forwardLse(c, dq, lseTmp);
      backend().forward(p, a);
      return;
    }
    BackwardArgs a;
    a.dout = tv(tensor(c, c.dout, "grad_output"), dq);
    a.q = tv(q, dq); a.k = tv(k, dk); a.v = tv(v, dk); a.out = tv(o, dq);
    a.lse = reinterpret_cast<const float *>(f32Tensor(c.lse, "lse").data);
    a.dq = tv(tensor(c, c.dq, "grad_query"), dq);
    a.dk = tv(tensor(c, c.dk, "grad_key"), dk);
    a.dv = tv(tensor(c, c.dv, "grad_value"), dk);
    backend().backward(p, a);
  });
}

/// outer x S x inner split of a contiguous tensor at `dim`.
void splitAt(const View &v, int32_t dim, int64_t &outer, int64_t &len, int64_t &inner) {
  check(dim >= 0 && size_t(dim) < v.shape.size(), "shard: dim out of range");
  outer = inner = 1;
  for (int32_t i = 0; i < dim; ++i) outer *= v.shape[i];
  len = v.shape[dim];
  for (size_t i = dim + 1; i < v.shape.size(); ++i) inner *= v.shape[i];
}

/// Device copy of a layout's slot -> position table (all ranks), cached per
/// thread by (balancer, S).
const int64_t *devicePositions(const ShardLayout &l, int32_t bal) {
  thread_local std::map<std::pair<int32_t, int64_t>, int64_t *> cache;
  auto key = std::make_pair(bal, l.seqLen);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  int64_t *d = static_cast<int64_t *>(backend().allocate(l.slotToPos.size() * 8));
  CPRT_CUDA_CHECK(cudaMemcpyAsync(d, l.slotToPos.data(), l.slotToPos.size() * 8,
                                  cudaMemcpyHostToDevice, backend().stream()));
  // The host table lives in the context's layout cache; wait once so the
  // transfer never outlives it.
  CPRT_CUDA_CHECK(cudaStreamSynchronize(backend().stream()));
  cache[key] = d;
  return d;
}

/// Document ids of the whole sequence in original order, on the host (the
/// ring schedule reads them there to skip blocks; the backend stages them
/// to the device once per content), from this rank's local segment ids in
/// device memory: all-gathered and unpermuted on the device, one copy back.
std::vector<int32_t> globalDocs(const View &seg, int32_t bal, int64_t seqLen) {
  RankContext &c = requireContext();
  const ShardLayout &l = c.layout(Balancer(bal), seqLen, nullptr);
  check(seg.numel() == l.localLen,
        "segment ids: expected one per local slot (" + std::to_string(l.localLen) + "), got " +
            std::to_string(seg.numel()));
  const int W = c.comm->size();
  const size_t block = size_t(l.localLen) * 4;
  Scratch all(block * W), whole(size_t(seqLen) * 4);
  c.comm->allGather(seg.data, all.p, block);
  const int64_t *pos = devicePositions(l, bal);
  for (int w = 0; w < W; ++w)
    backend().scatterRows(static_cast<char *>(all.p) + block * w, whole.p,
                          pos + int64_t(w) * l.localLen, 1, l.localLen, seqLen, 4);
  std::vector<int32_t> docs(static_cast<size_t>(seqLen));
  CPRT_CUDA_CHECK(cudaMemcpyAsync(docs.data(), whole.p, size_t(seqLen) * 4,
                                  cudaMemcpyDeviceToHost, backend().stream()));
  CPRT_CUDA_CHECK(cudaStreamSynchronize(backend().stream()));
  return docs;
}

/// The whole sequence's document ids of a per-document ring
/// (cprt_gpu_ring_docs_*: [seqLen] i32 in device memory, original order),
/// copied to the host once per call (the ring schedule reads them there),
/// after the checks of the CPU entries (DocumentsAbi.h): flags, shape and
/// the layout's local length against the query's `localLen`.
std::vector<int32_t> wholeDocs(const AttnCall &c, int64_t localLen, cprt_mask &m) {
  abi::checkDocumentFlags(c.flags, c.balancer, c.window);
  View ids = view(c.seg.rank, c.seg.d, 4, "document ids");
  requireContiguous(ids, "document ids");
  abi::checkDocumentIdsShape(ids.shape.size(), ids.shape.empty() ? 0 : ids.shape[0], c.seqLen);
  std::vector<int32_t> docs(static_cast<size_t>(c.seqLen));
  CPRT_CUDA_CHECK(cudaMemcpyAsync(docs.data(), ids.data, size_t(c.seqLen) * 4,
                                  cudaMemcpyDeviceToHost, backend().stream()));
  CPRT_CUDA_CHECK(cudaStreamSynchronize(backend().stream()));
  m = abi::documentMask(docs.data(), c.seqLen, localLen);
  return docs;
}

/// A ring's additive mask holds this rank's query rows (local slots)
/// against every key in original order; the runtime reads rows by the
/// query's original position, so the rows are scattered on the device into
/// a [planes, S, S] buffer (a broadcast row is read as it is).
std::unique_ptr<Scratch> ringMask(cprt_mask &m, const View &mask, const Dims &q, int32_t bal,
                                  int64_t seqLen) {
  MaskStrides s = maskStrides(mask, q);
  check(s.cols == seqLen, "ring mask: expected one column per key (seq_len " +
                              std::to_string(seqLen) + "), got " + std::to_string(s.cols));
  m.add_mask = reinterpret_cast<const float *>(mask.data);
  m.b_stride = s.b;
  m.h_stride = s.h;
  m.row_stride = s.row;
  if (s.rows == 1) return nullptr;
  RankContext &c = requireContext();
  const ShardLayout &l = c.layout(Balancer(bal), seqLen, nullptr);
  check(s.rows == l.localLen, "ring mask: expected one row per local slot (" +
                                  std::to_string(l.localLen) + "), got " +
                                  std::to_string(s.rows));
  const size_t plane = size_t(seqLen * seqLen) * 4;
  auto full = std::make_unique<Scratch>(plane * size_t(s.planes));
  CPRT_CUDA_CHECK(cudaMemsetAsync(full->p, 0, plane * size_t(s.planes), backend().stream()));
  const int64_t *pos = devicePositions(l, bal) + int64_t(c.comm->rank()) * l.localLen;
  backend().scatterRows(mask.data, full->p, pos, s.planes, l.localLen, seqLen, seqLen * 4);
  m.add_mask = static_cast<const float *>(full->p);
  m.row_stride = seqLen;
  m.h_stride = s.h ? seqLen * seqLen : 0;
  m.b_stride = s.b ? (s.h ? q.H : 1) * seqLen * seqLen : 0;
  return full;
}

/// Ring attention (cp.ring_attention and its backward) over this rank's
/// communicator and backend (RingAttention.cpp's schedule on device
/// memory): causal, sliding windows, explicit additive masks and document
/// ids; with `wholeDocs` the per-document ring (the whole sequence's ids).
void ring(const AttnCall &c) {
  guarded(c.op, [&] {
    View q = tensor(c, c.q, "query"), k = tensor(c, c.k, "key"), v = tensor(c, c.v, "value"),
         o = tensor(c, c.out, "output");
    Dims dq = attnDims(q), dk = attnDims(k);
    cprt_mask m{};
    std::vector<int32_t> docs;
    std::unique_ptr<Scratch> fullMask, lseTmp;
    if (c.wholeDocs) {
      docs = wholeDocs(c, dq.S, m);
    } else if (c.flags & CPRT_C_HAS_SEGMENTS) {
      docs = globalDocs(view(c.seg.rank, c.seg.d, 4, "segment ids"), c.balancer, c.seqLen);
      m.doc_ids = docs.data();
      m.doc_len = c.seqLen;
    }
    if (c.flags & CPRT_C_HAS_MASK)
      fullMask = ringMask(m, f32Tensor(c.mask, "mask"), dq, c.balancer, c.seqLen);
    m.window_left = c.window;
    const bool anyMask = (c.flags & (CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_MASK)) || c.window > 0;
    const bool causal = (c.flags & CPRT_C_CAUSAL) != 0;
    const cprt_dtype dt = cprt_dtype(c.dt);
    cprt_status s;
    if (!c.backward) {
      s = cprt_ring_attention_fwd(dt, dq.B, dq.H, dk.H, dq.S, dq.D, q.data, k.data, v.data,
                                  o.data, forwardLse(c, dq, lseTmp), float(c.scale), causal,
                                  cprt_rotate(c.rotate), cprt_balancer(c.balancer), c.seqLen,
                                  anyMask ? &m : nullptr);
    } else {
      s = cprt_ring_attention_bwd(
          dt, dq.B, dq.H, dk.H, dq.S, dq.D, tensor(c, c.dout, "grad_output").data, q.data,
          k.data, v.data, o.data, reinterpret_cast<const float *>(f32Tensor(c.lse, "lse").data),
          tensor(c, c.dq, "grad_query").data, tensor(c, c.dk, "grad_key").data,
          tensor(c, c.dv, "grad_value").data, float(c.scale), causal, cprt_rotate(c.rotate),
          cprt_balancer(c.balancer), c.seqLen, anyMask ? &m : nullptr);
    }
    check(s == CPRT_OK, cprt_last_error());
  });
}

void shard(int64_t rg, const cprt_memref *g, int64_t rl, const cprt_memref *lm, int64_t eb,
           int32_t dim, int32_t bal) {
  guarded("shard", [&] {
    View gv = view(rg, g, eb, "shard input"), lv = view(rl, lm, eb, "shard output");
    requireContiguous(gv, "shard input");
    requireContiguous(lv, "shard output");
    int64_t outer, S, inner;
    splitAt(gv, dim, outer, S, inner);
    RankContext &c = requireContext();
    const ShardLayout &l = c.layout(Balancer(bal), S, nullptr);
    check(lv.numel() == outer * l.localLen * inner,
          "shard: the local tensor does not have the balancer's local length");
    const int64_t *pos = devicePositions(l, bal) + int64_t(c.comm->rank()) * l.localLen;
    backend().gatherRows(gv.data, lv.data, pos, outer, S, l.localLen, inner * eb);
  });
}

void unshard(int64_t rl, const cprt_memref *lm, int64_t rg, const cprt_memref *g, int64_t eb,
             int32_t dim, int32_t bal) {
  guarded("unshard", [&] {
    View lv = view(rl, lm, eb, "unshard input"), gv = view(rg, g, eb, "unshard output");
    requireContiguous(gv, "unshard output");
    requireContiguous(lv, "unshard input");
    int64_t outer, S, inner;
    splitAt(gv, dim, outer, S, inner);
    RankContext &c = requireContext();
    const ShardLayout &l = c.layout(Balancer(bal), S, nullptr);
    const int W = c.comm->size();
    const size_t block = size_t(outer * l.localLen * inner * eb);
    check(size_t(lv.numel() * eb) == block, "unshard: local tensor size mismatch");
    Scratch all(block * W);
    c.comm->allGather(lv.data, all.p, block);
    const int64_t *pos = devicePositions(l, bal);
    for (int w = 0; w < W; ++w)
      backend().scatterRows(static_cast<char *>(all.p) + block * w, gv.data,
                            pos + int64_t(w) * l.localLen, outer, l.localLen, S, inner * eb);
  });
}

void allGather(int64_t ri, const cprt_memref *in, int64_t ro, const cprt_memref *out,
               int64_t eb, int32_t dim) {
  guarded("all_gather", [&] {
    View a = view(ri, in, eb, "all_gather input"), r = view(ro, out, eb, "all_gather output");
    requireContiguous(a, "all_gather input");
    requireContiguous(r, "all_gather output");
    int64_t outer, len, inner;
    splitAt(a, dim, outer, len, inner);
    RankContext &c = requireContext();
    const int W = c.comm->size();
    check(r.numel() == a.numel() * W, "all_gather: output size is not W x input");
    const size_t block = size_t(outer * len * inner * eb), row = size_t(len * inner * eb);
    Scratch all(block * W);
    c.comm->allGather(a.data, all.p, block);
    for (int w = 0; w < W; ++w)
      CPRT_CUDA_CHECK(cudaMemcpy2DAsync(r.data + w * row, row * W,
                                        static_cast<char *>(all.p) + w * block, row, row,
                                        size_t(outer), cudaMemcpyDeviceToDevice,
                                        backend().stream()));
  });
}

//===----------------------------------------------------------------------===//
// Ulysses (cp.seq_to_heads / cp.heads_to_seq)
//===----------------------------------------------------------------------===//

/// cp.seq_to_heads (toHeads) / cp.heads_to_seq on device memory: the
/// exchange of runtime/src/capi/Ulysses.cpp with the rank's backend as its
/// memory (2-D copies on the rank stream) and one all-to-all of the rank's
/// communicator (padding slots dropped on the way in, zeroed on the way out).
void ulysses(bool toHeads, int64_t ri, const cprt_memref *in, int64_t ro, const cprt_memref *out,
             int64_t eb, int32_t hd, int32_t sd, int32_t bal, int64_t seqLen) {
  guarded(toHeads ? "seq_to_heads" : "heads_to_seq", [&] {
    View a = view(ri, in, eb, "ulysses input"), r = view(ro, out, eb, "ulysses output");
    requireContiguous(a, "ulysses input");
    requireContiguous(r, "ulysses output");
    check(bal >= 0 && bal <= 2, "ulysses: balancer " + std::to_string(bal) +
                                    " is not supported (expected none, head_tail or striped)");
    RankContext &c = requireContext();
    const int W = c.comm->size();
    const ShardLayout &l = c.layout(Balancer(bal), seqLen, nullptr);
    const View &local = toHeads ? a : r, &heads = toHeads ? r : a;
    const int n = int(local.shape.size());
    checkUlyssesShapes(local.shape.data(), n, heads.shape.data(), int(heads.shape.size()), hd,
                       sd, W, seqLen);
    if (toHeads)
      seqToHeads(a.data, r.data, local.shape.data(), n, hd, sd, size_t(eb), l, *c.comm,
                 &backend());
    else
      headsToSeq(a.data, r.data, local.shape.data(), n, hd, sd, size_t(eb), l, *c.comm,
                 &backend());
  });
}

/// shard.all_reduce: every rank's tensor all-gathered on the device, then
/// reduced over the ranks in rank order by one kernel (type: 0 f32, 1 f64,
/// 2 i32, 3 i64, as launchReduceSlices).
void allReduce(int type, int64_t eb, int64_t ri, const cprt_memref *in, int64_t ro,
               const cprt_memref *out, int32_t kind) {
  guarded("all_reduce", [&] {
    check(kind == CPRT_C_REDUCE_SUM || kind == CPRT_C_REDUCE_MAX || kind == CPRT_C_REDUCE_MIN,
          "all_reduce: unknown reduction kind " + std::to_string(kind));
    View a = view(ri, in, eb, "all_reduce input"), r = view(ro, out, eb, "all_reduce output");
    requireContiguous(a, "all_reduce input");
    requireContiguous(r, "all_reduce output");
    check(a.numel() == r.numel(), "all_reduce: input and output sizes differ");
    RankContext &c = requireContext();
    const int W = c.comm->size();
    const size_t bytes = size_t(a.numel() * eb);
    Scratch all(bytes * W);
    c.comm->allGather(a.data, all.p, bytes);
    cuda::launchReduceSlices(all.p, r.data, type, kind, a.numel(), W, backend().stream());
  });
}

//===----------------------------------------------------------------------===//
// GEMM (cuBLAS)
//===----------------------------------------------------------------------===//

struct Matrix {
  char *data;
  int64_t batch, rows, cols, ld, batchStride;
};

/// Row-major [batch?, rows, cols] with unit inner stride.
Matrix matrixOf(const View &v, const char *what) {
  size_t n = v.shape.size();
  check(n == 2 || n == 3, std::string("gemm: ") + what + " must have rank 2 or 3");
  Matrix m;
  m.data = v.data;
  m.batch = n == 3 ? v.shape[0] : 1;
  m.rows = v.shape[n - 2];
  m.cols = v.shape[n - 1];
  check(m.cols <= 1 || v.strides[n - 1] == 1,
        std::string("gemm: ") + what + " needs a unit inner stride");
  m.ld = std::max<int64_t>(m.rows <= 1 ? m.cols : v.strides[n - 2], std::max<int64_t>(m.cols, 1));
  m.batchStride = n == 3 ? v.strides[0] : 0;
  return m;
}

cublasHandle_t cublas() {
  if (!tls.cublas) {
    if (cublasCreate(&tls.cublas) != CUBLAS_STATUS_SUCCESS)
      throw Error(ErrorCode::Internal, "cublasCreate failed");
  }
  cublasSetStream(tls.cublas, tls.stream);
  return tls.cublas;
}

void gemm(cudaDataType in, cudaDataType out, int64_t eb, int64_t ebOut, int64_t ra,
          const cprt_memref *a, int64_t rb, const cprt_memref *b, int64_t rc,
          const cprt_memref *c, int32_t flags) {
  guarded("gemm", [&] {
    Matrix A = matrixOf(view(ra, a, eb, "A"), "A"), B = matrixOf(view(rb, b, eb, "B"), "B"),
           C = matrixOf(view(rc, c, ebOut, "C"), "C");
    const bool tA = flags & 1, tB = flags & 2;
    const int64_t M = C.rows, N = C.cols, K = tA ? A.rows : A.cols;
    check((tA ? A.cols : A.rows) == M && (tB ? B.cols : B.rows) == K &&
              (tB ? B.rows : B.cols) == N,
          "gemm: operand shapes do not match");
    check(A.batch == C.batch && B.batch == C.batch, "gemm: batch sizes differ");
    // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: pass B
    // first; a stored-transposed operand is read with OP_T.
    const float one = 1.f;
    cublasStatus_t s = cublasGemmStridedBatchedEx(
        cublas(), tB ? CUBLAS_OP_T : CUBLAS_OP_N, tA ? CUBLAS_OP_T : CUBLAS_OP_N, int(N),
        int(M), int(K), &one, B.data, in, int(B.ld), B.batchStride, A.data, in, int(A.ld),
        A.batchStride, &one, C.data, out, int(C.ld), C.batchStride, int(C.batch),
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS)
      throw Error(ErrorCode::Internal,
                  std::string("cublasGemmStridedBatchedEx: ") + cublasGetStatusString(s));
  });
}

//===----------------------------------------------------------------------===//
// Rank launchers
//===----------------------------------------------------------------------===//

int statusOf(const std::exception &e) {
  if (auto *err = dynamic_cast<const Error *>(&e)) return int(err->code());
  return CPRT_ERR_INTERNAL;
}

/// Binds a rank context + stream to this thread, runs fn, synchronises.
void runRank(std::unique_ptr<GpuCommunicator> comm, cprt_gpu_rank_fn fn, void *user) {
  GpuCommunicator *gc = comm.get();
  cudaStream_t st = nullptr;
  CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  gc->setStream(st);
  RankContext ctx;
  auto be = std::make_unique<CudaBackend>(st);
  tls = GpuThread{};
  tls.stream = st;
  tls.backend = be.get();
  ctx.comm = std::move(comm);
  ctx.backend = std::move(be);
  setCurrentContext(&ctx);
  std::string err;
  try {
    fn(gc->rank(), gc->size(), st, user);
    if (!tls.failed) checkCuda(cudaStreamSynchronize(st), "rank stream");
    if (!tls.failed) gc->synchronize();
  } catch (const std::exception &e) {
    fail(e.what());
  }
  err = tls.failed ? tls.error : "";
  if (tls.cublas) cublasDestroy(tls.cublas);
  tls.cublas = nullptr;
  setCurrentContext(nullptr);
  tls.backend = nullptr;
  ctx.backend.reset();
  ctx.comm.reset();
  cudaStreamDestroy(st);
  if (!err.empty()) throw Error(ErrorCode::Internal, err);
}

thread_local std::string launcherError;

} // namespace

extern "C" {

//===----------------------------------------------------------------------===//
// cprt_gpu_* twins of cprt_compiler.h
//===----------------------------------------------------------------------===//

#define MR int64_t
// Each entry names its operands and passes them to sdpa() / ring().
#define CPRT_GPU_ATTENTION_DEFS(T, DT)                                         \
  void cprt_gpu_sdpa_fwd_##T(MR rq, const cprt_memref *q, MR rk,               \
                             const cprt_memref *k, MR rv, const cprt_memref *v,\
                             MR rm, const cprt_memref *m, MR ro,               \
                             const cprt_memref *o, MR rl, const cprt_memref *l,\
                             double scale, int32_t flags) {                    \
    AttnCall c;                                                                \
    c.op = "sdpa"; c.dt = DT;                                                  \
    c.q = {rq, q}; c.k = {rk, k}; c.v = {rv, v}; c.mask = {rm, m};             \
    c.out = {ro, o}; c.lse = {rl, l}; c.scale = scale; c.flags = flags;        \
    sdpa(c);                                                                   \
  }                                                                            \
  void cprt_gpu_sdpa_bwd_##T(                                                  \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rm,                \
      const cprt_memref *m, MR rdq, const cprt_memref *dq, MR rdk,             \
      const cprt_memref *dk, MR rdv, const cprt_memref *dv, double scale,      \
      int32_t flags) {                                                         \
    AttnCall c;                                                                \
    c.op = "sdpa_backward"; c.dt = DT; c.backward = true;                      \
    c.dout = {rdo, dout}; c.q = {rq, q}; c.k = {rk, k}; c.v = {rv, v};         \
    c.out = {ro, o}; c.lse = {rl, l}; c.mask = {rm, m};                        \
    c.dq = {rdq, dq}; c.dk = {rdk, dk}; c.dv = {rdv, dv};                      \
    c.scale = scale; c.flags = flags;                                          \
    sdpa(c);                                                                   \
  }
// The rings: NAME_{fwd,bwd}_T fill an AttnCall for ring(); OPSUFFIX names
// the op in errors and WHOLE says the segment-id buffer holds the whole
// sequence's ids (the per-document ring, cprt_c_ring_docs_*'s parameters).
#define CPRT_GPU_RING_DEFS(NAME, OPSUFFIX, WHOLE, T, DT)                       \
  void NAME##_fwd_##T(MR rq, const cprt_memref *q, MR rk, const cprt_memref *k,\
                      MR rv, const cprt_memref *v, MR rm, const cprt_memref *m,\
                      MR rs, const cprt_memref *s, MR ro, const cprt_memref *o,\
                      MR rl, const cprt_memref *l, double scale,               \
                      int32_t flags, int32_t rotate, int32_t balancer,         \
                      int64_t seq_len, int64_t window) {                       \
    AttnCall c;                                                                \
    c.op = "ring_attention" OPSUFFIX; c.dt = DT; c.wholeDocs = WHOLE;          \
    c.q = {rq, q}; c.k = {rk, k}; c.v = {rv, v}; c.mask = {rm, m};             \
    c.seg = {rs, s}; c.out = {ro, o}; c.lse = {rl, l};                         \
    c.scale = scale; c.flags = flags; c.rotate = rotate;                       \
    c.balancer = balancer; c.seqLen = seq_len; c.window = window;              \
    ring(c);                                                                   \
  }                                                                            \
  void NAME##_bwd_##T(                                                         \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rm,                \
      const cprt_memref *m, MR rs, const cprt_memref *s, MR rdq,               \
      const cprt_memref *dq, MR rdk, const cprt_memref *dk, MR rdv,            \
      const cprt_memref *dv, double scale, int32_t flags, int32_t rotate,      \
      int32_t balancer, int64_t seq_len, int64_t window) {                     \
    AttnCall c;                                                                \
    c.op = "ring_attention_backward" OPSUFFIX; c.dt = DT; c.backward = true;   \
    c.wholeDocs = WHOLE;                                                       \
    c.dout = {rdo, dout}; c.q = {rq, q}; c.k = {rk, k}; c.v = {rv, v};         \
    c.out = {ro, o}; c.lse = {rl, l}; c.mask = {rm, m}; c.seg = {rs, s};       \
    c.dq = {rdq, dq}; c.dk = {rdk, dk}; c.dv = {rdv, dv};                      \
    c.scale = scale; c.flags = flags; c.rotate = rotate;                       \
    c.balancer = balancer; c.seqLen = seq_len; c.window = window;              \
    ring(c);                                                                   \
  }
CPRT_GPU_ATTENTION_DEFS(f32, DType::F32)
CPRT_GPU_ATTENTION_DEFS(bf16, DType::BF16)
CPRT_GPU_ATTENTION_DEFS(f16, DType::F16)
CPRT_GPU_RING_DEFS(cprt_gpu_ring, "", false, f32, DType::F32)
CPRT_GPU_RING_DEFS(cprt_gpu_ring, "", false, bf16, DType::BF16)
CPRT_GPU_RING_DEFS(cprt_gpu_ring, "", false, f16, DType::F16)
CPRT_GPU_RING_DEFS(cprt_gpu_ring_docs, " (per-document)", true, f32, DType::F32)
CPRT_GPU_RING_DEFS(cprt_gpu_ring_docs, " (per-document)", true, bf16, DType::BF16)
CPRT_GPU_RING_DEFS(cprt_gpu_ring_docs, " (per-document)", true, f16, DType::F16)
// The hybrid (Ulysses groups x a ring): the host entries' bodies
// (runtime/src/capi/HybridAbi.h) on this rank's context, whose backend is
// the rank's CudaBackend, so every buffer and exchange stays on the device.
#define CPRT_GPU_HYBRID_DEFS(T, CDT)                                           \
  void cprt_gpu_hybrid_fwd_##T(                                                \
      MR rq, const cprt_memref *q, MR rk, const cprt_memref *k, MR rv,         \
      const cprt_memref *v, MR ro, const cprt_memref *o, MR rl,                \
      const cprt_memref *l, double scale, int32_t flags, int32_t rotate,       \
      int32_t balancer, int64_t seq_len, int64_t window, int64_t ulysses_size, \
      int64_t ring_size) {                                                     \
    guarded("hybrid_attention", [&] {                                          \
      abi::hybridForwardBody(CDT, rq, q, rk, k, rv, v, ro, o, rl, l, scale,    \
                             flags, rotate, balancer, seq_len, window,         \
                             ulysses_size, ring_size);                         \
    });                                                                        \
  }                                                                            \
  void cprt_gpu_hybrid_bwd_##T(                                                \
      MR rg, const cprt_memref *g, MR rq, const cprt_memref *q, MR rk,         \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rdq,               \
      const cprt_memref *dq, MR rdk, const cprt_memref *dk, MR rdv,            \
      const cprt_memref *dv, double scale, int32_t flags, int32_t rotate,      \
      int32_t balancer, int64_t seq_len, int64_t window, int64_t ulysses_size, \
      int64_t ring_size) {                                                     \
    guarded("hybrid_attention_backward", [&] {                                 \
      abi::hybridBackwardBody(CDT, rg, g, rq, q, rk, k, rv, v, ro, o, rl, l,   \
                              rdq, dq, rdk, dk, rdv, dv, scale, flags, rotate, \
                              balancer, seq_len, window, ulysses_size,         \
                              ring_size);                                      \
    });                                                                        \
  }
CPRT_GPU_HYBRID_DEFS(f32, CPRT_F32)
CPRT_GPU_HYBRID_DEFS(bf16, CPRT_BF16)
CPRT_GPU_HYBRID_DEFS(f16, CPRT_F16)
static_assert(std::is_same_v<decltype(cprt_gpu_hybrid_fwd_bf16), decltype(cprt_c_hybrid_fwd_bf16)>);
static_assert(std::is_same_v<decltype(cprt_gpu_hybrid_bwd_f32), decltype(cprt_c_hybrid_bwd_f32)>);
// The twins take exactly the host entries' parameters (the lowering
// declares them from one table, lib/Conversion/RuntimeCalls.cpp).
static_assert(std::is_same_v<decltype(cprt_gpu_sdpa_fwd_f32), decltype(cprt_c_sdpa_fwd_f32)>);
static_assert(std::is_same_v<decltype(cprt_gpu_sdpa_bwd_bf16), decltype(cprt_c_sdpa_bwd_bf16)>);
static_assert(std::is_same_v<decltype(cprt_gpu_ring_fwd_f16), decltype(cprt_c_ring_fwd_f16)>);
static_assert(std::is_same_v<decltype(cprt_gpu_ring_bwd_f32), decltype(cprt_c_ring_bwd_f32)>);
static_assert(
    std::is_same_v<decltype(cprt_gpu_ring_docs_fwd_bf16), decltype(cprt_c_ring_docs_fwd_bf16)>);
static_assert(
    std::is_same_v<decltype(cprt_gpu_ring_docs_bwd_f16), decltype(cprt_c_ring_docs_bwd_f16)>);

#define CPRT_GPU_MOVEMENT_DEFS(T)                                              \
  void cprt_gpu_shard_##T(MR rg, const cprt_memref *g, MR rl,                  \
                          const cprt_memref *l, int64_t eb, int32_t dim,       \
                          int32_t bal) {                                       \
    shard(rg, g, rl, l, eb, dim, bal);                                         \
  }                                                                            \
  void cprt_gpu_unshard_##T(MR rl, const cprt_memref *l, MR rg,                \
                            const cprt_memref *g, int64_t eb, int32_t dim,     \
                            int32_t bal) {                                     \
    unshard(rl, l, rg, g, eb, dim, bal);                                       \
  }                                                                            \
  void cprt_gpu_all_gather_##T(MR ri, const cprt_memref *in, MR ro,            \
                               const cprt_memref *out, int64_t eb,             \
                               int32_t dim) {                                  \
    allGather(ri, in, ro, out, eb, dim);                                       \
  }                                                                            \
  void cprt_gpu_seq_to_heads_##T(MR ri, const cprt_memref *in, MR ro,          \
                                 const cprt_memref *out, int64_t eb,           \
                                 int32_t head_dim, int32_t seq_dim,            \
                                 int32_t balancer, int64_t seq_len) {          \
    ulysses(true, ri, in, ro, out, eb, head_dim, seq_dim, balancer, seq_len);  \
  }                                                                            \
  void cprt_gpu_heads_to_seq_##T(MR ri, const cprt_memref *in, MR ro,          \
                                 const cprt_memref *out, int64_t eb,           \
                                 int32_t head_dim, int32_t seq_dim,            \
                                 int32_t balancer, int64_t seq_len) {          \
    ulysses(false, ri, in, ro, out, eb, head_dim, seq_dim, balancer, seq_len); \
  }
CPRT_GPU_MOVEMENT_DEFS(f32)
CPRT_GPU_MOVEMENT_DEFS(bf16)
CPRT_GPU_MOVEMENT_DEFS(f16)
CPRT_GPU_MOVEMENT_DEFS(f64)
CPRT_GPU_MOVEMENT_DEFS(i1)
CPRT_GPU_MOVEMENT_DEFS(i8)
CPRT_GPU_MOVEMENT_DEFS(i32)
CPRT_GPU_MOVEMENT_DEFS(i64)
static_assert(std::is_same_v<decltype(cprt_gpu_seq_to_heads_bf16),
                             decltype(cprt_c_seq_to_heads_bf16)>);
static_assert(std::is_same_v<decltype(cprt_gpu_heads_to_seq_i1),
                             decltype(cprt_c_heads_to_seq_i1)>);

#define CPRT_GPU_ALL_REDUCE_DEF(T, TYPE, EB)                                   \
  void cprt_gpu_all_reduce_##T(MR ri, const cprt_memref *in, MR ro,            \
                               const cprt_memref *out, int32_t kind) {         \
    allReduce(TYPE, EB, ri, in, ro, out, kind);                                \
  }
CPRT_GPU_ALL_REDUCE_DEF(f32, 0, 4)
CPRT_GPU_ALL_REDUCE_DEF(f64, 1, 8)
CPRT_GPU_ALL_REDUCE_DEF(i32, 2, 4)
CPRT_GPU_ALL_REDUCE_DEF(i64, 3, 8)
static_assert(std::is_same_v<decltype(cprt_gpu_all_reduce_i64), decltype(cprt_c_all_reduce_i64)>);

#define CPRT_GPU_GEMM_DEF(IN, OUT, CIN, COUT, EB, EBO)                         \
  void cprt_gpu_gemm_##IN##_##OUT(MR ra, const cprt_memref *a, MR rb,          \
                                  const cprt_memref *b, MR rc,                 \
                                  const cprt_memref *c, int32_t flags) {       \
    gemm(CIN, COUT, EB, EBO, ra, a, rb, b, rc, c, flags);                      \
  }
CPRT_GPU_GEMM_DEF(f32, f32, CUDA_R_32F, CUDA_R_32F, 4, 4)
CPRT_GPU_GEMM_DEF(bf16, bf16, CUDA_R_16BF, CUDA_R_16BF, 2, 2)
CPRT_GPU_GEMM_DEF(f16, f16, CUDA_R_16F, CUDA_R_16F, 2, 2)
CPRT_GPU_GEMM_DEF(bf16, f32, CUDA_R_16BF, CUDA_R_32F, 2, 4)
CPRT_GPU_GEMM_DEF(f16, f32, CUDA_R_16F, CUDA_R_32F, 2, 4)
#undef MR

//===----------------------------------------------------------------------===//
// Launchers and status
//===----------------------------------------------------------------------===//

int cprt_gpu_run_virtual_ranks(int world, cprt_gpu_rank_fn fn, void *user,
                               int64_t timeout_ms) {
  try {
    check(world >= 1 && fn, "cprt_gpu_run_virtual_ranks: world must be >= 1");
    int dev = 0;
    CPRT_CUDA_CHECK(cudaGetDevice(&dev));
    auto group = makeVirtualRankGroup(world, dev, timeout_ms);
    std::vector<std::string> errors(static_cast<size_t>(world));
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r)
      threads.emplace_back([&, r] {
        try {
          CPRT_CUDA_CHECK(cudaSetDevice(dev)); // per thread
          runRank(makeVirtualRankCommunicator(group, r), fn, user);
        } catch (const std::exception &e) {
          errors[size_t(r)] = e.what();
          virtualRankGroupFail(*group, r, e.what());
        }
      });
    for (auto &t : threads) t.join();
    std::string first; // the lowest failing rank (its peers echo its failure)
    for (const std::string &e : errors)
      if (!e.empty() && first.empty()) first = e;
    if (!first.empty()) {
      launcherError = first;
      return CPRT_ERR_INTERNAL;
    }
    return CPRT_OK;
  } catch (const std::exception &e) {
    launcherError = e.what();
    return statusOf(e);
  }
}

int cprt_gpu_run_nccl_rank(int rank, int world, int device, const char *id_file,
                           cprt_gpu_rank_fn fn, void *user, int64_t timeout_ms) {
#ifdef CPRT_HAVE_NCCL
  try {
    check(id_file && *id_file, "cprt_gpu_run_nccl_rank: an id file path is required");
    int n = 0;
    CPRT_CUDA_CHECK(cudaGetDeviceCount(&n));
    check(n > 0, "cprt_gpu_run_nccl_rank: no CUDA device");
    int dev = device >= 0 ? device : rank % n;
    CPRT_CUDA_CHECK(cudaSetDevice(dev));
    runRank(makeNcclCommunicatorFromFile(id_file, rank, world, dev, timeout_ms), fn, user);
    return CPRT_OK;
  } catch (const std::exception &e) {
    launcherError = e.what();
    return statusOf(e);
  }
#else
  launcherError = "this runtime was built without NCCL";
  return CPRT_ERR_INVALID;
#endif
}

int32_t cprt_gpu_failed(void) { return tls.failed || !launcherError.empty() ? 1 : 0; }
const char *cprt_gpu_error(void) {
  return tls.failed ? tls.error.c_str() : launcherError.c_str();
}
void cprt_gpu_clear_error(void) {
  tls.failed = false;
  tls.error.clear();
  launcherError.clear();
}
int cprt_gpu_synchronize(void) {
  if (tls.failed) return CPRT_ERR_INTERNAL;
  return checkCuda(cudaStreamSynchronize(tls.stream), "rank stream") ? CPRT_OK
                                                                     : CPRT_ERR_INTERNAL;
}
void cprt_gpu_stats(int64_t *launches, int64_t *calls, int64_t *bytes_now,
                    int64_t *bytes_peak) {
  if (launches) *launches = tls.launches;
  if (calls) *calls = tls.calls;
  if (bytes_now) *bytes_now = tls.bytesNow;
  if (bytes_peak) *bytes_peak = tls.bytesPeak;
}

} // extern "C"
