//===- cprt.cpp - C ABI over the C++ core ---------------------------------===//
//
// Every entry point runs its body inside guard(): exceptions become a status
// code and a thread-local message; nothing propagates into C callers. The
// enum arguments are range-checked and cast to the C++ enums, whose values
// AbiEnums.h proves equal to the C constants.
//
//===----------------------------------------------------------------------===//
#include "AbiEnums.h"

#include "cprt/cprt.h"
#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"
#include "cprt/RingAttention.h"

#include <new>
#include <string>
#include <vector>

#ifdef CPRT_HAVE_MPI
#include <mpi.h>
#endif

using namespace cprt;

namespace {

thread_local std::string lastError;

template <typename F> cprt_status guard(F &&body) {
  try {
    body();
    lastError.clear();
    return CPRT_OK;
  } catch (const Error &e) {
    lastError = e.what();
    return cprt_status(e.code());
  } catch (const std::bad_alloc &) {
    lastError = "cprt: out of memory";
  } catch (const std::exception &e) {
    lastError = std::string("cprt: ") + e.what();
  } catch (...) {
    lastError = "cprt: unknown error";
  }
  return CPRT_ERR_INTERNAL;
}

DType toDType(cprt_dtype t) {
  check(t >= CPRT_F32 && t <= CPRT_F16,
        "cprt: unknown dtype " + std::to_string(int(t)));
  return DType(t);
}

MaskSpec toMask(const cprt_mask *m, bool allowPositions) {
  MaskSpec s;
  if (!m) return s;
  check(allowPositions || (!m->q_pos && !m->kv_pos && !m->causal),
        "cprt: ring calls take positions from the load balancer and "
        "causality from is_causal; leave mask q_pos/kv_pos/causal unset");
  s.qPos = m->q_pos;
  s.kvPos = m->kv_pos;
  s.causal = m->causal != 0;
  s.windowLeft = m->window_left;
  s.docIds = m->doc_ids;
  s.docLen = m->doc_len;
  s.boolMask = m->bool_mask;
  s.addMask = m->add_mask;
  s.maskBStride = m->b_stride;
  s.maskHStride = m->h_stride;
  s.maskRowStride = m->row_stride;
  return s;
}

/// The kernel backend of the current context, or a process-wide CPU one.
KernelBackend &backend() {
  if (RankContext *c = currentContext())
    if (c->backend) return *c->backend;
  static CpuBackend fallback;
  return fallback;
}

Balancer toBalancer(cprt_balancer b) {
  check(b >= CPRT_BALANCE_NONE && b <= CPRT_BALANCE_PTRR,
        "cprt: unknown balancer " + std::to_string(int(b)));
  return Balancer(b);
}

RotateMethod toRotate(cprt_rotate r) {
  check(r >= CPRT_ROTATE_ALLGATHER && r <= CPRT_ROTATE_RING,
        "cprt: unknown rotate method " + std::to_string(int(r)));
  return RotateMethod(r);
}

AttentionParams makeParams(int64_t B, int64_t Hq, int64_t Hkv, int64_t Sq,
                           int64_t Skv, int64_t D, float scale) {
  AttentionParams p;
  p.shape = {B, Hq, Hkv, Sq, Skv, D};
  p.scale = scale;
  return p;
}

#ifdef CPRT_HAVE_MPI
RankContext *mpiContext = nullptr;
bool weInitialisedMpi = false;
#endif
// This thread's single-rank context (cprt_init_local), freed when the
// thread exits.
thread_local std::unique_ptr<RankContext> localContext;

} // namespace

extern "C" {

const char *cprt_last_error(void) { return lastError.c_str(); }

cprt_status cprt_run_threads(int nranks, cprt_rank_fn fn, void *user,
                             int64_t timeout_ms) {
  return guard([&] {
    check(fn != nullptr, "cprt_run_threads: null callback");
    runThreadRanks(
        nranks,
        [&](int r, int n) {
          int rc = fn(r, n, user);
          if (rc != 0) {
            std::string why = lastError.empty()
                                  ? "callback returned " + std::to_string(rc)
                                  : lastError;
            fail(rc > 0 && rc <= 4 ? ErrorCode(rc) : ErrorCode::Internal,
                 "rank " + std::to_string(r) + ": " + why);
          }
        },
        timeout_ms);
  });
}

int cprt_has_mpi(void) {
#ifdef CPRT_HAVE_MPI
  return 1;
#else
  return 0;
#endif
}

cprt_status cprt_init_mpi(int *argc, char ***argv, int64_t timeout_ms) {
  return guard([&] {
#ifdef CPRT_HAVE_MPI
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      int provided;
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      weInitialisedMpi = true;
    }
    if (!mpiContext) {
      mpiContext = new RankContext;
      mpiContext->comm = makeMpiCommunicator(timeout_ms);
      mpiContext->backend = std::make_unique<CpuBackend>();
    }
    setCurrentContext(mpiContext);
#else
    fail(ErrorCode::Invalid, "cprt_init_mpi: runtime built without MPI");
#endif
  });
}

cprt_status cprt_finalize_mpi(void) {
  return guard([&] {
#ifdef CPRT_HAVE_MPI
    if (currentContext() == mpiContext) setCurrentContext(nullptr);
    delete mpiContext;
    mpiContext = nullptr;
    int fin = 0;
    MPI_Finalized(&fin);
    if (weInitialisedMpi && !fin) MPI_Finalize();
#endif
  });
}

cprt_status cprt_init_local(void) {
  return guard([&] {
    if (!localContext) {
      localContext = std::make_unique<RankContext>();
      localContext->comm = makeThreadCommunicator(makeThreadGroup(1), 0);
      localContext->backend = std::make_unique<CpuBackend>();
    }
    setCurrentContext(localContext.get());
  });
}

int cprt_rank(void) {
  RankContext *c = currentContext();
  return c ? c->comm->rank() : -1;
}
int cprt_size(void) {
  RankContext *c = currentContext();
  return c ? c->comm->size() : -1;
}

cprt_status cprt_barrier(void) {
  return guard([&] { requireContext().comm->barrier(); });
}

cprt_status cprt_set_timeout_ms(int64_t ms) {
  return guard([&] { requireContext().comm->setTimeoutMs(ms); });
}

cprt_status cprt_sdpa_fwd(cprt_dtype dtype, int64_t B, int64_t Hq, int64_t Hkv,
                          int64_t Sq, int64_t Skv, int64_t D, const void *q,
                          const void *k, const void *v, void *out, float *lse,
                          float scale, int32_t is_causal,
                          const cprt_mask *mask) {
  return guard([&] {
    DType dt = toDType(dtype);
    AttentionParams p = makeParams(B, Hq, Hkv, Sq, Skv, D, scale);
    p.stepCausal = is_causal ? StepCausal::Causal : StepCausal::NotCausal;
    p.mask = toMask(mask, true);
    std::vector<float> lseTmp;
    if (!lse) { lseTmp.resize(size_t(B * Hq * Sq)); lse = lseTmp.data(); }
    ForwardArgs a;
    a.q = TensorView::contiguous(const_cast<void *>(q), dt, Hq, Sq, D);
    a.k = TensorView::contiguous(const_cast<void *>(k), dt, Hkv, Skv, D);
    a.v = TensorView::contiguous(const_cast<void *>(v), dt, Hkv, Skv, D);
    a.out = TensorView::contiguous(out, dt, Hq, Sq, D);
    a.lse = lse;
    backend().forward(p, a);
  });
}

cprt_status cprt_sdpa_bwd(cprt_dtype dtype, int64_t B, int64_t Hq, int64_t Hkv,
                          int64_t Sq, int64_t Skv, int64_t D, const void *dout,
                          const void *q, const void *k, const void *v,
                          const void *out, const float *lse, void *dq, void *dk,
                          void *dv, float scale, int32_t is_causal,
                          const cprt_mask *mask) {
  return guard([&] {
    DType dt = toDType(dtype);
    AttentionParams p = makeParams(B, Hq, Hkv, Sq, Skv, D, scale);
    p.stepCausal = is_causal ? StepCausal::Causal : StepCausal::NotCausal;
    p.mask = toMask(mask, true);
    BackwardArgs a;
    auto view = [&](const void *x, int64_t h, int64_t s) {
      return TensorView::contiguous(const_cast<void *>(x), dt, h, s, D);
    };
    a.dout = view(dout, Hq, Sq); a.q = view(q, Hq, Sq);
    a.k = view(k, Hkv, Skv); a.v = view(v, Hkv, Skv);
    a.out = view(out, Hq, Sq); a.lse = lse;
    a.dq = view(dq, Hq, Sq); a.dk = view(dk, Hkv, Skv); a.dv = view(dv, Hkv, Skv);
    backend().backward(p, a);
  });
}

cprt_status cprt_block_attention_fwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                     int64_t Hkv, int64_t Sq, int64_t Skv,
                                     int64_t D, const void *q, const void *k,
                                     const void *v, float *out_f32, float *lse,
                                     float scale, cprt_step_causal step,
                                     const cprt_mask *mask) {
  return guard([&] {
    DType dt = toDType(dtype);
    AttentionParams p = makeParams(B, Hq, Hkv, Sq, Skv, D, scale);
    p.stepCausal = StepCausal(step);
    p.mask = toMask(mask, true);
    ForwardArgs a;
    a.q = TensorView::contiguous(const_cast<void *>(q), dt, Hq, Sq, D);
    a.k = TensorView::contiguous(const_cast<void *>(k), dt, Hkv, Skv, D);
    a.v = TensorView::contiguous(const_cast<void *>(v), dt, Hkv, Skv, D);
    a.out = TensorView::contiguous(out_f32, DType::F32, Hq, Sq, D);
    a.lse = lse;
    backend().forward(p, a);
  });
}

cprt_status cprt_block_attention_bwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                     int64_t Hkv, int64_t Sq, int64_t Skv,
                                     int64_t D, const void *dout, const void *q,
                                     const void *k, const void *v,
                                     const void *out, const float *lse,
                                     float *dq_f32, float *dk_f32,
                                     float *dv_f32, float scale,
                                     cprt_step_causal step,
                                     const cprt_mask *mask) {
  return guard([&] {
    DType dt = toDType(dtype);
    AttentionParams p = makeParams(B, Hq, Hkv, Sq, Skv, D, scale);
    p.stepCausal = StepCausal(step);
    p.mask = toMask(mask, true);
    BackwardArgs a;
    auto view = [&](const void *x, int64_t h, int64_t s) {
      return TensorView::contiguous(const_cast<void *>(x), dt, h, s, D);
    };
    auto fview = [&](float *x, int64_t h, int64_t s) {
      return TensorView::contiguous(x, DType::F32, h, s, D);
    };
    a.dout = view(dout, Hq, Sq); a.q = view(q, Hq, Sq);
    a.k = view(k, Hkv, Skv); a.v = view(v, Hkv, Skv);
    a.out = view(out, Hq, Sq); a.lse = lse;
    a.dq = fview(dq_f32, Hq, Sq); a.dk = fview(dk_f32, Hkv, Skv);
    a.dv = fview(dv_f32, Hkv, Skv);
    a.accumulate = true;
    backend().backward(p, a);
  });
}

cprt_status cprt_merge_partial(float *out, float *lse, const float *out_b,
                               const float *lse_b, int64_t rows, int64_t D) {
  return guard([&] {
    check(out && lse && out_b && lse_b, "cprt_merge_partial: null pointer");
    check(rows >= 0 && D > 0, "cprt_merge_partial: bad shape");
    backend().mergePartial(out, lse, out_b, lse_b, rows, D);
  });
}

cprt_status cprt_layout(cprt_balancer balancer, int64_t S_global,
                        const int32_t *doc_ids, int64_t *local_len,
                        int64_t *positions) {
  return guard([&] {
    RankContext &c = requireContext();
    const ShardLayout &l = c.layout(toBalancer(balancer), S_global, doc_ids);
    if (local_len) *local_len = l.localLen;
    if (positions) {
      const int64_t *p = l.localPositions(c.comm->rank());
      std::copy(p, p + l.localLen, positions);
    }
  });
}

cprt_status cprt_ring_attention_fwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                    int64_t Hkv, int64_t L, int64_t D,
                                    const void *q, const void *k, const void *v,
                                    void *out, float *lse, float scale,
                                    int32_t is_causal, cprt_rotate rotate,
                                    cprt_balancer balancer, int64_t S_global,
                                    const cprt_mask *mask) {
  return guard([&] {
    RankContext &c = requireContext();
    RingOptions o;
    o.rotate = toRotate(rotate);
    o.causal = is_causal != 0;
    o.scale = scale;
    o.mask = toMask(mask, false);
    const ShardLayout &l =
        c.layout(toBalancer(balancer), S_global, o.mask.docIds);
    std::vector<float> lseTmp;
    if (!lse) { lseTmp.resize(size_t(B * Hq * L)); lse = lseTmp.data(); }
    ringAttentionForward(*c.comm, *c.backend, l, o, {B, Hq, Hkv, L, L, D},
                         toDType(dtype), q, k, v, out, lse);
  });
}

cprt_status cprt_ring_attention_bwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                    int64_t Hkv, int64_t L, int64_t D,
                                    const void *dout, const void *q,
                                    const void *k, const void *v,
                                    const void *out, const float *lse,
                                    void *dq, void *dk, void *dv, float scale,
                                    int32_t is_causal, cprt_rotate rotate,
                                    cprt_balancer balancer, int64_t S_global,
                                    const cprt_mask *mask) {
  return guard([&] {
    RankContext &c = requireContext();
    RingOptions o;
    o.rotate = toRotate(rotate);
    o.causal = is_causal != 0;
    o.scale = scale;
    o.mask = toMask(mask, false);
    const ShardLayout &l =
        c.layout(toBalancer(balancer), S_global, o.mask.docIds);
    ringAttentionBackward(*c.comm, *c.backend, l, o, {B, Hq, Hkv, L, L, D},
                          toDType(dtype), dout, q, k, v, out, lse, dq, dk, dv);
  });
}

cprt_status cprt_shard(const void *global, void *local, const int64_t *shape,
                       int32_t ndim, int32_t dim, int64_t elem_bytes,
                       cprt_balancer balancer, const int32_t *doc_ids) {
  return guard([&] {
    RankContext &c = requireContext();
    check(shape && ndim > 0 && dim >= 0 && dim < ndim && elem_bytes > 0,
          "cprt_shard: bad shape / dim / element size");
    const ShardLayout &l = c.layout(toBalancer(balancer), shape[dim], doc_ids);
    shardBuffer(global, local, shape, ndim, dim, size_t(elem_bytes), l,
                c.comm->rank());
  });
}

cprt_status cprt_unshard(const void *local, void *global, const int64_t *shape,
                         int32_t ndim, int32_t dim, int64_t elem_bytes,
                         cprt_balancer balancer, const int32_t *doc_ids) {
  return guard([&] {
    RankContext &c = requireContext();
    check(shape && ndim > 0 && dim >= 0 && dim < ndim && elem_bytes > 0,
          "cprt_unshard: bad shape / dim / element size");
    const ShardLayout &l = c.layout(toBalancer(balancer), shape[dim], doc_ids);
    size_t localBytes = size_t(elem_bytes) * size_t(l.localLen);
    for (int d = 0; d < ndim; ++d)
      if (d != dim) localBytes *= size_t(shape[d]);
    std::vector<char> all(localBytes * size_t(c.comm->size()));
    c.comm->allGather(local, all.data(), localBytes);
    unshardBuffer(all.data(), global, shape, ndim, dim, size_t(elem_bytes), l);
  });
}

} // extern "C"
