//===- HybridCApi.cpp - hybrid (Ulysses x ring) entry points --------------===//
//
// cprt_c_hybrid_{fwd,bwd}_<T> (cprt_compiler.h): the local shards of compiled
// code (the balancer's N-rank layout, as for cprt_c_ring_*) through
// hybridAttentionForward / Backward on the grid communicators of this rank's
// context (split once per Ulysses size and kept in RankContext::grids).
// Errors go to the sticky error of CompilerAbi.cpp.
//
//===----------------------------------------------------------------------===//
#include "cprt/cprt_compiler.h"
#include "cprt/Context.h"
#include "cprt/Error.h"
#include "cprt/Hybrid.h"

#include <exception>
#include <string>
#include <vector>

namespace cprt {
bool compilerAbiFailed();
void compilerAbiFail(const std::string &msg);
} // namespace cprt

using namespace cprt;

namespace {

/// A contiguous tensor [batch..., H, S, D] seen as (B, H, S, D).
struct Tensor {
  char *data = nullptr;
  int64_t B = 1, H = 1, S = 1, D = 1;
};

Tensor tensorOf(int64_t rank, const cprt_memref *d, int64_t elemBytes,
                const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  check(rank >= 3, std::string(what) + ": expected rank >= 3 ([..., H, S, D])");
  const int64_t *sizes = d->sizes_and_strides, *strides = sizes + rank;
  int64_t expect = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    check(sizes[i] <= 1 || strides[i] == expect,
          std::string("compiled code passed a non-contiguous ") + what);
    expect *= sizes[i];
  }
  Tensor t;
  t.data = static_cast<char *>(d->aligned) + d->offset * elemBytes;
  t.D = sizes[rank - 1];
  t.S = sizes[rank - 2];
  t.H = sizes[rank - 3];
  for (int64_t i = 0; i + 3 < rank; ++i) t.B *= sizes[i];
  return t;
}

void checkLike(const Tensor &a, const Tensor &b, const char *what) {
  check(a.B == b.B && a.H == b.H && a.S == b.S && a.D == b.D,
        std::string("hybrid attention: the ") + what +
            " does not have the shape of its operand");
}

/// Shared checks of both entry points; returns the grid of this rank.
struct HybridCall {
  RankContext *ctx;
  GridComms *grid;
  HybridLayout layout;
  RingOptions opts;
  AttentionShape shape;
};

HybridCall prepare(const Tensor &q, const Tensor &k, double scale,
                   int32_t flags, int32_t rotate, int32_t balancer,
                   int64_t seqLen, int64_t window, int64_t U, int64_t R) {
  check(!(flags & (CPRT_C_HAS_MASK | CPRT_C_HAS_SEGMENTS)),
        "hybrid attention: explicit masks and segment ids are not supported "
        "yet");
  check(balancer >= 0 && balancer <= 2,
        "hybrid attention: balancer " + std::to_string(balancer) +
            " is not supported (expected none, head_tail or striped)");
  check(rotate >= 0 && rotate <= 2,
        "hybrid attention: unknown rotate method " + std::to_string(rotate));
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
  c.layout = makeHybridLayout(Balancer(balancer), seqLen, int(U), int(R));
  check(q.S == c.layout.world.localLen,
        "hybrid attention: the local sequence has " + std::to_string(q.S) +
            " slots, the balancer's layout " +
            std::to_string(c.layout.world.localLen));
  c.opts.rotate = RotateMethod(rotate);
  c.opts.causal = (flags & CPRT_C_CAUSAL) != 0 || window > 0;
  c.opts.scale = float(scale);
  c.opts.mask.windowLeft = window;
  c.shape = {q.B, q.H, k.H, q.S, q.S, q.D};
  return c;
}

template <typename F> void guarded(const char *op, F &&body) {
  if (compilerAbiFailed()) return;
  try {
    body();
  } catch (const std::exception &e) {
    compilerAbiFail(std::string(op) + ": " + e.what());
  } catch (...) {
    compilerAbiFail(std::string(op) + ": unknown error");
  }
}

DType dtypeOf(int eb, bool bf16) {
  return eb == 4 ? DType::F32 : bf16 ? DType::BF16 : DType::F16;
}

} // namespace

extern "C" {

#define MR int64_t
#define CPRT_C_HYBRID_DEFS(T, EB, BF)                                          \
  void cprt_c_hybrid_fwd_##T(                                                  \
      MR rq, const cprt_memref *q, MR rk, const cprt_memref *k, MR rv,         \
      const cprt_memref *v, MR ro, const cprt_memref *o, MR rl,                \
      const cprt_memref *l, double scale, int32_t flags, int32_t rotate,       \
      int32_t balancer, int64_t seq_len, int64_t window, int64_t ulysses_size, \
      int64_t ring_size) {                                                     \
    guarded("hybrid_attention", [&] {                                          \
      Tensor qt = tensorOf(rq, q, EB, "query"), kt = tensorOf(rk, k, EB, "key"),\
             vt = tensorOf(rv, v, EB, "value"),                                \
             ot = tensorOf(ro, o, EB, "output");                               \
      HybridCall c = prepare(qt, kt, scale, flags, rotate, balancer, seq_len,  \
                             window, ulysses_size, ring_size);                 \
      std::vector<float> scratch;                                              \
      float *lse = nullptr;                                                    \
      if (flags & CPRT_C_HAS_LSE) {                                            \
        check(l != nullptr, "compiled code passed a null lse");                \
        lse = reinterpret_cast<float *>(static_cast<char *>(l->aligned) +      \
                                        l->offset * 4);                        \
      } else {                                                                 \
        scratch.resize(size_t(qt.B * qt.H * qt.S));                            \
        lse = scratch.data();                                                  \
      }                                                                        \
      checkLike(vt, kt, "value");                                              \
      checkLike(ot, qt, "output");                                             \
      hybridAttentionForward(*c.grid, *c.ctx->backend, c.layout, c.opts,       \
                             c.shape, dtypeOf(EB, BF), qt.data, kt.data,       \
                             vt.data, ot.data, lse);                           \
    });                                                                        \
  }                                                                            \
  void cprt_c_hybrid_bwd_##T(                                                  \
      MR rg, const cprt_memref *g, MR rq, const cprt_memref *q, MR rk,         \
      const cprt_memref *k, MR rv, const cprt_memref *v, MR ro,                \
      const cprt_memref *o, MR rl, const cprt_memref *l, MR rdq,               \
      const cprt_memref *dq, MR rdk, const cprt_memref *dk, MR rdv,            \
      const cprt_memref *dv, double scale, int32_t flags, int32_t rotate,      \
      int32_t balancer, int64_t seq_len, int64_t window, int64_t ulysses_size, \
      int64_t ring_size) {                                                     \
    guarded("hybrid_attention_backward", [&] {                                 \
      Tensor gt = tensorOf(rg, g, EB, "output gradient"),                      \
             qt = tensorOf(rq, q, EB, "query"), kt = tensorOf(rk, k, EB, "key"),\
             vt = tensorOf(rv, v, EB, "value"),                                \
             ot = tensorOf(ro, o, EB, "output"),                               \
             dqt = tensorOf(rdq, dq, EB, "query gradient"),                    \
             dkt = tensorOf(rdk, dk, EB, "key gradient"),                      \
             dvt = tensorOf(rdv, dv, EB, "value gradient");                    \
      check(l != nullptr && rl >= 2, "hybrid backward: lse must be [.., H, S]");\
      const float *lse = reinterpret_cast<const float *>(                      \
          static_cast<char *>(l->aligned) + l->offset * 4);                    \
      HybridCall c = prepare(qt, kt, scale, flags, rotate, balancer, seq_len,  \
                             window, ulysses_size, ring_size);                 \
      checkLike(vt, kt, "value");                                              \
      checkLike(gt, qt, "output gradient");                                    \
      checkLike(ot, qt, "output");                                             \
      checkLike(dqt, qt, "query gradient");                                    \
      checkLike(dkt, kt, "key gradient");                                      \
      checkLike(dvt, kt, "value gradient");                                    \
      hybridAttentionBackward(*c.grid, *c.ctx->backend, c.layout, c.opts,      \
                              c.shape, dtypeOf(EB, BF), gt.data, qt.data,      \
                              kt.data, vt.data, ot.data, lse, dqt.data,        \
                              dkt.data, dvt.data);                             \
    });                                                                        \
  }

CPRT_C_HYBRID_DEFS(f32, 4, false)
CPRT_C_HYBRID_DEFS(bf16, 2, true)
CPRT_C_HYBRID_DEFS(f16, 2, false)

} // extern "C"
