//===- DocumentsCApi.cpp - per-document ring entries for compiled code ----===//
//
// cprt_c_ring_docs_{fwd,bwd}_<T> (cprt_compiler.h): ring attention with
// per_document_head_tail balancing, whose layout the runtime computes from
// the document ids at run time. Same parameters as cprt_c_ring_*, but the
// segment-id buffer holds the ids of the whole sequence ([seq_len] i32, in
// original order), not this rank's shard: the layout cannot be undone
// without them. The local length of q/k/v must be the layout's (every rank
// padded to the most loaded one); a mismatch is an error naming both.
// Errors go to the sticky error of CompilerAbi.cpp.
//
//===----------------------------------------------------------------------===//

#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <exception>
#include <string>
#include <vector>

namespace cprt {
bool compilerAbiFailed();
void compilerAbiFail(const std::string &msg);
} // namespace cprt

using namespace cprt;

namespace {

/// Thrown by the checks below; becomes the sticky error.
struct DocsError : std::exception {
  std::string msg;
  explicit DocsError(std::string m) : msg(std::move(m)) {}
  const char *what() const noexcept override { return msg.c_str(); }
};

void require(bool ok, const std::string &msg) {
  if (!ok)
    throw DocsError(msg);
}

/// A contiguous buffer of compiled code with its shape.
struct View {
  char *data = nullptr;
  std::vector<int64_t> shape;
};

View viewOf(int64_t rank, const cprt_memref *d, int64_t elemBytes,
            const char *what) {
  require(d != nullptr, std::string("compiled code passed a null ") + what);
  const int64_t *sizes = d->sizes_and_strides, *strides = sizes + rank;
  int64_t expect = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    require(sizes[i] <= 1 || strides[i] == expect,
            std::string("compiled code passed a non-contiguous ") + what);
    expect *= sizes[i];
  }
  View v;
  v.shape.assign(sizes, sizes + rank);
  v.data = static_cast<char *>(d->aligned) + d->offset * elemBytes;
  return v;
}

/// [B..., H, L, D] of an attention operand.
struct Dims {
  int64_t B = 1, H = 1, L = 1, D = 1;
};

Dims dimsOf(const View &v, const char *what) {
  size_t n = v.shape.size();
  require(n >= 2, std::string(what) + ": expected rank >= 2");
  Dims d;
  d.D = v.shape[n - 1];
  d.L = v.shape[n - 2];
  if (n >= 3)
    d.H = v.shape[n - 3];
  for (size_t i = 0; i + 3 < n; ++i)
    d.B *= v.shape[i];
  return d;
}

/// The ids of the whole sequence as the runtime's mask, after checking
/// that the layout they give has the local length `L` compiled in.
cprt_mask documentMask(const View &docs, int64_t seqLen, int64_t L) {
  require(docs.shape.size() == 1 && docs.shape[0] == seqLen,
          "per-document ring: expected the document ids of the whole "
          "sequence ([" +
              std::to_string(seqLen) + "])");
  const int32_t *ids = reinterpret_cast<const int32_t *>(docs.data);
  int64_t layoutLen = 0;
  cprt_status s = cprt_layout(CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, ids,
                              &layoutLen, nullptr);
  require(s == CPRT_OK,
          std::string("per-document layout: ") + cprt_last_error());
  require(layoutLen == L,
          "per-document ring: the code was compiled for " + std::to_string(L) +
              " local tokens per rank, but the layout of these document ids "
              "has " +
              std::to_string(layoutLen));
  cprt_mask m{};
  m.doc_ids = ids;
  m.doc_len = seqLen;
  return m;
}

template <typename F> void guarded(const char *op, F &&body) {
  if (compilerAbiFailed())
    return;
  try {
    cprt_status s = body();
    if (s != CPRT_OK)
      compilerAbiFail(std::string(op) + ": " + cprt_last_error());
  } catch (const std::exception &e) {
    compilerAbiFail(std::string(op) + ": " + e.what());
  } catch (...) {
    compilerAbiFail(std::string(op) + ": unknown error");
  }
}

void checkFlags(int32_t flags, int32_t balancer, int64_t window) {
  require(balancer == CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL,
          "per-document ring: balancer " + std::to_string(balancer) +
              " is not per_document_head_tail");
  require(flags & CPRT_C_HAS_SEGMENTS,
          "per-document ring: document ids are required");
  require(!(flags & CPRT_C_HAS_MASK) && window <= 0,
          "per-document ring: explicit masks and windows are not supported");
}

} // namespace

extern "C" {

#define MR int64_t
#define CPRT_C_RING_DOCS_DEFS(T, EB, DT)                                       \
  void cprt_c_ring_docs_fwd_##T(                                               \
      MR rq, const cprt_memref *q, MR rk, const cprt_memref *k, MR rv,         \
      const cprt_memref *v, MR, const cprt_memref *, MR rs,                    \
      const cprt_memref *s, MR ro, const cprt_memref *o, MR rl,                \
      const cprt_memref *l, double scale, int32_t flags, int32_t rotate,       \
      int32_t balancer, int64_t seq_len, int64_t window) {                     \
    guarded("ring_attention (per-document)", [&] {                             \
      checkFlags(flags, balancer, window);                                     \
      View qv = viewOf(rq, q, EB, "query"), kv = viewOf(rk, k, EB, "key");     \
      Dims dq = dimsOf(qv, "query"), dk = dimsOf(kv, "key");                   \
      cprt_mask m =                                                            \
          documentMask(viewOf(rs, s, 4, "document ids"), seq_len, dq.L);       \
      float *lse =                                                             \
          (flags & CPRT_C_HAS_LSE)                                             \
              ? reinterpret_cast<float *>(viewOf(rl, l, 4, "lse").data)        \
              : nullptr;                                                       \
      return cprt_ring_attention_fwd(                                          \
          DT, dq.B, dq.H, dk.H, dq.L, dq.D, qv.data, kv.data,                  \
          viewOf(rv, v, EB, "value").data, viewOf(ro, o, EB, "output").data,   \
          lse, float(scale), flags & CPRT_C_CAUSAL, cprt_rotate(rotate),       \
          CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seq_len, &m);                   \
    });                                                                        \
  }                                                                            \
  void cprt_c_ring_docs_bwd_##T(                                               \
      MR rdo, const cprt_memref *dout, MR rq, const cprt_memref *q, MR rk,     \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR,                   \
      const cprt_memref *, MR rs, const cprt_memref *s, MR rdq,                \
      const cprt_memref *dq, MR rdk, const cprt_memref *dk, MR rdv,            \
      const cprt_memref *dv, double scale, int32_t flags, int32_t rotate,      \
      int32_t balancer, int64_t seq_len, int64_t window) {                     \
    guarded("ring_attention_backward (per-document)", [&] {                    \
      checkFlags(flags, balancer, window);                                     \
      View qv = viewOf(rq, q, EB, "query"), kv = viewOf(rk, k, EB, "key");     \
      Dims dqs = dimsOf(qv, "query"), dks = dimsOf(kv, "key");                 \
      cprt_mask m =                                                            \
          documentMask(viewOf(rs, s, 4, "document ids"), seq_len, dqs.L);      \
      return cprt_ring_attention_bwd(                                          \
          DT, dqs.B, dqs.H, dks.H, dqs.L, dqs.D,                               \
          viewOf(rdo, dout, EB, "grad_output").data, qv.data, kv.data,         \
          viewOf(rv, v, EB, "value").data, viewOf(ro, o, EB, "output").data,   \
          reinterpret_cast<const float *>(viewOf(rl, l, 4, "lse").data),       \
          viewOf(rdq, dq, EB, "grad_query").data,                              \
          viewOf(rdk, dk, EB, "grad_key").data,                                \
          viewOf(rdv, dv, EB, "grad_value").data, float(scale),                \
          flags & CPRT_C_CAUSAL, cprt_rotate(rotate),                          \
          CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seq_len, &m);                   \
    });                                                                        \
  }

CPRT_C_RING_DOCS_DEFS(f32, 4, CPRT_F32)
CPRT_C_RING_DOCS_DEFS(bf16, 2, CPRT_BF16)
CPRT_C_RING_DOCS_DEFS(f16, 2, CPRT_F16)

} // extern "C"
