//===- DocumentsCApi.cpp - per-document ring entries for compiled code ----===//
//
// cprt_c_ring_docs_{fwd,bwd}_<T> (cprt_compiler.h): ring attention with
// per_document_head_tail balancing, whose layout the runtime computes from
// the document ids at run time. Same parameters as cprt_c_ring_*, but the
// segment-id buffer holds the ids of the whole sequence ([seq_len] i32, in
// original order), not this rank's shard: the layout cannot be undone
// without them. The local length of q/k/v must be the layout's (every rank
// padded to the most loaded one); a mismatch is an error naming both.
// Entries go through the compiled-code ABI's sticky guard and views
// (CompilerAbiSupport.h); the dtype names are stamped out at the bottom.
// The checks (DocumentsAbi.h) are defined here and shared with the GPU
// twins cprt_gpu_ring_docs_* (runtime/src/cuda/GpuCompiledAbi.cpp).
//
//===----------------------------------------------------------------------===//

#include "CompilerAbiSupport.h"
#include "DocumentsAbi.h"

#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <string>

using namespace cprt;
using namespace cprt::abi;

namespace {

/// [B..., H, L, D] of an attention operand.
struct Dims {
  int64_t B = 1, H = 1, L = 1, D = 1;
};

Dims dimsOf(const Buffer &v, const char *what) {
  size_t n = v.shape.size();
  check(n >= 2, std::string(what) + ": expected rank >= 2");
  Dims d;
  d.D = v.shape[n - 1];
  d.L = v.shape[n - 2];
  if (n >= 3)
    d.H = v.shape[n - 3];
  for (size_t i = 0; i + 3 < n; ++i)
    d.B *= v.shape[i];
  return d;
}

/// The whole sequence's ids in `docs` (host memory) as the runtime's mask,
/// checked against the local length `L` compiled in.
cprt_mask wholeDocumentMask(const Buffer &docs, int64_t seqLen, int64_t L) {
  checkDocumentIdsShape(docs.shape.size(),
                        docs.shape.empty() ? 0 : docs.shape[0], seqLen);
  return abi::documentMask(reinterpret_cast<const int32_t *>(docs.data), seqLen,
                           L);
}

template <cprt_dtype DT>
void ringDocsForward(MR rq, CM q, MR rk, CM k, MR rv, CM v, MR, CM, MR rs, CM s,
                     MR ro, CM o, MR rl, CM l, double scale, int32_t flags,
                     int32_t rotate, int32_t balancer, int64_t seqLen,
                     int64_t window) {
  sticky("ring_attention (per-document)", [&] {
    checkDocumentFlags(flags, balancer, window);
    const int64_t eb = dtypeBytes(DT);
    Buffer qv = view(rq, q, eb, "query"), kv = view(rk, k, eb, "key");
    Dims dq = dimsOf(qv, "query"), dk = dimsOf(kv, "key");
    cprt_mask m =
        wholeDocumentMask(view(rs, s, 4, "document ids"), seqLen, dq.L);
    float *lse = (flags & CPRT_C_HAS_LSE)
                     ? reinterpret_cast<float *>(view(rl, l, 4, "lse").data)
                     : nullptr;
    return cprt_ring_attention_fwd(
        DT, dq.B, dq.H, dk.H, dq.L, dq.D, qv.data, kv.data,
        view(rv, v, eb, "value").data, view(ro, o, eb, "output").data, lse,
        float(scale), flags & CPRT_C_CAUSAL, cprt_rotate(rotate),
        CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, &m);
  });
}

template <cprt_dtype DT>
void ringDocsBackward(MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v,
                      MR ro, CM o, MR rl, CM l, MR, CM, MR rs, CM s, MR rdq,
                      CM dq, MR rdk, CM dk, MR rdv, CM dv, double scale,
                      int32_t flags, int32_t rotate, int32_t balancer,
                      int64_t seqLen, int64_t window) {
  sticky("ring_attention_backward (per-document)", [&] {
    checkDocumentFlags(flags, balancer, window);
    const int64_t eb = dtypeBytes(DT);
    Buffer qv = view(rq, q, eb, "query"), kv = view(rk, k, eb, "key");
    Dims dqs = dimsOf(qv, "query"), dks = dimsOf(kv, "key");
    cprt_mask m =
        wholeDocumentMask(view(rs, s, 4, "document ids"), seqLen, dqs.L);
    return cprt_ring_attention_bwd(
        DT, dqs.B, dqs.H, dks.H, dqs.L, dqs.D,
        view(rdo, dout, eb, "grad_output").data, qv.data, kv.data,
        view(rv, v, eb, "value").data, view(ro, o, eb, "output").data,
        reinterpret_cast<const float *>(view(rl, l, 4, "lse").data),
        view(rdq, dq, eb, "grad_query").data,
        view(rdk, dk, eb, "grad_key").data,
        view(rdv, dv, eb, "grad_value").data, float(scale),
        flags & CPRT_C_CAUSAL, cprt_rotate(rotate),
        CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, &m);
  });
}

} // namespace

namespace cprt::abi {

void checkDocumentFlags(int32_t flags, int32_t balancer, int64_t window) {
  check(balancer == CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL,
        "per-document ring: balancer " + std::to_string(balancer) +
            " is not per_document_head_tail");
  check(flags & CPRT_C_HAS_SEGMENTS,
        "per-document ring: document ids are required");
  check(!(flags & CPRT_C_HAS_MASK) && window <= 0,
        "per-document ring: explicit masks and windows are not supported");
}

void checkDocumentIdsShape(size_t rank, int64_t len0, int64_t seqLen) {
  check(rank == 1 && len0 == seqLen,
        "per-document ring: expected the document ids of the whole "
        "sequence ([" +
            std::to_string(seqLen) + "])");
}

cprt_mask documentMask(const int32_t *ids, int64_t seqLen, int64_t localLen) {
  int64_t layoutLen = 0;
  cprt_status s = cprt_layout(CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, ids,
                              &layoutLen, nullptr);
  check(s == CPRT_OK, std::string("per-document layout: ") + cprt_last_error());
  check(layoutLen == localLen,
        "per-document ring: the code was compiled for " +
            std::to_string(localLen) +
            " local tokens per rank, but the layout of these document ids "
            "has " +
            std::to_string(layoutLen));
  cprt_mask m{};
  m.doc_ids = ids;
  m.doc_len = seqLen;
  return m;
}

} // namespace cprt::abi

extern "C" {

CPRT_C_ENTRIES_ATTENTION(void, cprt_c_ring_docs_fwd, ringDocsForward,
                         (MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m,
                          MR rs, CM s, MR ro, CM o, MR rl, CM l, double scale,
                          int32_t flags, int32_t rotate, int32_t balancer,
                          int64_t seq_len, int64_t window),
                         (rq, q, rk, k, rv, v, rm, m, rs, s, ro, o, rl, l,
                          scale, flags, rotate, balancer, seq_len, window))

CPRT_C_ENTRIES_ATTENTION(void, cprt_c_ring_docs_bwd, ringDocsBackward,
                         (MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv,
                          CM v, MR ro, CM o, MR rl, CM l, MR rm, CM m, MR rs,
                          CM s, MR rdq, CM dq, MR rdk, CM dk, MR rdv, CM dv,
                          double scale, int32_t flags, int32_t rotate,
                          int32_t balancer, int64_t seq_len, int64_t window),
                         (rdo, dout, rq, q, rk, k, rv, v, ro, o, rl, l, rm, m,
                          rs, s, rdq, dq, rdk, dk, rdv, dv, scale, flags,
                          rotate, balancer, seq_len, window))

} // extern "C"
