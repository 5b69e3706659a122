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
  /// heads of this rank (replicated first when rep > 1).
  std::vector<char> toHeads(const void *x, int64_t H, bool kv,
                            const HybridLayout &hl, Communicator &c) const {
    std::vector<char> expanded;
    if (kv && rep > 1) { // head h*rep + j = replica j of head h
      const size_t plane = size_t(L * D) * es;
      expanded.resize(size_t(B * H * rep) * plane);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t j = 0; j < rep; ++j)
            std::memcpy(expanded.data() + ((b * H + h) * rep + j) * plane,
                        static_cast<const char *>(x) + (b * H + h) * plane,
                        plane);
      x = expanded.data();
      H *= rep;
    }
    const int64_t shape[4] = {B, H, L, D};
    std::vector<char> out(size_t(B * (H / U) * Lr * D) * es);
    seqToHeads(x, out.data(), shape, 4, 1, 2, es, hl.ulysses, c);
    return out;
  }
};

/// Sums the `rep` replica gradients (heads h*rep+j) into [B, Hkv, L, D].
void sumReplicas(const char *in, void *out, int64_t B, int64_t Hkv,
                 int64_t rep, int64_t n, DType dt) {
  auto get = [&](const char *p, size_t i) -> float {
    switch (dt) {
    case DType::F32: return reinterpret_cast<const float *>(p)[i];
    case DType::BF16: return bf16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
    case DType::F16: return f16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
    }
    return 0.f;
  };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t i = 0; i < n; ++i) {
        float acc = 0.f;
        for (int64_t j = 0; j < rep; ++j)
          acc += get(in, size_t(((b * Hkv + h) * rep + j) * n + i));
        const size_t o = size_t((b * Hkv + h) * n + i);
        if (dt == DType::F32) reinterpret_cast<float *>(out)[o] = acc;
        else if (dt == DType::BF16) reinterpret_cast<uint16_t *>(out)[o] = floatToBf16(acc);
        else reinterpret_cast<uint16_t *>(out)[o] = floatToF16(acc);
      }
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
  std::vector<char> qh = st.toHeads(q, st.Hq, false, hl, uc);
  std::vector<char> kh = st.toHeads(k, st.Hkv, true, hl, uc);
  std::vector<char> vh = st.toHeads(v, st.Hkv, true, hl, uc);
  std::vector<char> oh(st.qHeads());
  std::vector<float> lh(size_t(st.B * st.Hl * st.Lr));
  RingStats stats =
      ringAttentionForward(*g.ring, kernel, hl.ring, st.opts, st.ringShape, dt,
                           qh.data(), kh.data(), vh.data(), oh.data(), lh.data());
  const int64_t shO[4] = {st.B, st.Hq, st.L, st.D}, shL[3] = {st.B, st.Hq, st.L};
  headsToSeq(oh.data(), out, shO, 4, 1, 2, st.es, hl.ulysses, uc);
  headsToSeq(lh.data(), lse, shL, 3, 1, 2, sizeof(float), hl.ulysses, uc);
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
  std::vector<char> qh = st.toHeads(q, st.Hq, false, hl, uc);
  std::vector<char> kh = st.toHeads(k, st.Hkv, true, hl, uc);
  std::vector<char> vh = st.toHeads(v, st.Hkv, true, hl, uc);
  std::vector<char> gh = st.toHeads(dout, st.Hq, false, hl, uc);
  std::vector<char> oh = st.toHeads(out, st.Hq, false, hl, uc);
  std::vector<float> lh(size_t(st.B * st.Hl * st.Lr));
  const int64_t shL[3] = {st.B, st.Hq, st.L};
  seqToHeads(lse, lh.data(), shL, 3, 1, 2, sizeof(float), hl.ulysses, uc);
  std::vector<char> dqh(st.qHeads()), dkh(st.kvHeads()), dvh(st.kvHeads());
  RingStats stats = ringAttentionBackward(
      *g.ring, kernel, hl.ring, st.opts, st.ringShape, dt, gh.data(),
      qh.data(), kh.data(), vh.data(), oh.data(), lh.data(), dqh.data(),
      dkh.data(), dvh.data());
  const int64_t shQ[4] = {st.B, st.Hq, st.L, st.D};
  headsToSeq(dqh.data(), dq, shQ, 4, 1, 2, st.es, hl.ulysses, uc);
  const int64_t Hx = st.Hkv * st.rep; // KV heads as exchanged
  const int64_t shK[4] = {st.B, Hx, st.L, st.D};
  std::vector<char> dkx, dvx;
  if (st.rep > 1) {
    dkx.resize(size_t(st.B * Hx * st.L * st.D) * st.es);
    dvx.resize(dkx.size());
  }
  headsToSeq(dkh.data(), st.rep > 1 ? dkx.data() : dk, shK, 4, 1, 2, st.es,
             hl.ulysses, uc);
  headsToSeq(dvh.data(), st.rep > 1 ? dvx.data() : dv, shK, 4, 1, 2, st.es,
             hl.ulysses, uc);
  if (st.rep > 1) {
    sumReplicas(dkx.data(), dk, st.B, st.Hkv, st.rep, st.L * st.D, dt);
    sumReplicas(dvx.data(), dv, st.B, st.Hkv, st.rep, st.L * st.D, dt);
  }
  stats.commOps += 9;
  return stats;
}

} // namespace cprt
