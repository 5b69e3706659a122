//===- Hybrid.cpp - Ulysses all-to-all around a ring of Ulysses groups ----===//
//
// See Hybrid.h. The Ulysses steps reuse seqToHeads / headsToSeq with the
// HybridLayout::ulysses table (slot l of Ulysses rank u goes to ring-block
// position P(u, l)); the ring step is ringAttentionForward / Backward on the
// ring communicator with HybridLayout::ring.
//
//===----------------------------------------------------------------------===//
#include "cprt/Hybrid.h"
#include "cprt/Error.h"
#include "cprt/Half.h"
#include "cprt/Ulysses.h"

#include <cstring>
#include <string>
#include <vector>

namespace cprt {

HybridLayout makeHybridLayout(Balancer b, int64_t S, int U, int R,
                              const BalancerOptions &opts) {
  check(U > 0 && R > 0, "hybrid: grid sizes must be > 0");
  HybridLayout h;
  h.ulyssesSize = U;
  h.ringSize = R;
  h.world = makeLayout(b, S, U * R, opts);
  const int64_t Lw = h.world.localLen, Lr = Lw * U, c = Lw / 2;
  // head_tail: rank u's two chunks are chunks rU+u and 2N-1-rU-u of 2N; the
  // group's heads then tails form the R-rank pair (r, 2R-1-r), in order.
  const bool headTail = b == Balancer::HeadTail;
  auto place = [&](int64_t u, int64_t l) {
    if (!headTail) return u * Lw + l;
    return l < c ? u * c + l : U * c + (U - 1 - u) * c + (l - c);
  };
  ShardLayout &uly = h.ulysses, &ring = h.ring;
  uly.balancer = Balancer::None;
  uly.worldSize = U;
  uly.seqLen = Lr;
  uly.localLen = Lw;
  uly.slotToPos.resize(size_t(Lr));
  uly.posToSlot.resize(size_t(Lr));
  for (int64_t u = 0; u < U; ++u)
    for (int64_t l = 0; l < Lw; ++l) {
      uly.slotToPos[u * Lw + l] = place(u, l);
      uly.posToSlot[place(u, l)] = u * Lw + l;
    }
  ring.balancer =
      (b == Balancer::None || headTail) ? b : Balancer::Ptrr; // by position
  ring.worldSize = R;
  ring.seqLen = S;
  ring.localLen = Lr;
  ring.slotToPos.assign(size_t(R * Lr), -1);
  ring.posToSlot.assign(size_t(S), -1);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t u = 0; u < U; ++u)
      for (int64_t l = 0; l < Lw; ++l) {
        const int64_t pos = h.world.slotToPos[(u + U * r) * Lw + l];
        const int64_t slot = r * Lr + place(u, l);
        ring.slotToPos[slot] = pos;
        if (pos >= 0) ring.posToSlot[pos] = slot;
      }
  return h;
}

void hybridKvHeads(int64_t Hq, int64_t Hkv, int U, int64_t &perRank,
                   int64_t &replicas) {
  check(Hq % U == 0, "hybrid: " + std::to_string(Hq) +
                         " query heads do not split over a Ulysses size of " +
                         std::to_string(U));
  check(Hkv > 0 && Hq % Hkv == 0,
        "hybrid: " + std::to_string(Hq) + " query heads are not a multiple of " +
            std::to_string(Hkv) + " key/value heads");
  if (Hkv % U == 0) {
    perRank = Hkv / U;
    replicas = 1;
    return;
  }
  check(U % Hkv == 0, "hybrid: " + std::to_string(Hkv) +
                          " key/value heads (" + std::to_string(Hq) +
                          " query heads) neither divide nor are divided by a "
                          "Ulysses size of " + std::to_string(U));
  perRank = 1;
  replicas = U / Hkv;
}

namespace {

/// Shapes, buffers and the two layouts' checks shared by forward/backward.
struct HybridSetup {
  int U, R, u;
  int64_t B, Hq, Hkv, L, Lr, D, Hl, Hkvl, rep;
  size_t es;
  AttentionShape ringShape;
  RingOptions opts;

  HybridSetup(GridComms &g, const HybridLayout &hl, const RingOptions &o,
              const AttentionShape &local, DType dt)
      : opts(o) {
    U = hl.ulyssesSize;
    R = hl.ringSize;
    check(g.ulysses && g.ring && g.ulyssesSize == U && g.ringSize == R,
          "hybrid: the grid is " + std::to_string(g.ulyssesSize) + " x " +
              std::to_string(g.ringSize) + ", the layout " +
              std::to_string(U) + " x " + std::to_string(R));
    u = g.ulyssesRank;
    L = hl.world.localLen;
    check(local.seqQ == L && local.seqKV == L,
          "hybrid: local sequence length must be the layout's " +
              std::to_string(L) + ", got q " + std::to_string(local.seqQ) +
              " / kv " + std::to_string(local.seqKV));
    B = local.batch; Hq = local.headsQ; Hkv = local.headsKV; D = local.headDim;
    hybridKvHeads(Hq, Hkv, U, Hkvl, rep);
    Hl = Hq / U;
    Lr = hl.ring.localLen;
    es = dtypeSize(dt);
    ringShape = {B, Hl, Hkvl, Lr, Lr, D};
    // A per-head mask is indexed by global head: start at this rank's.
    MaskSpec &m = opts.mask;
    if (m.maskHStride) {
      const int64_t off = int64_t(u) * Hl * m.maskHStride;
      if (m.boolMask) m.boolMask += off;
      if (m.addMask) m.addMask += off;
    }
  }
  size_t qLocal() const { return size_t(B * Hq * L * D) * es; }
  size_t qHeads() const { return size_t(B * Hl * Lr * D) * es; }
  size_t kvHeads() const { return size_t(B * Hkvl * Lr * D) * es; }

  /// [B, H, L, D] sequence shard -> [B, H/U, Lr, D] (H = Hq) or the KV
  /// heads of this rank (replicated first when rep > 1), in `mem`.
  BackendBuffer toHeads(const void *x, int64_t H, bool kv,
                        const HybridLayout &hl, Communicator &c,
                        KernelBackend &mem) const {
    BackendBuffer expanded;
    if (kv && rep > 1) { // head h*rep + j = replica j of head h
      const size_t plane = size_t(L * D) * es;
      expanded = BackendBuffer(mem, size_t(B * H * rep) * plane);
      for (int64_t j = 0; j < rep; ++j) // rows (b, h), one plane each
        mem.copy2D(expanded.bytes() + j * plane, rep * plane, x, plane, plane,
                   size_t(B * H));
      x = expanded.data();
      H *= rep;
    }
    const int64_t shape[4] = {B, H, L, D};
    BackendBuffer out(mem, size_t(B * (H / U) * Lr * D) * es);
    seqToHeads(x, out.data(), shape, 4, 1, 2, es, hl.ulysses, c, &mem);
    return out;
  }
};

/// Sums the `rep` replica gradients (heads h*rep+j of `in`, planes of `n`
/// elements) into [B, Hkv, n] `out`, in fp32, with `mem`'s operations.
void sumReplicas(const char *in, void *out, int64_t B, int64_t Hkv,
                 int64_t rep, int64_t n, DType dt, KernelBackend &mem) {
  const size_t es = dtypeSize(dt), plane = size_t(n) * es;
  const size_t groups = size_t(B * Hkv), total = groups * size_t(n);
  BackendBuffer acc(mem, total * 4), part(mem, total * 4), one(mem, total * es);
  mem.fillF32(acc.f32(), 0.f, total);
  for (int64_t j = 0; j < rep; ++j) {
    mem.copy2D(one.data(), plane, in + j * plane, rep * plane, plane, groups);
    mem.convert(one.data(), dt, part.data(), DType::F32, total);
    mem.addF32(acc.f32(), part.f32(), total);
  }
  mem.convert(acc.data(), DType::F32, out, dt, total);
}

} // namespace

RingStats hybridAttentionForward(GridComms &g, KernelBackend &kernel,
                                 const HybridLayout &hl,
                                 const RingOptions &opts,
                                 const AttentionShape &local, DType dt,
                                 const void *q, const void *k, const void *v,
                                 void *out, float *lse) {
  HybridSetup st(g, hl, opts, local, dt);
  Communicator &uc = *g.ulysses;
  KernelBackend &mem = kernel;
  BackendBuffer qh = st.toHeads(q, st.Hq, false, hl, uc, mem);
  BackendBuffer kh = st.toHeads(k, st.Hkv, true, hl, uc, mem);
  BackendBuffer vh = st.toHeads(v, st.Hkv, true, hl, uc, mem);
  BackendBuffer oh(mem, st.qHeads());
  BackendBuffer lh(mem, size_t(st.B * st.Hl * st.Lr) * 4);
  RingStats stats =
      ringAttentionForward(*g.ring, kernel, hl.ring, st.opts, st.ringShape, dt,
                           qh.data(), kh.data(), vh.data(), oh.data(), lh.f32());
  const int64_t shO[4] = {st.B, st.Hq, st.L, st.D}, shL[3] = {st.B, st.Hq, st.L};
  headsToSeq(oh.data(), out, shO, 4, 1, 2, st.es, hl.ulysses, uc, &mem);
  headsToSeq(lh.data(), lse, shL, 3, 1, 2, sizeof(float), hl.ulysses, uc, &mem);
  stats.commOps += 5;
  return stats;
}

RingStats hybridAttentionBackward(GridComms &g, KernelBackend &kernel,
                                  const HybridLayout &hl,
                                  const RingOptions &opts,
                                  const AttentionShape &local, DType dt,
                                  const void *dout, const void *q,
                                  const void *k, const void *v,
                                  const void *out, const float *lse, void *dq,
                                  void *dk, void *dv) {
  HybridSetup st(g, hl, opts, local, dt);
  Communicator &uc = *g.ulysses;
  KernelBackend &mem = kernel;
  BackendBuffer qh = st.toHeads(q, st.Hq, false, hl, uc, mem);
  BackendBuffer kh = st.toHeads(k, st.Hkv, true, hl, uc, mem);
  BackendBuffer vh = st.toHeads(v, st.Hkv, true, hl, uc, mem);
  BackendBuffer gh = st.toHeads(dout, st.Hq, false, hl, uc, mem);
  BackendBuffer oh = st.toHeads(out, st.Hq, false, hl, uc, mem);
  BackendBuffer lh(mem, size_t(st.B * st.Hl * st.Lr) * 4);
  const int64_t shL[3] = {st.B, st.Hq, st.L};
  seqToHeads(lse, lh.data(), shL, 3, 1, 2, sizeof(float), hl.ulysses, uc, &mem);
  BackendBuffer dqh(mem, st.qHeads()), dkh(mem, st.kvHeads()),
      dvh(mem, st.kvHeads());
  RingStats stats = ringAttentionBackward(
      *g.ring, kernel, hl.ring, st.opts, st.ringShape, dt, gh.data(),
      qh.data(), kh.data(), vh.data(), oh.data(), lh.f32(), dqh.data(),
      dkh.data(), dvh.data());
  const int64_t shQ[4] = {st.B, st.Hq, st.L, st.D};
  headsToSeq(dqh.data(), dq, shQ, 4, 1, 2, st.es, hl.ulysses, uc, &mem);
  const int64_t Hx = st.Hkv * st.rep; // KV heads as exchanged
  const int64_t shK[4] = {st.B, Hx, st.L, st.D};
  BackendBuffer dkx, dvx;
  if (st.rep > 1) {
    dkx = BackendBuffer(mem, size_t(st.B * Hx * st.L * st.D) * st.es);
    dvx = BackendBuffer(mem, dkx.size());
  }
  headsToSeq(dkh.data(), st.rep > 1 ? dkx.data() : dk, shK, 4, 1, 2, st.es,
             hl.ulysses, uc, &mem);
  headsToSeq(dvh.data(), st.rep > 1 ? dvx.data() : dv, shK, 4, 1, 2, st.es,
             hl.ulysses, uc, &mem);
  if (st.rep > 1) {
    sumReplicas(dkx.bytes(), dk, st.B, st.Hkv, st.rep, st.L * st.D, dt, mem);
    sumReplicas(dvx.bytes(), dv, st.B, st.Hkv, st.rep, st.L * st.D, dt, mem);
  }
  stats.commOps += 9;
  return stats;
}

} // namespace cprt
