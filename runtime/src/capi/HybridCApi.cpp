//===- HybridCApi.cpp - hybrid (Ulysses x ring) entry points --------------===//
//
// cprt_c_hybrid_{fwd,bwd}_<T> (cprt_compiler.h): the local shards of compiled
// code (the balancer's N-rank layout, as for cprt_c_ring_*) through
// hybridAttentionForward / Backward on the grid communicators of this rank's
// context (split once per Ulysses size and kept in RankContext::grids).
// Both go through the sticky guard of the compiled-code ABI
// (CompilerAbiSupport.h); the dtype names are stamped out at the bottom.
// The bodies (HybridAbi.h) take the rank context's backend as memory, so the
// GPU twins cprt_gpu_hybrid_* (GpuCompiledAbi.cpp) run them on device
// buffers under the GPU path's guard.
//
//===----------------------------------------------------------------------===//
#include "AbiEnums.h"
#include "CompilerAbiSupport.h"
#include "HybridAbi.h"

#include "cprt/cprt_compiler.h"
#include "cprt/Context.h"
#include "cprt/Error.h"
#include "cprt/Hybrid.h"

#include <string>
#include <vector>

using namespace cprt;
using namespace cprt::abi;

namespace {

/// A contiguous tensor [batch..., H, S, D] seen as (B, H, S, D).
struct Tensor {
  char *data = nullptr;
  int64_t B = 1, H = 1, S = 1, D = 1;
};

/// Views an unranked memref of rank >= 3; `what` names it in the errors.
Tensor tensorOf(int64_t rank, const cprt_memref *d, int64_t elemBytes,
                const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  check(rank >= 3, std::string(what) + ": expected rank >= 3 ([..., H, S, D])");
  Buffer b = view(rank, d, elemBytes, what);
  Tensor t;
  t.data = b.data;
  t.D = b.dim(1);
  t.S = b.dim(2);
  t.H = b.dim(3);
  for (int64_t i = 0; i + 3 < rank; ++i)
    t.B *= b.shape[i];
  return t;
}

/// Checks that `a` (the `what`) has the shape of `b`.
void checkLike(const Tensor &a, const Tensor &b, const char *what) {
  check(a.B == b.B && a.H == b.H && a.S == b.S && a.D == b.D,
        std::string("hybrid attention: the ") + what +
            " does not have the shape of its operand");
}

/// The scalar arguments of both entry points.
struct HybridSettings {
  double scale;
  int32_t flags, rotate, balancer;
  int64_t seqLen, window, ulyssesSize, ringSize;
};

/// What both entry points derive from their arguments: the rank's context
/// and grid, the layout, the ring options and the attention shape.
struct HybridCall {
  RankContext *ctx;
  GridComms *grid;
  HybridLayout layout;
  RingOptions opts;
  AttentionShape shape;
};

/// Shared checks of both entry points; splits (once) and returns the grid
/// of this rank.
HybridCall prepare(const Tensor &q, const Tensor &k, const HybridSettings &s) {
  check(!(s.flags & (CPRT_C_HAS_MASK | CPRT_C_HAS_SEGMENTS)),
        "hybrid attention: explicit masks and segment ids are not supported "
        "yet");
  check(s.balancer >= 0 && s.balancer <= 2,
        "hybrid attention: balancer " + std::to_string(s.balancer) +
            " is not supported (expected none, head_tail or striped)");
  check(s.rotate >= 0 && s.rotate <= 2,
        "hybrid attention: unknown rotate method " + std::to_string(s.rotate));
  const int64_t U = s.ulyssesSize, R = s.ringSize;
  HybridCall c;
  c.ctx = &requireContext();
  const int N = c.ctx->comm->size();
  check(U > 0 && R > 0 && U * R == N,
        "hybrid attention: a " + std::to_string(U) + " x " + std::to_string(R) +
            " grid does not match the " + std::to_string(N) + " ranks");
  check(q.B == k.B && q.S == k.S && q.D == k.D,
        "hybrid attention: query and key/value shapes disagree");
  auto it = c.ctx->grids.find(int(U));
  if (it == c.ctx->grids.end())
    it = c.ctx->grids.emplace(int(U), makeGridComms(*c.ctx->comm, int(U))).first;
  c.grid = &it->second;
  c.layout = makeHybridLayout(Balancer(s.balancer), s.seqLen, int(U), int(R));
  check(q.S == c.layout.world.localLen,
        "hybrid attention: the local sequence has " + std::to_string(q.S) +
            " slots, the balancer's layout " +
            std::to_string(c.layout.world.localLen));
  c.opts.rotate = RotateMethod(s.rotate);
  c.opts.causal = (s.flags & CPRT_C_CAUSAL) != 0 || s.window > 0;
  c.opts.scale = float(s.scale);
  c.opts.mask.windowLeft = s.window;
  c.shape = {q.B, q.H, k.H, q.S, q.S, q.D};
  return c;
}

/// The data of an fp32 memref (null checked, offset applied).
float *f32Data(const cprt_memref *d, const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  return reinterpret_cast<float *>(static_cast<char *>(d->aligned) +
                                   d->offset * 4);
}

} // namespace

void cprt::abi::hybridForwardBody(cprt_dtype DT, MR rq, CM q, MR rk, CM k,
                                  MR rv, CM v, MR ro, CM o, MR rl, CM l,
                                  double scale, int32_t flags, int32_t rotate,
                                  int32_t balancer, int64_t seqLen,
                                  int64_t window, int64_t ulyssesSize,
                                  int64_t ringSize) {
  const int64_t eb = dtypeBytes(DT);
  Tensor qt = tensorOf(rq, q, eb, "query"), kt = tensorOf(rk, k, eb, "key"),
         vt = tensorOf(rv, v, eb, "value"), ot = tensorOf(ro, o, eb, "output");
  HybridCall c = prepare(qt, kt, {scale, flags, rotate, balancer, seqLen,
                                  window, ulyssesSize, ringSize});
  KernelBackend &mem = *c.ctx->backend; // host or device memory
  BackendBuffer scratch; // the LSE nobody asked for, in the backend's memory
  float *lse = nullptr;
  if (flags & CPRT_C_HAS_LSE) {
    lse = f32Data(l, "lse");
  } else {
    scratch = BackendBuffer(mem, size_t(qt.B * qt.H * qt.S) * 4);
    lse = scratch.f32();
  }
  checkLike(vt, kt, "value");
  checkLike(ot, qt, "output");
  hybridAttentionForward(*c.grid, mem, c.layout, c.opts, c.shape, DType(DT),
                         qt.data, kt.data, vt.data, ot.data, lse);
}

void cprt::abi::hybridBackwardBody(
    cprt_dtype DT, MR rg, CM g, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro,
    CM o, MR rl, CM l, MR rdq, CM dq, MR rdk, CM dk, MR rdv, CM dv,
    double scale, int32_t flags, int32_t rotate, int32_t balancer,
    int64_t seqLen, int64_t window, int64_t ulyssesSize, int64_t ringSize) {
  const int64_t eb = dtypeBytes(DT);
  Tensor gt = tensorOf(rg, g, eb, "output gradient"),
         qt = tensorOf(rq, q, eb, "query"), kt = tensorOf(rk, k, eb, "key"),
         vt = tensorOf(rv, v, eb, "value"), ot = tensorOf(ro, o, eb, "output"),
         dqt = tensorOf(rdq, dq, eb, "query gradient"),
         dkt = tensorOf(rdk, dk, eb, "key gradient"),
         dvt = tensorOf(rdv, dv, eb, "value gradient");
  check(l != nullptr && rl >= 2, "hybrid backward: lse must be [.., H, S]");
  const float *lse = f32Data(l, "lse");
  HybridCall c = prepare(qt, kt, {scale, flags, rotate, balancer, seqLen,
                                  window, ulyssesSize, ringSize});
  checkLike(vt, kt, "value");
  checkLike(gt, qt, "output gradient");
  checkLike(ot, qt, "output");
  checkLike(dqt, qt, "query gradient");
  checkLike(dkt, kt, "key gradient");
  checkLike(dvt, kt, "value gradient");
  hybridAttentionBackward(*c.grid, *c.ctx->backend, c.layout, c.opts, c.shape,
                          DType(DT), gt.data, qt.data, kt.data, vt.data,
                          ot.data, lse, dqt.data, dkt.data, dvt.data);
}

namespace {

/// The CPU entries: the bodies under the sticky guard.
template <cprt_dtype DT>
void hybridForward(MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o, MR rl,
                   CM l, double scale, int32_t flags, int32_t rotate,
                   int32_t balancer, int64_t seqLen, int64_t window,
                   int64_t ulyssesSize, int64_t ringSize) {
  sticky("hybrid_attention", [&] {
    hybridForwardBody(DT, rq, q, rk, k, rv, v, ro, o, rl, l, scale, flags,
                      rotate, balancer, seqLen, window, ulyssesSize, ringSize);
  });
}

template <cprt_dtype DT>
void hybridBackward(MR rg, CM g, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro,
                    CM o, MR rl, CM l, MR rdq, CM dq, MR rdk, CM dk, MR rdv,
                    CM dv, double scale, int32_t flags, int32_t rotate,
                    int32_t balancer, int64_t seqLen, int64_t window,
                    int64_t ulyssesSize, int64_t ringSize) {
  sticky("hybrid_attention_backward", [&] {
    hybridBackwardBody(DT, rg, g, rq, q, rk, k, rv, v, ro, o, rl, l, rdq, dq,
                       rdk, dk, rdv, dv, scale, flags, rotate, balancer,
                       seqLen, window, ulyssesSize, ringSize);
  });
}

} // namespace

extern "C" {

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_hybrid_fwd, hybridForward,
    (MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o, MR rl, CM l,
     double scale, int32_t flags, int32_t rotate, int32_t balancer,
     int64_t seq_len, int64_t window, int64_t ulysses_size, int64_t ring_size),
    (rq, q, rk, k, rv, v, ro, o, rl, l, scale, flags, rotate, balancer,
     seq_len, window, ulysses_size, ring_size))

CPRT_C_ENTRIES_ATTENTION(
    void, cprt_c_hybrid_bwd, hybridBackward,
    (MR rg, CM g, MR rq, CM q, MR rk, CM k, MR rv, CM v, MR ro, CM o, MR rl,
     CM l, MR rdq, CM dq, MR rdk, CM dk, MR rdv, CM dv, double scale,
     int32_t flags, int32_t rotate, int32_t balancer, int64_t seq_len,
     int64_t window, int64_t ulysses_size, int64_t ring_size),
    (rg, g, rq, q, rk, k, rv, v, ro, o, rl, l, rdq, dq, rdk, dk, rdv, dv,
     scale, flags, rotate, balancer, seq_len, window, ulysses_size, ring_size))

} // extern "C"
