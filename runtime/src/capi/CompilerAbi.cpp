//===- CompilerAbi.cpp - entry points for compiled code -------------------===//
//
// Adapts MLIR unranked memrefs to the runtime: checks contiguity and shapes,
// derives (B, H, S, D) from the descriptors, and forwards to the C ABI of
// cprt.h or to the communicator. Errors are sticky per thread (see
// cprt_compiler.h): compiled code has no way to unwind, so after the first
// failure every later call returns at once and the runner reports it.
//
//===----------------------------------------------------------------------===//
#include "cprt/cprt_compiler.h"
#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"
#include "cprt/Gemm.h"
#include "cprt/LoadBalancer.h"
#include "cprt/RingAttention.h"
#include "cprt/SeqScan.h"
#include "cprt/Ulysses.h"
#include "cprt/cprt.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

using namespace cprt;

// The C ABI's integers are cast to the runtime's enums below; the compiler
// checks the dialect's side (lib/Conversion/RuntimeAbi.h).
static_assert(int32_t(RotateMethod::AllGather) == CPRT_ROTATE_ALLGATHER &&
                  int32_t(RotateMethod::AllToAll) == CPRT_ROTATE_ALLTOALL &&
                  int32_t(RotateMethod::Ring) == CPRT_ROTATE_RING,
              "RotateMethod and cprt_rotate disagree");
static_assert(int32_t(Balancer::None) == CPRT_BALANCE_NONE &&
                  int32_t(Balancer::HeadTail) == CPRT_BALANCE_HEAD_TAIL &&
                  int32_t(Balancer::Striped) == CPRT_BALANCE_STRIPED &&
                  int32_t(Balancer::PerDocumentHeadTail) ==
                      CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL &&
                  int32_t(Balancer::Ptrr) == CPRT_BALANCE_PTRR,
              "Balancer and cprt_balancer disagree");
static_assert(int32_t(StepCausal::Skip) == CPRT_SKIP &&
                  int32_t(StepCausal::NotCausal) == CPRT_NOT_CAUSAL &&
                  int32_t(StepCausal::Causal) == CPRT_CAUSAL &&
                  int32_t(StepCausal::CausalStrict) == CPRT_CAUSAL_STRICT &&
                  int32_t(StepCausal::KvHeadHalf) == CPRT_KV_HEAD_HALF &&
                  int32_t(StepCausal::QTailHalf) == CPRT_Q_TAIL_HALF,
              "StepCausal and cprt_step_causal disagree");
static_assert(int32_t(ScanKind::Sum) == CPRT_C_SCAN_SUM &&
                  int32_t(ScanKind::Prod) == CPRT_C_SCAN_PROD,
              "ScanKind and the seq_scan entry points disagree");

namespace {

thread_local std::string stickyError;
cprt_c_sdpa_offload_fn sdpaOffload = nullptr;
void *sdpaOffloadUser = nullptr;
thread_local bool stickyFailed = false;

struct Buffer {
  char *data = nullptr;
  std::vector<int64_t> shape;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t dim(int64_t fromBack) const {
    return shape[shape.size() - fromBack];
  }
};

/// Reads an unranked memref (rank, descriptor) of `elemBytes` elements.
Buffer view(int64_t rank, const cprt_memref *d, int64_t elemBytes,
            const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  Buffer b;
  const int64_t *sizes = d->sizes_and_strides;
  const int64_t *strides = sizes + rank;
  b.shape.assign(sizes, sizes + rank);
  int64_t expect = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    check(sizes[i] <= 1 || strides[i] == expect,
          std::string("compiled code passed a non-contiguous ") + what);
    expect *= sizes[i];
  }
  b.data = static_cast<char *>(d->aligned) + d->offset * elemBytes;
  return b;
}

/// Records the first failure of this thread with its rank.
void fail(const std::string &msg) {
  if (stickyFailed) return;
  stickyFailed = true;
  RankContext *c = currentContext();
  stickyError = c ? "rank " + std::to_string(c->comm->rank()) + ": " + msg : msg;
}

/// Runs `body` unless this thread already failed; exceptions and non-OK
/// statuses become the sticky error.
template <typename F> void sticky(const char *op, F &&body) {
  if (stickyFailed) return;
  try {
    cprt_status s = body();
    if (s != CPRT_OK)
      fail(std::string(op) + ": " + cprt_last_error());
  } catch (const std::exception &e) {
    fail(std::string(op) + ": " + e.what());
  } catch (...) {
    fail(std::string(op) + ": unknown error");
  }
}

/// [batch..., H, S, D] -> (B, H, S, D) with B the product of the leading dims.
struct Dims {
  int64_t B = 1, H = 1, S = 1, D = 1;
};
Dims attnDims(const Buffer &t, const char *what) {
  check(t.shape.size() >= 2,
        std::string(what) + ": expected rank >= 2 ([..., S, D])");
  Dims d;
  d.D = t.dim(1);
  d.S = t.dim(2);
  if (t.shape.size() >= 3) d.H = t.dim(3);
  for (size_t i = 0; i + 3 < t.shape.size(); ++i) d.B *= t.shape[i];
  return d;
}

/// Additive f32 mask [mb?, mh?, rows, cols] as the runtime's strided mask.
void setMask(cprt_mask &m, const Buffer &mask, const Dims &q) {
  int64_t rank = int64_t(mask.shape.size());
  check(rank >= 2, "mask: expected rank >= 2");
  int64_t rows = mask.dim(2), cols = mask.dim(1);
  int64_t mh = rank >= 3 ? mask.dim(3) : 1, mb = 1;
  for (int64_t i = 0; i + 3 < rank; ++i) mb *= mask.shape[i];
  check((mh == 1 || mh == q.H) && (mb == 1 || mb == q.B),
        "mask: batch/head dims must be 1 or match the query");
  m.add_mask = reinterpret_cast<const float *>(mask.data);
  m.row_stride = cols;
  m.h_stride = mh == 1 ? 0 : rows * cols;
  m.b_stride = mb == 1 ? 0 : mh * rows * cols;
}

cprt_dtype dtypeOf(int elemBytes, bool bf16) {
  return elemBytes == 4 ? CPRT_F32 : bf16 ? CPRT_BF16 : CPRT_F16;
}

int64_t checkedSame(int64_t a, int64_t b, const char *what) {
  check(a == b, std::string("shape mismatch: ") + what);
  return a;
}

// In-flight shifts of this process, by handle.
std::mutex shiftMutex;
std::map<int64_t, CommRequestPtr> shifts;
int64_t nextShift = 1;

template <typename T> T reduce2(T a, T b, int kind) {
  return kind == CPRT_C_REDUCE_SUM   ? a + b
         : kind == CPRT_C_REDUCE_MAX ? std::max(a, b)
                                     : std::min(a, b);
}

template <typename T>
void allReduce(int64_t ri, const cprt_memref *in, int64_t ro,
               const cprt_memref *out, int32_t kind) {
  sticky("all_reduce", [&] {
    check(kind == CPRT_C_REDUCE_SUM || kind == CPRT_C_REDUCE_MAX ||
              kind == CPRT_C_REDUCE_MIN,
          "all_reduce: unknown reduction kind");
    Buffer a = view(ri, in, sizeof(T), "all_reduce input");
    Buffer r = view(ro, out, sizeof(T), "all_reduce output");
    int64_t n = checkedSame(a.numel(), r.numel(), "all_reduce sizes");
    RankContext &c = requireContext();
    int W = c.comm->size();
    std::vector<T> all(size_t(n) * W);
    c.comm->allGather(a.data, all.data(), size_t(n) * sizeof(T));
    T *o = reinterpret_cast<T *>(r.data);
    for (int64_t i = 0; i < n; ++i) {
      T acc = all[i];
      for (int w = 1; w < W; ++w) acc = reduce2(acc, all[size_t(w) * n + i], kind);
      o[i] = acc;
    }
    return CPRT_OK;
  });
}

/// Shape helpers for shard/unshard/all-gather along `dim` of a contiguous
/// tensor: [outer, len, inner].
void splitAt(const Buffer &b, int32_t dim, int64_t &outer, int64_t &len,
             int64_t &inner) {
  check(dim >= 0 && dim < int32_t(b.shape.size()), "dim out of range");
  outer = 1;
  inner = 1;
  for (int32_t i = 0; i < dim; ++i) outer *= b.shape[i];
  len = b.shape[dim];
  for (size_t i = dim + 1; i < b.shape.size(); ++i) inner *= b.shape[i];
}

void shardImpl(int64_t rg, const cprt_memref *g, int64_t rl,
               const cprt_memref *l, int64_t eb, int32_t dim, int32_t bal) {
  sticky("shard", [&] {
    Buffer gb = view(rg, g, eb, "shard input"), lb = view(rl, l, eb, "shard output");
    int64_t outer, S, inner;
    splitAt(gb, dim, outer, S, inner);
    int64_t shape[3] = {outer, S, inner};
    int64_t L = 0;
    cprt_status s = cprt_layout(cprt_balancer(bal), S, nullptr, &L, nullptr);
    if (s != CPRT_OK) return s;
    check(lb.numel() == outer * L * inner,
          "shard: the local tensor does not have the balancer's local length");
    return cprt_shard(gb.data, lb.data, shape, 3, 1, eb, cprt_balancer(bal),
                      nullptr);
  });
}

void unshardImpl(int64_t rl, const cprt_memref *l, int64_t rg,
                 const cprt_memref *g, int64_t eb, int32_t dim, int32_t bal) {
  sticky("unshard", [&] {
    Buffer lb = view(rl, l, eb, "unshard input"), gb = view(rg, g, eb, "unshard output");
    int64_t outer, S, inner;
    splitAt(gb, dim, outer, S, inner);
    int64_t shape[3] = {outer, S, inner};
    return cprt_unshard(lb.data, gb.data, shape, 3, 1, eb, cprt_balancer(bal),
                        nullptr);
  });
}

void allGatherImpl(int64_t ri, const cprt_memref *in, int64_t ro,
                   const cprt_memref *out, int64_t eb, int32_t dim) {
  sticky("all_gather", [&] {
    Buffer a = view(ri, in, eb, "all_gather input"), r = view(ro, out, eb, "all_gather output");
    int64_t outer, len, inner;
    splitAt(a, dim, outer, len, inner);
    RankContext &c = requireContext();
    int W = c.comm->size();
    check(r.numel() == a.numel() * W, "all_gather: output size is not W x input");
    size_t block = size_t(outer * len * inner * eb);
    std::vector<char> all(block * W);
    c.comm->allGather(a.data, all.data(), block);
    size_t row = size_t(len * inner * eb);
    for (int64_t o = 0; o < outer; ++o)
      for (int w = 0; w < W; ++w)
        std::memcpy(r.data + (size_t(o) * W + w) * row,
                    all.data() + size_t(w) * block + size_t(o) * row, row);
    return CPRT_OK;
  });
}

/// cp.seq_to_heads (toHeads) / cp.heads_to_seq through runtime/src/capi/
/// Ulysses.cpp on this rank's communicator.
void ulyssesImpl(bool toHeads, int64_t ri, const cprt_memref *in, int64_t ro,
                 const cprt_memref *out, int64_t eb, int32_t headDim,
                 int32_t seqDim, int32_t bal, int64_t seqLen) {
  sticky(toHeads ? "seq_to_heads" : "heads_to_seq", [&] {
    Buffer a = view(ri, in, eb, "ulysses input");
    Buffer r = view(ro, out, eb, "ulysses output");
    check(bal >= 0 && bal <= 2,
          "ulysses: balancer " + std::to_string(bal) +
              " is not supported (expected none, head_tail or striped)");
    check(a.shape.size() == r.shape.size(),
          "ulysses: input and output ranks differ");
    RankContext &c = requireContext();
    int W = c.comm->size();
    ShardLayout layout = makeLayout(Balancer(bal), seqLen, W);
    const Buffer &local = toHeads ? a : r, &heads = toHeads ? r : a;
    int n = int(local.shape.size());
    check(headDim >= 0 && headDim < n && seqDim >= 0 && seqDim < n,
          "ulysses: head_dim/seq_dim out of range");
    for (int i = 0; i < n; ++i) {
      int64_t want = i == headDim   ? local.shape[i] / W
                     : i == seqDim ? seqLen
                                   : local.shape[i];
      check(heads.shape[i] == want,
            "ulysses: the head-sharded tensor has " +
                std::to_string(heads.shape[i]) + " in dim " +
                std::to_string(i) + ", expected " + std::to_string(want));
    }
    if (toHeads)
      seqToHeads(a.data, r.data, local.shape.data(), n, headDim, seqDim,
                 size_t(eb), layout, *c.comm);
    else
      headsToSeq(a.data, r.data, local.shape.data(), n, headDim, seqDim,
                 size_t(eb), layout, *c.comm);
    return CPRT_OK;
  });
}

int64_t shiftStartImpl(int64_t rs, const cprt_memref *s, int64_t rr,
                       const cprt_memref *r, int64_t eb, int64_t offset) {
  int64_t handle = 0;
  sticky("shift_start", [&] {
    Buffer sb = view(rs, s, eb, "shift send"), rb = view(rr, r, eb, "shift receive");
    checkedSame(sb.numel(), rb.numel(), "shift send/receive sizes");
    RankContext &c = requireContext();
    CommRequestPtr req = c.comm->startShift(sb.data, rb.data,
                                            size_t(sb.numel() * eb), int(offset));
    std::lock_guard<std::mutex> lock(shiftMutex);
    handle = nextShift++;
    shifts[handle] = std::move(req);
    return CPRT_OK;
  });
  return handle;
}

/// Segment ids and positions of a block as the runtime's position-indexed
/// document ids: queries at synthetic positions 0..Sq-1, keys at Sq..;
/// padded tokens (position < 0) get unique negative documents.
struct BlockDocs {
  std::vector<int64_t> qPos, kvPos;
  std::vector<int32_t> docs;
};

template <bool Backward>
void blockImpl(cprt_dtype dt, const char *op, const Buffer *dout,
               const Buffer &q, const Buffer &k, const Buffer &v,
               const Buffer *out, const Buffer &lse, const Buffer *mask,
               const Buffer *qPos, const Buffer *kvPos, const Buffer *qSeg,
               const Buffer *kvSeg, const Buffer &o0, const Buffer *o1,
               const Buffer *o2, double scale, int32_t flags, int32_t step,
               int64_t window) {
  sticky(op, [&] {
    Dims dq = attnDims(q, "query"), dk = attnDims(k, "key");
    cprt_mask m{};
    BlockDocs docs;
    if (flags & CPRT_C_HAS_MASK) setMask(m, *mask, dq);
    if (flags & CPRT_C_HAS_SEGMENTS) {
      check(window <= 0, "a window together with document ids in one block "
                         "is not supported yet");
      const int32_t *qs = reinterpret_cast<const int32_t *>(qSeg->data);
      const int32_t *ks = reinterpret_cast<const int32_t *>(kvSeg->data);
      const int64_t *qp = (flags & CPRT_C_HAS_POSITIONS)
                              ? reinterpret_cast<const int64_t *>(qPos->data)
                              : nullptr;
      const int64_t *kp = (flags & CPRT_C_HAS_POSITIONS)
                              ? reinterpret_cast<const int64_t *>(kvPos->data)
                              : nullptr;
      docs.docs.resize(size_t(dq.S + dk.S));
      docs.qPos.resize(size_t(dq.S));
      docs.kvPos.resize(size_t(dk.S));
      for (int64_t i = 0; i < dq.S; ++i) {
        docs.qPos[i] = i;
        docs.docs[i] = (qp && qp[i] < 0) ? int32_t(-1 - i) : qs[i];
      }
      for (int64_t j = 0; j < dk.S; ++j) {
        docs.kvPos[j] = dq.S + j;
        docs.docs[dq.S + j] = (kp && kp[j] < 0) ? int32_t(-1 - dq.S - j) : ks[j];
      }
      m.q_pos = docs.qPos.data();
      m.kv_pos = docs.kvPos.data();
      m.doc_ids = docs.docs.data();
      m.doc_len = dq.S + dk.S;
      check(!(flags & CPRT_C_HAS_MASK),
            "an explicit mask together with document ids in one block is not "
            "supported yet");
    } else if (flags & CPRT_C_HAS_POSITIONS) {
      m.q_pos = reinterpret_cast<const int64_t *>(qPos->data);
      m.kv_pos = reinterpret_cast<const int64_t *>(kvPos->data);
      m.window_left = window;
      if (window > 0) m.causal = 1;
    }
    const cprt_mask *mp = (flags & (CPRT_C_HAS_MASK | CPRT_C_HAS_SEGMENTS |
                                    CPRT_C_HAS_POSITIONS))
                              ? &m
                              : nullptr;
    if constexpr (!Backward) {
      return cprt_block_attention_fwd(dt, dq.B, dq.H, dk.H, dq.S, dk.S, dq.D,
                                      q.data, k.data, v.data,
                                      reinterpret_cast<float *>(o0.data),
                                      reinterpret_cast<float *>(lse.data),
                                      float(scale), cprt_step_causal(step), mp);
    } else {
      // Contributions are accumulated: start from zero.
      std::memset(o0.data, 0, size_t(o0.numel()) * 4);
      std::memset(o1->data, 0, size_t(o1->numel()) * 4);
      std::memset(o2->data, 0, size_t(o2->numel()) * 4);
      return cprt_block_attention_bwd(
          dt, dq.B, dq.H, dk.H, dq.S, dk.S, dq.D, dout->data, q.data, k.data,
          v.data, out->data, reinterpret_cast<const float *>(lse.data),
          reinterpret_cast<float *>(o0.data), reinterpret_cast<float *>(o1->data),
          reinterpret_cast<float *>(o2->data), float(scale),
          cprt_step_causal(step), mp);
    }
  });
}

/// Document ids of the whole sequence in original order from this rank's
/// local segment ids (all ranks take part).
std::vector<int32_t> globalDocs(const Buffer &seg, int32_t balancer,
                                int64_t seqLen) {
  std::vector<int32_t> docs(static_cast<size_t>(seqLen));
  int64_t shape[1] = {seqLen};
  cprt_status s = cprt_unshard(seg.data, docs.data(), shape, 1, 0, 4,
                               cprt_balancer(balancer), nullptr);
  check(s == CPRT_OK, std::string("segment ids: ") + cprt_last_error());
  return docs;
}

/// Ring masks hold local query rows against all keys in original order; the
/// runtime reads rows by the query's original position, so spread this
/// rank's rows into a [.., S, S] buffer.
std::vector<float> ringMask(cprt_mask &m, const Buffer &mask, const Dims &q,
                            int32_t balancer, int64_t seqLen) {
  int64_t L = q.S;
  std::vector<int64_t> pos(static_cast<size_t>(L));
  cprt_status s = cprt_layout(cprt_balancer(balancer), seqLen, nullptr, &L,
                              pos.data());
  check(s == CPRT_OK, std::string("mask layout: ") + cprt_last_error());
  int64_t rank = int64_t(mask.shape.size());
  int64_t cols = mask.dim(1);
  check(cols == seqLen, "ring mask: expected one column per key (seq_len)");
  int64_t planes = mask.numel() / (mask.dim(2) * cols);
  bool rowBroadcast = mask.dim(2) == 1;
  std::vector<float> full(size_t(planes * seqLen * seqLen), 0.0f);
  const float *src = reinterpret_cast<const float *>(mask.data);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < L; ++i) {
      if (pos[i] < 0) continue;
      const float *row = src + (p * mask.dim(2) + (rowBroadcast ? 0 : i)) * cols;
      std::copy(row, row + cols, full.data() + (p * seqLen + pos[i]) * seqLen);
    }
  Buffer fb;
  fb.data = reinterpret_cast<char *>(full.data());
  fb.shape = mask.shape;
  fb.shape[rank - 2] = seqLen;
  setMask(m, fb, q);
  return full;
}

template <bool Backward>
void ringImpl(cprt_dtype dt, const char *op, const Buffer *dout,
              const Buffer &q, const Buffer &k, const Buffer &v,
              const Buffer *out, const Buffer *lse, const Buffer *mask,
              const Buffer *seg, const Buffer &o0, const Buffer *o1,
              const Buffer *o2, double scale, int32_t flags, int32_t rotate,
              int32_t balancer, int64_t seqLen, int64_t window) {
  sticky(op, [&] {
    Dims dq = attnDims(q, "query"), dk = attnDims(k, "key");
    cprt_mask m{};
    std::vector<int32_t> docs;
    std::vector<float> fullMask;
    if (flags & CPRT_C_HAS_SEGMENTS) {
      docs = globalDocs(*seg, balancer, seqLen);
      m.doc_ids = docs.data();
      m.doc_len = seqLen;
    }
    if (flags & CPRT_C_HAS_MASK)
      fullMask = ringMask(m, *mask, dq, balancer, seqLen);
    m.window_left = window;
    bool anyMask = (flags & (CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_MASK)) || window > 0;
    bool causal = (flags & CPRT_C_CAUSAL) != 0;
    if constexpr (!Backward) {
      float *l = (flags & CPRT_C_HAS_LSE) ? reinterpret_cast<float *>(lse->data)
                                          : nullptr;
      return cprt_ring_attention_fwd(dt, dq.B, dq.H, dk.H, dq.S, dq.D, q.data,
                                     k.data, v.data, o0.data, l, float(scale),
                                     causal, cprt_rotate(rotate),
                                     cprt_balancer(balancer), seqLen,
                                     anyMask ? &m : nullptr);
    } else {
      return cprt_ring_attention_bwd(
          dt, dq.B, dq.H, dk.H, dq.S, dq.D, dout->data, q.data, k.data, v.data,
          out->data, reinterpret_cast<const float *>(lse->data), o0.data,
          o1->data, o2->data, float(scale), causal, cprt_rotate(rotate),
          cprt_balancer(balancer), seqLen, anyMask ? &m : nullptr);
    }
  });
}


/// A matrix operand [batch?, rows, cols] of cprt_c_matmul_f32: any row and
/// batch stride, unit stride along the last dim.
GemmOperand gemmOperand(int64_t rank, const cprt_memref *d, const char *what,
                        int64_t &batch, int64_t &rows, int64_t &cols) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  check(rank == 2 || rank == 3, std::string("matmul: ") + what +
                                    " has rank " + std::to_string(rank) +
                                    ", expected 2 or 3");
  const int64_t *sizes = d->sizes_and_strides, *strides = sizes + rank;
  check(sizes[rank - 1] <= 1 || strides[rank - 1] == 1,
        std::string("matmul: the last dim of ") + what +
            " is not contiguous (stride " + std::to_string(strides[rank - 1]) +
            ")");
  GemmOperand g;
  g.data = static_cast<float *>(d->aligned) + d->offset;
  rows = sizes[rank - 2];
  cols = sizes[rank - 1];
  g.rowStride = rows <= 1 ? std::max<int64_t>(cols, strides[rank - 2])
                          : strides[rank - 2];
  batch = rank == 3 ? sizes[0] : 1;
  g.batchStride = rank == 3 && sizes[0] > 1 ? strides[0] : 0;
  return g;
}

int rankThreads() {
  RankContext *c = currentContext();
  if (c)
    if (auto *cpu = dynamic_cast<CpuBackend *>(c->backend.get()))
      return cpu->numThreads();
  return hardwareThreads();
}

void matmulImpl(int64_t ra, const cprt_memref *a, int64_t rb,
                const cprt_memref *b, int64_t rc, const cprt_memref *c,
                int32_t flags) {
  sticky("matmul", [&] {
    int64_t ba, ar, ac, bb, br, bc, bcn, M, N;
    GemmOperand ga = gemmOperand(ra, a, "A", ba, ar, ac);
    GemmOperand gb = gemmOperand(rb, b, "B", bb, br, bc);
    GemmOperand gc = gemmOperand(rc, c, "C", bcn, M, N);
    ga.trans = flags & CPRT_C_MATMUL_TRANS_A;
    gb.trans = flags & CPRT_C_MATMUL_TRANS_B;
    const int64_t K = ga.trans ? ar : ac;
    check((ga.trans ? ac : ar) == M && (gb.trans ? br : bc) == N &&
              (gb.trans ? bc : br) == K,
          "matmul: shapes of A, B and C do not form a matrix product");
    check((ba == 1 || ba == bcn) && (bb == 1 || bb == bcn),
          "matmul: batch sizes of A and B must be 1 or C's");
    gemmF32(bcn, M, N, K, ga, gb, gc, flags & CPRT_C_MATMUL_ACCUMULATE,
            rankThreads());
    return CPRT_OK;
  });
}

} // namespace

namespace cprt {
// The sticky error for entry points defined in other files (HybridCApi.cpp).
bool compilerAbiFailed() { return stickyFailed; }
void compilerAbiFail(const std::string &msg) { ::fail(msg); }
} // namespace cprt

extern "C" {

void cprt_c_set_sdpa_offload(cprt_c_sdpa_offload_fn fn, void *user) {
  sdpaOffload = fn;
  sdpaOffloadUser = user;
}

int32_t cprt_c_failed(void) { return stickyFailed ? 1 : 0; }
const char *cprt_c_error(void) { return stickyError.c_str(); }
void cprt_c_clear_error(void) {
  stickyFailed = false;
  stickyError.clear();
}
int64_t cprt_c_rank(void) {
  RankContext *c = currentContext();
  return c ? c->comm->rank() : 0;
}

#define MR int64_t
#define CPRT_C_ATTENTION_DEFS(T, EB, BF)                                       \
  void cprt_c_sdpa_fwd_##T(MR rq, const cprt_memref *q, MR rk,                 \
                           const cprt_memref *k, MR rv, const cprt_memref *v,  \
                           MR rm, const cprt_memref *m, MR ro,                 \
                           const cprt_memref *o, MR rl, const cprt_memref *l,  \
                           double scale, int32_t flags) {                      \
    sticky("sdpa", [&] {                                                       \
      Buffer qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key"),       \
             vb = view(rv, v, EB, "value"), ob = view(ro, o, EB, "output");    \
      Dims dq = attnDims(qb, "query"), dk = attnDims(kb, "key");               \
      cprt_mask mask{};                                                        \
      if (flags & CPRT_C_HAS_MASK) setMask(mask, view(rm, m, 4, "mask"), dq);  \
      float *lse = (flags & CPRT_C_HAS_LSE)                                    \
                       ? reinterpret_cast<float *>(view(rl, l, 4, "lse").data) \
                       : nullptr;                                              \
      if (sdpaOffload && !(flags & CPRT_C_HAS_MASK)) {                         \
        cprt_status st = sdpaOffload(                                          \
            dtypeOf(EB, BF), dq.B, dq.H, dk.H, dq.S, dk.S, dq.D, qb.data,      \
            kb.data, vb.data, ob.data, lse, float(scale),                      \
            flags & CPRT_C_CAUSAL, sdpaOffloadUser);                           \
        check(st == CPRT_OK, "offloaded attention failed");                   \
        return st;                                                             \
      }                                                                        \
      return cprt_sdpa_fwd(dtypeOf(EB, BF), dq.B, dq.H, dk.H, dq.S, dk.S,      \
                           dq.D, qb.data, kb.data, vb.data, ob.data, lse,      \
                           float(scale), flags & CPRT_C_CAUSAL,                \
                           (flags & CPRT_C_HAS_MASK) ? &mask : nullptr);       \
    });                                                                        \
  }                                                                            \
  void cprt_c_sdpa_bwd_##T(                                                    \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rm,                \
      const cprt_memref *m, MR rdq, const cprt_memref *dq, MR rdk,             \
      const cprt_memref *dk, MR rdv, const cprt_memref *dv, double scale,      \
      int32_t flags) {                                                         \
    sticky("sdpa_backward", [&] {                                              \
      Buffer qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key");       \
      Dims a = attnDims(qb, "query"), b = attnDims(kb, "key");                 \
      cprt_mask mask{};                                                        \
      if (flags & CPRT_C_HAS_MASK) setMask(mask, view(rm, m, 4, "mask"), a);   \
      return cprt_sdpa_bwd(                                                    \
          dtypeOf(EB, BF), a.B, a.H, b.H, a.S, b.S, a.D,                       \
          view(rdo, dout, EB, "grad_output").data, qb.data, kb.data,           \
          view(rv, v, EB, "value").data, view(ro, o, EB, "output").data,       \
          reinterpret_cast<const float *>(view(rl, l, 4, "lse").data),         \
          view(rdq, dq, EB, "grad_query").data,                                \
          view(rdk, dk, EB, "grad_key").data,                                  \
          view(rdv, dv, EB, "grad_value").data, float(scale),                  \
          flags & CPRT_C_CAUSAL, (flags & CPRT_C_HAS_MASK) ? &mask : nullptr); \
    });                                                                        \
  }                                                                            \
  void cprt_c_ring_fwd_##T(MR rq, const cprt_memref *q, MR rk,                 \
                           const cprt_memref *k, MR rv, const cprt_memref *v,  \
                           MR rm, const cprt_memref *m, MR rs,                 \
                           const cprt_memref *s, MR ro, const cprt_memref *o,  \
                           MR rl, const cprt_memref *l, double scale,          \
                           int32_t flags, int32_t rotate, int32_t balancer,    \
                           int64_t seq_len, int64_t window) {                  \
    if (stickyFailed) return;                                                  \
    try {                                                                      \
      Buffer qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key"),       \
             vb = view(rv, v, EB, "value"), ob = view(ro, o, EB, "output");    \
      Buffer mb, sb, lb;                                                       \
      if (flags & CPRT_C_HAS_MASK) mb = view(rm, m, 4, "mask");                \
      if (flags & CPRT_C_HAS_SEGMENTS) sb = view(rs, s, 4, "segment ids");     \
      if (flags & CPRT_C_HAS_LSE) lb = view(rl, l, 4, "lse");                  \
      ringImpl<false>(dtypeOf(EB, BF), "ring_attention", nullptr, qb, kb, vb,  \
                      nullptr, &lb, &mb, &sb, ob, nullptr, nullptr, scale,     \
                      flags, rotate, balancer, seq_len, window);               \
    } catch (const std::exception &e) {                                        \
      fail(std::string("ring_attention: ") + e.what());                        \
    }                                                                          \
  }                                                                            \
  void cprt_c_ring_bwd_##T(                                                    \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rm,                \
      const cprt_memref *m, MR rs, const cprt_memref *s, MR rdq,               \
      const cprt_memref *dq, MR rdk, const cprt_memref *dk, MR rdv,            \
      const cprt_memref *dv, double scale, int32_t flags, int32_t rotate,      \
      int32_t balancer, int64_t seq_len, int64_t window) {                     \
    if (stickyFailed) return;                                                  \
    try {                                                                      \
      Buffer db = view(rdo, dout, EB, "grad_output"),                          \
             qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key"),       \
             vb = view(rv, v, EB, "value"), ob = view(ro, o, EB, "output"),    \
             lb = view(rl, l, 4, "lse"),                                       \
             dqb = view(rdq, dq, EB, "grad_query"),                            \
             dkb = view(rdk, dk, EB, "grad_key"),                              \
             dvb = view(rdv, dv, EB, "grad_value");                            \
      Buffer mb, sb;                                                           \
      if (flags & CPRT_C_HAS_MASK) mb = view(rm, m, 4, "mask");                \
      if (flags & CPRT_C_HAS_SEGMENTS) sb = view(rs, s, 4, "segment ids");     \
      ringImpl<true>(dtypeOf(EB, BF), "ring_attention_backward", &db, qb, kb,  \
                     vb, &ob, &lb, &mb, &sb, dqb, &dkb, &dvb, scale, flags,    \
                     rotate, balancer, seq_len, window);                       \
    } catch (const std::exception &e) {                                        \
      fail(std::string("ring_attention_backward: ") + e.what());               \
    }                                                                          \
  }                                                                            \
  void cprt_c_block_fwd_##T(                                                   \
      MR rq, const cprt_memref *q, MR rk, const cprt_memref *k, MR rv,         \
      const cprt_memref *v, MR rm, const cprt_memref *m, MR rqp,               \
      const cprt_memref *qp, MR rkp, const cprt_memref *kp, MR rqs,            \
      const cprt_memref *qs, MR rks, const cprt_memref *ks, MR ro,             \
      const cprt_memref *o, MR rl, const cprt_memref *l, double scale,         \
      int32_t flags, int32_t step, int64_t window) {                           \
    if (stickyFailed) return;                                                  \
    try {                                                                      \
      Buffer qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key"),       \
             vb = view(rv, v, EB, "value"), ob = view(ro, o, 4, "output"),     \
             lb = view(rl, l, 4, "lse");                                       \
      Buffer mb, qpb, kpb, qsb, ksb;                                           \
      if (flags & CPRT_C_HAS_MASK) mb = view(rm, m, 4, "mask");                \
      if (flags & CPRT_C_HAS_POSITIONS) {                                      \
        qpb = view(rqp, qp, 8, "q_positions");                                 \
        kpb = view(rkp, kp, 8, "kv_positions");                                \
      }                                                                        \
      if (flags & CPRT_C_HAS_SEGMENTS) {                                       \
        qsb = view(rqs, qs, 4, "q_segment_ids");                               \
        ksb = view(rks, ks, 4, "kv_segment_ids");                              \
      }                                                                        \
      blockImpl<false>(dtypeOf(EB, BF), "block_attention", nullptr, qb, kb,    \
                       vb, nullptr, lb, &mb, &qpb, &kpb, &qsb, &ksb, ob,       \
                       nullptr, nullptr, scale, flags, step, window);          \
    } catch (const std::exception &e) {                                        \
      fail(std::string("block_attention: ") + e.what());                       \
    }                                                                          \
  }                                                                            \
  void cprt_c_block_bwd_##T(                                                   \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rm,                \
      const cprt_memref *m, MR rqp, const cprt_memref *qp, MR rkp,             \
      const cprt_memref *kp, MR rqs, const cprt_memref *qs, MR rks,            \
      const cprt_memref *ks, MR rdq, const cprt_memref *dq, MR rdk,            \
      const cprt_memref *dk, MR rdv, const cprt_memref *dv, double scale,      \
      int32_t flags, int32_t step, int64_t window) {                           \
    if (stickyFailed) return;                                                  \
    try {                                                                      \
      Buffer db = view(rdo, dout, EB, "grad_output"),                          \
             qb = view(rq, q, EB, "query"), kb = view(rk, k, EB, "key"),       \
             vb = view(rv, v, EB, "value"), ob = view(ro, o, EB, "output"),    \
             lb = view(rl, l, 4, "lse"), dqb = view(rdq, dq, 4, "grad_query"), \
             dkb = view(rdk, dk, 4, "grad_key"),                               \
             dvb = view(rdv, dv, 4, "grad_value");                             \
      Buffer mb, qpb, kpb, qsb, ksb;                                           \
      if (flags & CPRT_C_HAS_MASK) mb = view(rm, m, 4, "mask");                \
      if (flags & CPRT_C_HAS_POSITIONS) {                                      \
        qpb = view(rqp, qp, 8, "q_positions");                                 \
        kpb = view(rkp, kp, 8, "kv_positions");                                \
      }                                                                        \
      if (flags & CPRT_C_HAS_SEGMENTS) {                                       \
        qsb = view(rqs, qs, 4, "q_segment_ids");                               \
        ksb = view(rks, ks, 4, "kv_segment_ids");                              \
      }                                                                        \
      blockImpl<true>(dtypeOf(EB, BF), "block_attention_backward", &db, qb,    \
                      kb, vb, &ob, lb, &mb, &qpb, &kpb, &qsb, &ksb, dqb,       \
                      &dkb, &dvb, scale, flags, step, window);                 \
    } catch (const std::exception &e) {                                        \
      fail(std::string("block_attention_backward: ") + e.what());              \
    }                                                                          \
  }

CPRT_C_ATTENTION_DEFS(f32, 4, false)
CPRT_C_ATTENTION_DEFS(bf16, 2, true)
CPRT_C_ATTENTION_DEFS(f16, 2, false)

void cprt_c_merge_f32(MR ra, const cprt_memref *a, MR rla,
                      const cprt_memref *la, MR rb, const cprt_memref *b,
                      MR rlb, const cprt_memref *lb, MR ro,
                      const cprt_memref *o, MR rlo, const cprt_memref *lo) {
  sticky("merge_partial", [&] {
    Buffer ab = view(ra, a, 4, "output"), lab = view(rla, la, 4, "lse"),
           bb = view(rb, b, 4, "output_b"), lbb = view(rlb, lb, 4, "lse_b"),
           ob = view(ro, o, 4, "merged output"),
           lob = view(rlo, lo, 4, "merged lse");
    int64_t rows = lab.numel();
    int64_t d = rows ? ab.numel() / rows : 0;
    checkedSame(ab.numel(), bb.numel(), "merge outputs");
    checkedSame(ab.numel(), ob.numel(), "merge destination");
    if (ob.data != ab.data) std::memcpy(ob.data, ab.data, size_t(ab.numel()) * 4);
    if (lob.data != lab.data) std::memcpy(lob.data, lab.data, size_t(rows) * 4);
    return cprt_merge_partial(reinterpret_cast<float *>(ob.data),
                              reinterpret_cast<float *>(lob.data),
                              reinterpret_cast<const float *>(bb.data),
                              reinterpret_cast<const float *>(lbb.data), rows, d);
  });
}

static void shiftWait(int64_t handle) {
  CommRequestPtr req;
  {
    std::lock_guard<std::mutex> lock(shiftMutex);
    auto it = shifts.find(handle);
    if (it != shifts.end()) {
      req = std::move(it->second);
      shifts.erase(it);
    }
  }
  if (stickyFailed) return;
  if (!req) {
    fail("shift_wait: unknown shift handle " + std::to_string(handle));
    return;
  }
  sticky("shift_wait", [&] {
    req->wait();
    return CPRT_OK;
  });
}

#define CPRT_C_MOVEMENT_DEFS(T)                                                \
  void cprt_c_shard_##T(MR rg, const cprt_memref *g, MR rl,                    \
                        const cprt_memref *l, int64_t eb, int32_t dim,         \
                        int32_t bal) {                                         \
    shardImpl(rg, g, rl, l, eb, dim, bal);                                     \
  }                                                                            \
  void cprt_c_unshard_##T(MR rl, const cprt_memref *l, MR rg,                  \
                          const cprt_memref *g, int64_t eb, int32_t dim,       \
                          int32_t bal) {                                       \
    unshardImpl(rl, l, rg, g, eb, dim, bal);                                   \
  }                                                                            \
  void cprt_c_all_gather_##T(MR ri, const cprt_memref *in, MR ro,              \
                             const cprt_memref *out, int64_t eb,               \
                             int32_t dim) {                                    \
    allGatherImpl(ri, in, ro, out, eb, dim);                                   \
  }                                                                            \
  int64_t cprt_c_shift_start_##T(MR rs, const cprt_memref *s, MR rr,           \
                                 const cprt_memref *r, int64_t eb,             \
                                 int64_t offset) {                             \
    return shiftStartImpl(rs, s, rr, r, eb, offset);                           \
  }                                                                            \
  void cprt_c_shift_wait_##T(int64_t handle, MR, const cprt_memref *) {        \
    shiftWait(handle);                                                         \
  }                                                                            \
  void cprt_c_seq_to_heads_##T(MR ri, const cprt_memref *in, MR ro,            \
                               const cprt_memref *out, int64_t eb,             \
                               int32_t hd, int32_t sd, int32_t bal,            \
                               int64_t seq_len) {                              \
    ulyssesImpl(true, ri, in, ro, out, eb, hd, sd, bal, seq_len);              \
  }                                                                            \
  void cprt_c_heads_to_seq_##T(MR ri, const cprt_memref *in, MR ro,            \
                               const cprt_memref *out, int64_t eb,             \
                               int32_t hd, int32_t sd, int32_t bal,            \
                               int64_t seq_len) {                              \
    ulyssesImpl(false, ri, in, ro, out, eb, hd, sd, bal, seq_len);             \
  }

CPRT_C_MOVEMENT_DEFS(f32)
CPRT_C_MOVEMENT_DEFS(bf16)
CPRT_C_MOVEMENT_DEFS(f16)
CPRT_C_MOVEMENT_DEFS(f64)
CPRT_C_MOVEMENT_DEFS(i1)
CPRT_C_MOVEMENT_DEFS(i8)
CPRT_C_MOVEMENT_DEFS(i32)
CPRT_C_MOVEMENT_DEFS(i64)

void cprt_c_all_reduce_f32(MR ri, const cprt_memref *in, MR ro,
                           const cprt_memref *out, int32_t kind) {
  allReduce<float>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_f64(MR ri, const cprt_memref *in, MR ro,
                           const cprt_memref *out, int32_t kind) {
  allReduce<double>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_i32(MR ri, const cprt_memref *in, MR ro,
                           const cprt_memref *out, int32_t kind) {
  allReduce<int32_t>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_i64(MR ri, const cprt_memref *in, MR ro,
                           const cprt_memref *out, int32_t kind) {
  allReduce<int64_t>(ri, in, ro, out, kind);
}

void cprt_c_matmul_f32(MR ra, const cprt_memref *a, MR rb,
                       const cprt_memref *b, MR rc, const cprt_memref *c,
                       int32_t flags) {
  matmulImpl(ra, a, rb, b, rc, c, flags);
}

// cp.seq_scan (runtime/src/scan/SeqScan.cpp).
static void seqScanEntry(ScanType type, int64_t eb, MR ri,
                         const cprt_memref *in, MR ro, const cprt_memref *out,
                         int32_t dim, int32_t balancer, int64_t seqLen,
                         int32_t kind) {
  sticky("seq_scan", [&] {
    Buffer a = view(ri, in, eb, "seq_scan input");
    Buffer r = view(ro, out, eb, "seq_scan output");
    check(a.shape == r.shape, "seq_scan: input and output shapes differ");
    check(kind == CPRT_C_SCAN_SUM || kind == CPRT_C_SCAN_PROD,
          "seq_scan: unknown combiner " + std::to_string(kind) +
              " (expected 0 sum or 1 product)");
    check(balancer >= 0 && balancer <= 2,
          "seq_scan: balancer " + std::to_string(balancer) +
              " is not supported (expected none, head_tail or striped)");
    int64_t outer, L, inner;
    splitAt(a, dim, outer, L, inner);
    RankContext &c = requireContext();
    ShardLayout layout =
        makeLayout(Balancer(balancer), seqLen, c.comm->size());
    check(layout.localLen == L,
          "seq_scan: dim " + std::to_string(dim) + " has " +
              std::to_string(L) + " positions but the balancer's local "
              "length for seq_len " + std::to_string(seqLen) + " is " +
              std::to_string(layout.localLen));
    seqScan(a.data, r.data, outer, inner, type, ScanKind(kind), layout,
            *c.comm);
    return CPRT_OK;
  });
}

#define CPRT_C_SEQ_SCAN_DEF(T, TYPE, EB)                                       \
  void cprt_c_seq_scan_##T(MR ri, const cprt_memref *in, MR ro,              \
                           const cprt_memref *out, int32_t dim,              \
                           int32_t balancer, int64_t seq_len, int32_t kind) { \
    seqScanEntry(TYPE, EB, ri, in, ro, out, dim, balancer, seq_len, kind);   \
  }
CPRT_C_SEQ_SCAN_DEF(f32, ScanType::F32, 4)
CPRT_C_SEQ_SCAN_DEF(f64, ScanType::F64, 8)
CPRT_C_SEQ_SCAN_DEF(i32, ScanType::I32, 4)
CPRT_C_SEQ_SCAN_DEF(i64, ScanType::I64, 8)
#undef CPRT_C_SEQ_SCAN_DEF

} // extern "C"
