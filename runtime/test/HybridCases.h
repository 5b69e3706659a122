//===- HybridCases.h - Checks shared by the thread and MPI hybrid tests ---===//
//
// Every rank builds the same global random inputs (same seed), runs the
// hybrid forward and backward on its shard and compares its local results
// with its slots of the float64 reference (padding slots skipped), so the
// same check runs on thread ranks and on MPI processes. Returns "" or a
// description of the mismatches.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_TEST_HYBRIDCASES_H
#define CPRT_TEST_HYBRIDCASES_H

#include "Reference.h"

#include "cprt/Hybrid.h"

#include <cstring>
#include <string>
#include <vector>

namespace cprt::test {

struct HybridCase {
  int U, R;
  bool causal = false;
  DType dtype = DType::F32;
  int64_t S = 0; // 0: 4N + 3 (never a multiple of 2N: padding)
  int64_t B = 1, Hq = 4, Hkv = 2, D = 8;
  Balancer balancer = Balancer::HeadTail;
  RotateMethod rotate = RotateMethod::Ring;
  int64_t window = 0;
  bool masked = false; ///< a per-head boolean mask and documents
  int64_t seqLen() const { return S ? S : 4 * U * R + 3; }
  std::string name() const {
    return std::to_string(U) + "x" + std::to_string(R) + " S=" +
           std::to_string(seqLen()) + " Hq=" + std::to_string(Hq) +
           " Hkv=" + std::to_string(Hkv) + " " + dtypeName(dtype) + " " +
           balancerName(balancer) + (causal ? " causal" : "") +
           (window ? " window" : "") + (masked ? " masked" : "");
  }
};

struct HybridData {
  Buffer q, k, v, g;
  std::vector<uint8_t> keep; ///< [B, Hq, S, S] when masked
  std::vector<int32_t> docs; ///< [S] when masked
  RefResult ref;
  RingOptions opts;
};

inline HybridData makeHybridData(const HybridCase &c) {
  const int64_t S = c.seqLen();
  std::mt19937_64 rng(7 + c.U * 100 + c.R * 10 + int(c.causal) + c.Hkv * 1000);
  HybridData d;
  const size_t nq = c.B * c.Hq * S * c.D, nk = c.B * c.Hkv * S * c.D;
  d.q = randomBuffer(c.dtype, nq, rng);
  d.k = randomBuffer(c.dtype, nk, rng);
  d.v = randomBuffer(c.dtype, nk, rng);
  d.g = randomBuffer(c.dtype, nq, rng);
  d.opts.rotate = c.rotate;
  d.opts.causal = c.causal || c.window > 0;
  d.opts.mask.windowLeft = c.window;
  if (c.masked) { // per-head keep-mask (indexed by global head) + documents
    std::bernoulli_distribution coin(0.7);
    d.keep.resize(size_t(c.B * c.Hq * S * S));
    for (auto &x : d.keep) x = coin(rng);
    d.docs.resize(size_t(S));
    for (int64_t i = 0; i < S; ++i) d.docs[i] = int32_t(i / 9);
    d.opts.mask.boolMask = d.keep.data();
    d.opts.mask.maskBStride = c.Hq * S * S;
    d.opts.mask.maskHStride = S * S;
    d.opts.mask.maskRowStride = S;
    d.opts.mask.docIds = d.docs.data();
    d.opts.mask.docLen = S;
  }
  AttentionParams gp;
  gp.shape = {c.B, c.Hq, c.Hkv, S, S, c.D};
  gp.mask = d.opts.mask;
  gp.mask.causal = d.opts.causal;
  d.ref = refForward(gp, d.q.ref, d.k.ref, d.v.ref);
  refBackward(gp, d.q.ref, d.k.ref, d.v.ref, d.g.ref, d.ref);
  return d;
}

/// Runs the case on this rank of `world` (collective) and checks its slots.
inline std::string checkHybridRank(const HybridCase &c, const HybridData &d,
                                   Communicator &world, KernelBackend &kernel) {
  const int64_t S = c.seqLen();
  const DType dt = c.dtype;
  const size_t es = dtypeSize(dt);
  GridComms grid = makeGridComms(world, c.U);
  const HybridLayout hl = makeHybridLayout(c.balancer, S, c.U, c.R);
  const int n = world.rank();
  const int64_t L = hl.world.localLen;
  const size_t lq = c.B * c.Hq * L * c.D, lk = c.B * c.Hkv * L * c.D;
  const int64_t shQ[4] = {c.B, c.Hq, S, c.D}, shK[4] = {c.B, c.Hkv, S, c.D};
  Buffer q = zeroBuffer(dt, lq), k = zeroBuffer(dt, lk), v = zeroBuffer(dt, lk),
         g = zeroBuffer(dt, lq), out = zeroBuffer(dt, lq), dq = zeroBuffer(dt, lq),
         dk = zeroBuffer(dt, lk), dv = zeroBuffer(dt, lk);
  auto shard = [&](const Buffer &src, Buffer &dst, const int64_t *sh) {
    shardBuffer(const_cast<Buffer &>(src).data(), dst.data(), sh, 4, 2, es,
                hl.world, n);
  };
  shard(d.q, q, shQ);
  shard(d.k, k, shK);
  shard(d.v, v, shK);
  shard(d.g, g, shQ);
  std::vector<float> lse(c.B * c.Hq * L);
  AttentionShape local{c.B, c.Hq, c.Hkv, L, L, c.D};
  hybridAttentionForward(grid, kernel, hl, d.opts, local, dt, q.data(),
                         k.data(), v.data(), out.data(), lse.data());
  hybridAttentionBackward(grid, kernel, hl, d.opts, local, dt, g.data(),
                          q.data(), k.data(), v.data(), out.data(), lse.data(),
                          dq.data(), dk.data(), dv.data());
  // This rank's valid slots of a [B, H, S, inner] reference vs local data.
  const int64_t *pos = hl.world.localPositions(n);
  auto pick = [&](auto &&localAt, const std::vector<double> &ref, int64_t H,
                  int64_t inner, std::vector<double> &got,
                  std::vector<double> &want) {
    for (int64_t bh = 0; bh < c.B * H; ++bh)
      for (int64_t l = 0; l < L; ++l) {
        if (pos[l] < 0) continue;
        for (int64_t e = 0; e < inner; ++e) {
          got.push_back(localAt(size_t((bh * L + l) * inner + e)));
          want.push_back(ref[size_t((bh * S + pos[l]) * inner + e)]);
        }
      }
  };
  const Tol tol = tolFor(dt);
  std::string msg;
  auto cmp = [&](const char *what, const Buffer &b, const std::vector<double> &ref,
                 int64_t H, double f) {
    std::vector<double> got, want;
    pick([&](size_t i) { return b.get(i); }, ref, H, c.D, got, want);
    msg += compare(what, got, want, f * tol.atol, f * tol.rtol);
  };
  cmp("out", out, d.ref.out, c.Hq, 1);
  {
    std::vector<double> got, want;
    pick([&](size_t i) { return double(lse[i]); }, d.ref.lse, c.Hq, 1, got, want);
    msg += compare("lse", got, want, 2e-5, 2e-5);
  }
  cmp("dq", dq, d.ref.dq, c.Hq, 2);
  cmp("dk", dk, d.ref.dk, c.Hkv, 2);
  cmp("dv", dv, d.ref.dv, c.Hkv, 2);
  return msg.empty() ? msg
                     : "rank " + std::to_string(n) + " " + c.name() + ": " + msg;
}

/// Shifts and all-to-alls within the Ulysses (row) and ring (column)
/// communicators of a U x R grid; returns "" or what went wrong.
inline std::string checkGridComms(Communicator &world, int U) {
  const int N = world.size(), n = world.rank(), R = N / U;
  GridComms g = makeGridComms(world, U);
  std::string msg;
  auto expect = [&](bool ok, const std::string &what) {
    if (!ok) msg += "rank " + std::to_string(n) + ": " + what + "; ";
  };
  expect(g.ulyssesRank == n % U && g.ringRank == n / U, "grid coordinates");
  expect(g.ulysses->size() == U && g.ulysses->rank() == n % U, "row comm");
  expect(g.ring->size() == R && g.ring->rank() == n / U, "column comm");
  // Shift by one within the row and within the column (payload: world rank).
  int x = n, fromRow = -1, fromCol = -1;
  g.ulysses->shift(&x, &fromRow, sizeof(int), 1);
  g.ring->shift(&x, &fromCol, sizeof(int), 1);
  const int u = n % U, r = n / U;
  expect(fromRow == (u + U - 1) % U + U * r, "row shift");
  expect(fromCol == u + U * ((r + R - 1) % R), "column shift");
  // All-to-all within both: block j tagged (sender, j).
  for (Communicator *c : {g.ulysses.get(), g.ring.get()}) {
    const int W = c->size();
    std::vector<int> send(2 * W), recv(2 * W, -1);
    for (int j = 0; j < W; ++j) { send[2 * j] = n; send[2 * j + 1] = j; }
    c->allToAll(send.data(), recv.data(), 2 * sizeof(int));
    for (int i = 0; i < W; ++i) {
      const int from = c == g.ulysses.get() ? i + U * r : u + U * i;
      expect(recv[2 * i] == from && recv[2 * i + 1] == c->rank(),
             std::string(c == g.ulysses.get() ? "row" : "column") +
                 " all-to-all block " + std::to_string(i));
    }
  }
  // The parent still works after (and interleaved with) its children.
  std::vector<int> all(N);
  world.allGather(&n, all.data(), sizeof(int));
  for (int i = 0; i < N; ++i) expect(all[i] == i, "world all-gather");
  // A split of a split: the row's ranks by parity (a 1-D split of a grid).
  auto sub = g.ulysses->split(u % 2, -u);
  const int members = (U + 1 - u % 2) / 2;
  expect(sub && sub->size() == members, "split of a split size");
  if (sub) {
    std::vector<int> got(sub->size());
    sub->allGather(&n, got.data(), sizeof(int));
    // key -u: descending u within the parity class.
    for (int i = 1; i < sub->size(); ++i)
      expect(got[i] < got[i - 1], "split of a split order");
  }
  return msg;
}

} // namespace cprt::test

#endif // CPRT_TEST_HYBRIDCASES_H
