//===- AttentionAbi.cpp - attention entry points for compiled code --------===//
//
// cprt_c_{sdpa,ring,block}_{fwd,bwd}_{f32,bf16,f16} (cprt_compiler.h). Each
// entry point is a template over the element type that views its memrefs
// into an AttentionCall (the arguments by role) inside the sticky guard and
// hands it to runSdpa, runRing or runBlock, which derive (B, H, S, D), build
// the cprt_mask and call the C ABI of cprt.h. The three dtype names of each
// entry are stamped out at the bottom by CPRT_C_ENTRIES_ATTENTION.
//
//===----------------------------------------------------------------------===//
#include "CompilerAbiSupport.h"

#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace cprt;
using namespace cprt::abi;

namespace cprt::abi {
/// The registered device offload of cprt_c_sdpa_fwd_* (CompilerAbi.cpp).
cprt_c_sdpa_offload_fn sdpaOffload();
void *sdpaOffloadUser();
} // namespace cprt::abi

namespace {

/// The arguments of one attention entry point by role; a role the entry
/// (or its flags) does not have is an empty Buffer.
struct AttentionCall {
  cprt_dtype dtype = CPRT_F32;
  bool backward = false;
  Buffer q, k, v;
  /// Forward: the results. Backward: the forward's results (inputs). Block
  /// forward: fp32 partials.
  Buffer out, lse;
  /// Backward: the output gradient (input) and the gradients (results; fp32
  /// accumulators for the block backward).
  Buffer dout, dq, dk, dv;
  Buffer mask;        ///< f32 additive (CPRT_C_HAS_MASK)
  Buffer segments;    ///< ring: this rank's i32 segment ids
  Buffer qPos, kvPos; ///< block: i64 positions (CPRT_C_HAS_POSITIONS)
  Buffer qSeg, kvSeg; ///< block: i32 segment ids (CPRT_C_HAS_SEGMENTS)
  double scale = 0;
  int32_t flags = 0;
  int32_t step = 0;                   ///< block: cprt_step_causal
  int32_t rotate = 0, balancer = 0;   ///< ring: cprt_rotate, cprt_balancer
  int64_t seqLen = 0;                 ///< ring: the global sequence length
  int64_t window = 0;                 ///< ring, block: left window (0: none)

  bool has(int32_t flag) const { return (flags & flag) != 0; }
};

/// A call of element type DT: dtype, scale and flags set.
AttentionCall newCall(cprt_dtype dt, bool backward, double scale,
                      int32_t flags) {
  AttentionCall c;
  c.dtype = dt;
  c.backward = backward;
  c.scale = scale;
  c.flags = flags;
  return c;
}

/// view() if `present`, else an empty Buffer (an argument the flags leave
/// out may be a null descriptor).
Buffer viewIf(bool present, MR rank, CM d, int64_t elemBytes,
              const char *what) {
  return present ? view(rank, d, elemBytes, what) : Buffer();
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
  if (t.shape.size() >= 3)
    d.H = t.dim(3);
  for (size_t i = 0; i + 3 < t.shape.size(); ++i)
    d.B *= t.shape[i];
  return d;
}

/// Additive f32 mask [mb?, mh?, rows, cols] as the runtime's strided mask.
void setMask(cprt_mask &m, const Buffer &mask, const Dims &q) {
  int64_t rank = int64_t(mask.shape.size());
  check(rank >= 2, "mask: expected rank >= 2");
  int64_t rows = mask.dim(2), cols = mask.dim(1);
  int64_t mh = rank >= 3 ? mask.dim(3) : 1, mb = 1;
  for (int64_t i = 0; i + 3 < rank; ++i)
    mb *= mask.shape[i];
  check((mh == 1 || mh == q.H) && (mb == 1 || mb == q.B),
        "mask: batch/head dims must be 1 or match the query");
  m.add_mask = reinterpret_cast<const float *>(mask.data);
  m.row_stride = cols;
  m.h_stride = mh == 1 ? 0 : rows * cols;
  m.b_stride = mb == 1 ? 0 : mh * rows * cols;
}

/// The cprt_mask of a call and the storage it points into.
struct CallMask {
  cprt_mask m{};
  bool used = false;
  std::vector<int64_t> qPos, kvPos;
  std::vector<int32_t> docs;
  std::vector<float> full;
  CallMask() = default;
  CallMask(const CallMask &) = delete;
  CallMask &operator=(const CallMask &) = delete;
  const cprt_mask *get() const { return used ? &m : nullptr; }
};

template <typename T> T *as(const Buffer &b) {
  return reinterpret_cast<T *>(b.data);
}

//===----------------------------------------------------------------------===//
// Whole-sequence attention (cp.sdpa, cp.sdpa_backward)
//===----------------------------------------------------------------------===//

cprt_status runSdpa(const AttentionCall &c) {
  Dims dq = attnDims(c.q, "query"), dk = attnDims(c.k, "key");
  CallMask mask;
  if (c.has(CPRT_C_HAS_MASK)) {
    setMask(mask.m, c.mask, dq);
    mask.used = true;
  }
  const int32_t causal = c.flags & CPRT_C_CAUSAL;
  if (c.backward)
    return cprt_sdpa_bwd(c.dtype, dq.B, dq.H, dk.H, dq.S, dk.S, dq.D,
                         c.dout.data, c.q.data, c.k.data, c.v.data, c.out.data,
                         as<const float>(c.lse), c.dq.data, c.dk.data,
                         c.dv.data, float(c.scale), causal, mask.get());
  float *lse = c.has(CPRT_C_HAS_LSE) ? as<float>(c.lse) : nullptr;
  if (sdpaOffload() && !c.has(CPRT_C_HAS_MASK)) {
    cprt_status st = sdpaOffload()(c.dtype, dq.B, dq.H, dk.H, dq.S, dk.S,
                                   dq.D, c.q.data, c.k.data, c.v.data,
                                   c.out.data, lse, float(c.scale), causal,
                                   sdpaOffloadUser());
    check(st == CPRT_OK, "offloaded attention failed");
    return st;
  }
  return cprt_sdpa_fwd(c.dtype, dq.B, dq.H, dk.H, dq.S, dk.S, dq.D, c.q.data,
                       c.k.data, c.v.data, c.out.data, lse, float(c.scale),
                       causal, mask.get());
}

template <cprt_dtype DT>
void sdpaForward(MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR ro,
                 CM o, MR rl, CM l, double scale, int32_t flags) {
  sticky("sdpa", [&] {
    AttentionCall c = newCall(DT, false, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, eb, "output");
    c.mask = viewIf(c.has(CPRT_C_HAS_MASK), rm, m, 4, "mask");
    c.lse = viewIf(c.has(CPRT_C_HAS_LSE), rl, l, 4, "lse");
    return runSdpa(c);
  });
}

template <cprt_dtype DT>
void sdpaBackward(MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v,
                  MR ro, CM o, MR rl, CM l, MR rm, CM m, MR rdq, CM dq,
                  MR rdk, CM dk, MR rdv, CM dv, double scale, int32_t flags) {
  sticky("sdpa_backward", [&] {
    AttentionCall c = newCall(DT, true, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.mask = viewIf(c.has(CPRT_C_HAS_MASK), rm, m, 4, "mask");
    c.dout = view(rdo, dout, eb, "grad_output");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, eb, "output");
    c.lse = view(rl, l, 4, "lse");
    c.dq = view(rdq, dq, eb, "grad_query");
    c.dk = view(rdk, dk, eb, "grad_key");
    c.dv = view(rdv, dv, eb, "grad_value");
    return runSdpa(c);
  });
}

//===----------------------------------------------------------------------===//
// Ring attention on this rank's shards (cp.ring_attention(_backward))
//===----------------------------------------------------------------------===//

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
/// rank's rows into a [.., S, S] buffer (kept in `full`).
void ringMask(cprt_mask &m, std::vector<float> &full, const Buffer &mask,
              const Dims &q, int32_t balancer, int64_t seqLen) {
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
  full.assign(size_t(planes * seqLen * seqLen), 0.0f);
  const float *src = as<const float>(mask);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < L; ++i) {
      if (pos[i] < 0)
        continue;
      const float *row =
          src + (p * mask.dim(2) + (rowBroadcast ? 0 : i)) * cols;
      std::copy(row, row + cols, full.data() + (p * seqLen + pos[i]) * seqLen);
    }
  Buffer fb;
  fb.data = reinterpret_cast<char *>(full.data());
  fb.shape = mask.shape;
  fb.shape[rank - 2] = seqLen;
  setMask(m, fb, q);
}

cprt_status runRing(const AttentionCall &c) {
  Dims dq = attnDims(c.q, "query"), dk = attnDims(c.k, "key");
  CallMask mask;
  if (c.has(CPRT_C_HAS_SEGMENTS)) {
    mask.docs = globalDocs(c.segments, c.balancer, c.seqLen);
    mask.m.doc_ids = mask.docs.data();
    mask.m.doc_len = c.seqLen;
  }
  if (c.has(CPRT_C_HAS_MASK))
    ringMask(mask.m, mask.full, c.mask, dq, c.balancer, c.seqLen);
  mask.m.window_left = c.window;
  mask.used = c.has(CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_MASK) || c.window > 0;
  const bool causal = c.has(CPRT_C_CAUSAL);
  const cprt_rotate rotate = c.rotate;
  const cprt_balancer balancer = c.balancer;
  if (c.backward)
    return cprt_ring_attention_bwd(
        c.dtype, dq.B, dq.H, dk.H, dq.S, dq.D, c.dout.data, c.q.data,
        c.k.data, c.v.data, c.out.data, as<const float>(c.lse), c.dq.data,
        c.dk.data, c.dv.data, float(c.scale), causal, rotate, balancer,
        c.seqLen, mask.get());
  float *lse = c.has(CPRT_C_HAS_LSE) ? as<float>(c.lse) : nullptr;
  return cprt_ring_attention_fwd(c.dtype, dq.B, dq.H, dk.H, dq.S, dq.D,
                                 c.q.data, c.k.data, c.v.data, c.out.data, lse,
                                 float(c.scale), causal, rotate, balancer,
                                 c.seqLen, mask.get());
}

/// The ring settings of a call.
void setRing(AttentionCall &c, int32_t rotate, int32_t balancer,
             int64_t seqLen, int64_t window) {
  c.rotate = rotate;
  c.balancer = balancer;
  c.seqLen = seqLen;
  c.window = window;
}

template <cprt_dtype DT>
void ringForward(MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR rs,
                 CM s, MR ro, CM o, MR rl, CM l, double scale, int32_t flags,
                 int32_t rotate, int32_t balancer, int64_t seqLen,
                 int64_t window) {
  sticky("ring_attention", [&] {
    AttentionCall c = newCall(DT, false, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, eb, "output");
    c.mask = viewIf(c.has(CPRT_C_HAS_MASK), rm, m, 4, "mask");
    c.segments = viewIf(c.has(CPRT_C_HAS_SEGMENTS), rs, s, 4, "segment ids");
    c.lse = viewIf(c.has(CPRT_C_HAS_LSE), rl, l, 4, "lse");
    setRing(c, rotate, balancer, seqLen, window);
    return runRing(c);
  });
}

template <cprt_dtype DT>
void ringBackward(MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v,
                  MR ro, CM o, MR rl, CM l, MR rm, CM m, MR rs, CM s, MR rdq,
                  CM dq, MR rdk, CM dk, MR rdv, CM dv, double scale,
                  int32_t flags, int32_t rotate, int32_t balancer,
                  int64_t seqLen, int64_t window) {
  sticky("ring_attention_backward", [&] {
    AttentionCall c = newCall(DT, true, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.dout = view(rdo, dout, eb, "grad_output");
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, eb, "output");
    c.lse = view(rl, l, 4, "lse");
    c.dq = view(rdq, dq, eb, "grad_query");
    c.dk = view(rdk, dk, eb, "grad_key");
    c.dv = view(rdv, dv, eb, "grad_value");
    c.mask = viewIf(c.has(CPRT_C_HAS_MASK), rm, m, 4, "mask");
    c.segments = viewIf(c.has(CPRT_C_HAS_SEGMENTS), rs, s, 4, "segment ids");
    setRing(c, rotate, balancer, seqLen, window);
    return runRing(c);
  });
}

//===----------------------------------------------------------------------===//
// One block of a ring step (cp.block_attention(_backward))
//===----------------------------------------------------------------------===//

/// Segment ids (and positions) of a block as the runtime's position-indexed
/// document ids: queries at synthetic positions 0..Sq-1, keys at Sq..;
/// padded tokens (position < 0) get unique negative documents.
void blockDocs(CallMask &mask, const AttentionCall &c, const Dims &dq,
               const Dims &dk) {
  check(c.window <= 0, "a window together with document ids in one block "
                       "is not supported yet");
  const int32_t *qs = as<const int32_t>(c.qSeg);
  const int32_t *ks = as<const int32_t>(c.kvSeg);
  const bool positions = c.has(CPRT_C_HAS_POSITIONS);
  const int64_t *qp = positions ? as<const int64_t>(c.qPos) : nullptr;
  const int64_t *kp = positions ? as<const int64_t>(c.kvPos) : nullptr;
  mask.docs.resize(size_t(dq.S + dk.S));
  mask.qPos.resize(size_t(dq.S));
  mask.kvPos.resize(size_t(dk.S));
  for (int64_t i = 0; i < dq.S; ++i) {
    mask.qPos[i] = i;
    mask.docs[i] = (qp && qp[i] < 0) ? int32_t(-1 - i) : qs[i];
  }
  for (int64_t j = 0; j < dk.S; ++j) {
    mask.kvPos[j] = dq.S + j;
    mask.docs[dq.S + j] = (kp && kp[j] < 0) ? int32_t(-1 - dq.S - j) : ks[j];
  }
  mask.m.q_pos = mask.qPos.data();
  mask.m.kv_pos = mask.kvPos.data();
  mask.m.doc_ids = mask.docs.data();
  mask.m.doc_len = dq.S + dk.S;
  check(!c.has(CPRT_C_HAS_MASK),
        "an explicit mask together with document ids in one block is not "
        "supported yet");
}

/// The block's mask: explicit, by documents, or by positions and window.
void blockMask(CallMask &mask, const AttentionCall &c, const Dims &dq,
               const Dims &dk) {
  if (c.has(CPRT_C_HAS_MASK))
    setMask(mask.m, c.mask, dq);
  if (c.has(CPRT_C_HAS_SEGMENTS)) {
    blockDocs(mask, c, dq, dk);
  } else if (c.has(CPRT_C_HAS_POSITIONS)) {
    mask.m.q_pos = as<const int64_t>(c.qPos);
    mask.m.kv_pos = as<const int64_t>(c.kvPos);
    mask.m.window_left = c.window;
    if (c.window > 0)
      mask.m.causal = 1;
  }
  mask.used =
      c.has(CPRT_C_HAS_MASK | CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_POSITIONS);
}

cprt_status runBlock(const AttentionCall &c) {
  Dims dq = attnDims(c.q, "query"), dk = attnDims(c.k, "key");
  CallMask mask;
  blockMask(mask, c, dq, dk);
  const cprt_step_causal step = c.step;
  if (!c.backward)
    return cprt_block_attention_fwd(c.dtype, dq.B, dq.H, dk.H, dq.S, dk.S,
                                    dq.D, c.q.data, c.k.data, c.v.data,
                                    as<float>(c.out), as<float>(c.lse),
                                    float(c.scale), step, mask.get());
  // Contributions are accumulated: start from zero.
  for (const Buffer *g : {&c.dq, &c.dk, &c.dv})
    std::memset(g->data, 0, size_t(g->numel()) * 4);
  return cprt_block_attention_bwd(
      c.dtype, dq.B, dq.H, dk.H, dq.S, dk.S, dq.D, c.dout.data, c.q.data,
      c.k.data, c.v.data, c.out.data, as<const float>(c.lse), as<float>(c.dq),
      as<float>(c.dk), as<float>(c.dv), float(c.scale), step, mask.get());
}

/// The optional inputs of a block: mask, positions, segment ids.
void viewBlockMasks(AttentionCall &c, MR rm, CM m, MR rqp, CM qp, MR rkp,
                    CM kp, MR rqs, CM qs, MR rks, CM ks) {
  const bool pos = c.has(CPRT_C_HAS_POSITIONS);
  const bool seg = c.has(CPRT_C_HAS_SEGMENTS);
  c.mask = viewIf(c.has(CPRT_C_HAS_MASK), rm, m, 4, "mask");
  c.qPos = viewIf(pos, rqp, qp, 8, "q_positions");
  c.kvPos = viewIf(pos, rkp, kp, 8, "kv_positions");
  c.qSeg = viewIf(seg, rqs, qs, 4, "q_segment_ids");
  c.kvSeg = viewIf(seg, rks, ks, 4, "kv_segment_ids");
}

template <cprt_dtype DT>
void blockForward(MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR rqp,
                  CM qp, MR rkp, CM kp, MR rqs, CM qs, MR rks, CM ks, MR ro,
                  CM o, MR rl, CM l, double scale, int32_t flags, int32_t step,
                  int64_t window) {
  sticky("block_attention", [&] {
    AttentionCall c = newCall(DT, false, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, 4, "output");
    c.lse = view(rl, l, 4, "lse");
    viewBlockMasks(c, rm, m, rqp, qp, rkp, kp, rqs, qs, rks, ks);
    c.step = step;
    c.window = window;
    return runBlock(c);
  });
}

template <cprt_dtype DT>
void blockBackward(MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v,
                   MR ro, CM o, MR rl, CM l, MR rm, CM m, MR rqp, CM qp,
                   MR rkp, CM kp, MR rqs, CM qs, MR rks, CM ks, MR rdq, CM dq,
                   MR rdk, CM dk, MR rdv, CM dv, double scale, int32_t flags,
                   int32_t step, int64_t window) {
  sticky("block_attention_backward", [&] {
    AttentionCall c = newCall(DT, true, scale, flags);
    const int64_t eb = dtypeBytes(DT);
    c.dout = view(rdo, dout, eb, "grad_output");
    c.q = view(rq, q, eb, "query");
    c.k = view(rk, k, eb, "key");
    c.v = view(rv, v, eb, "value");
    c.out = view(ro, o, eb, "output");
    c.lse = view(rl, l, 4, "lse");
    c.dq = view(rdq, dq, 4, "grad_query");
    c.dk = view(rdk, dk, 4, "grad_key");
    c.dv = view(rdv, dv, 4, "grad_value");
    viewBlockMasks(c, rm, m, rqp, qp, rkp, kp, rqs, qs, rks, ks);
    c.step = step;
    c.window = window;
    return runBlock(c);
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// The entry points: _f32, _bf16 and _f16 of each, forwarding unchanged.
//===----------------------------------------------------------------------===//

extern "C" {

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_sdpa_fwd, sdpaForward,
    (MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR ro, CM o, MR rl,
     CM l, double scale, int32_t flags),
    (rq, q, rk, k, rv, v, rm, m, ro, o, rl, l, scale, flags))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_sdpa_bwd, sdpaBackward,
    (MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o,
     MR rl, CM l, MR rm, CM m, MR rdq, CM dq, MR rdk, CM dk, MR rdv, CM dv,
     double scale, int32_t flags),
    (rdo, dout, rq, q, rk, k, rv, v, ro, o, rl, l, rm, m, rdq, dq, rdk, dk,
     rdv, dv, scale, flags))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_ring_fwd, ringForward,
    (MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR rs, CM s, MR ro,
     CM o, MR rl, CM l, double scale, int32_t flags, int32_t rotate,
     int32_t balancer, int64_t seq_len, int64_t window),
    (rq, q, rk, k, rv, v, rm, m, rs, s, ro, o, rl, l, scale, flags, rotate,
     balancer, seq_len, window))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_ring_bwd, ringBackward,
    (MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o,
     MR rl, CM l, MR rm, CM m, MR rs, CM s, MR rdq, CM dq, MR rdk, CM dk,
     MR rdv, CM dv, double scale, int32_t flags, int32_t rotate,
     int32_t balancer, int64_t seq_len, int64_t window),
    (rdo, dout, rq, q, rk, k, rv, v, ro, o, rl, l, rm, m, rs, s, rdq, dq, rdk,
     dk, rdv, dv, scale, flags, rotate, balancer, seq_len, window))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_block_fwd, blockForward,
    (MR rq, CM q, MR rk, CM k, MR rv, CM v, MR rm, CM m, MR rqp, CM qp,
     MR rkp, CM kp, MR rqs, CM qs, MR rks, CM ks, MR ro, CM o, MR rl, CM l,
     double scale, int32_t flags, int32_t step, int64_t window),
    (rq, q, rk, k, rv, v, rm, m, rqp, qp, rkp, kp, rqs, qs, rks, ks, ro, o, rl,
     l, scale, flags, step, window))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_block_bwd, blockBackward,
    (MR rdo, CM dout, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o,
     MR rl, CM l, MR rm, CM m, MR rqp, CM qp, MR rkp, CM kp, MR rqs, CM qs,
     MR rks, CM ks, MR rdq, CM dq, MR rdk, CM dk, MR rdv, CM dv, double scale,
     int32_t flags, int32_t step, int64_t window),
    (rdo, dout, rq, q, rk, k, rv, v, ro, o, rl, l, rm, m, rqp, qp, rkp, kp,
     rqs, qs, rks, ks, rdq, dq, rdk, dk, rdv, dv, scale, flags, step, window))

} // extern "C"
