//===- RingTest.cpp - Ring attention vs the global float64 reference ------===//
//
// Every rotate method x balancer x mask kind for W in {1,2,3,4,8} thread
// ranks: shard global random inputs, run the ring forward and backward on
// every rank, unshard, and compare out, lse, dq, dk, dv with the naive
// float64 attention over the whole sequence. Sequence lengths are chosen
// not divisible by 2W so padding is always exercised too.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/RingAttention.h"

#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

using namespace cprt;
using namespace cprt::test;

namespace {

enum class Kind { Full, Causal, Masked, Window, Docs };
const char *kindName(Kind k) {
  static const char *n[] = {"full", "causal", "masked", "window", "docs"};
  return n[int(k)];
}
void PrintTo(Kind k, std::ostream *os) { *os << kindName(k); }

struct RingCase {
  int W;
  RotateMethod rotate;
  Balancer balancer;
  Kind kind;
  DType dtype = DType::F32;
  int64_t S = 0; // 0: 6W + 5 (never a multiple of 2W)
  int64_t B = 1, Hq = 4, Hkv = 2, D = 8;
};

struct RingOutcome {
  RingStats stats[8];
};

RingOutcome runRingCase(const RingCase &c) {
  const int W = c.W;
  const int64_t S = c.S ? c.S : 6 * W + 5;
  std::mt19937_64 rng(99 + W * 1000 + int(c.rotate) * 100 +
                      int(c.balancer) * 10 + int(c.kind));
  const DType dt = c.dtype;
  const size_t nq = c.B * c.Hq * S * c.D, nk = c.B * c.Hkv * S * c.D;
  Buffer q = randomBuffer(dt, nq, rng), k = randomBuffer(dt, nk, rng),
         v = randomBuffer(dt, nk, rng), g = randomBuffer(dt, nq, rng);

  // Global mask state (indexed by original positions).
  std::vector<int32_t> docs(S, 0);
  std::vector<uint8_t> keep;
  RingOptions opts;
  opts.rotate = c.rotate;
  opts.causal = c.kind != Kind::Full && c.kind != Kind::Masked;
  if (c.kind == Kind::Window) opts.mask.windowLeft = 5;
  if (c.kind == Kind::Docs || c.balancer == Balancer::PerDocumentHeadTail) {
    // Documents of uneven, mostly odd lengths.
    int32_t d = 0;
    int64_t left = 3;
    for (int64_t i = 0; i < S; ++i) {
      if (left-- == 0) { ++d; left = 2 + (d * 5) % 9; }
      docs[i] = d;
    }
  }
  if (c.kind == Kind::Docs) {
    opts.mask.docIds = docs.data();
    opts.mask.docLen = S;
  }
  if (c.kind == Kind::Masked) {
    std::bernoulli_distribution coin(0.6);
    keep.resize(c.B * S * S);
    for (auto &x : keep) x = coin(rng);
    for (int64_t j = 0; j < S; ++j) keep[(S - 1) * S + j] = 0; // dead row
    opts.mask.boolMask = keep.data();
    opts.mask.maskBStride = S * S;
    opts.mask.maskHStride = 0;
    opts.mask.maskRowStride = S;
  }

  AttentionParams gp;
  gp.shape = {c.B, c.Hq, c.Hkv, S, S, c.D};
  gp.stepCausal = StepCausal::NotCausal;
  gp.mask = opts.mask;
  gp.mask.causal = opts.causal;
  RefResult ref = refForward(gp, q.ref, k.ref, v.ref);
  refBackward(gp, q.ref, k.ref, v.ref, g.ref, ref);

  BalancerOptions bo;
  bo.docIds = docs.data();
  bo.blockSize = 2;
  const ShardLayout layout = makeLayout(c.balancer, S, W, bo);
  const int64_t L = layout.localLen;
  const size_t es = dtypeSize(dt);
  const size_t lq = c.B * c.Hq * L * c.D, lk = c.B * c.Hkv * L * c.D;
  // Per-rank results, back to back (what an all-gather would produce).
  std::vector<char> outAll(lq * es * W), dqAll(lq * es * W),
      dkAll(lk * es * W), dvAll(lk * es * W);
  std::vector<float> lseAll(c.B * c.Hq * L * W);
  RingOutcome res;

  runThreadRanks(W, [&](int r, int) {
    RankContext &ctx = requireContext();
    const int64_t shQ[4] = {c.B, c.Hq, S, c.D}, shK[4] = {c.B, c.Hkv, S, c.D};
    std::vector<char> lq_(lq * es), lk_(lk * es), lv_(lk * es), lg_(lq * es);
    shardBuffer(q.data(), lq_.data(), shQ, 4, 2, es, layout, r);
    shardBuffer(k.data(), lk_.data(), shK, 4, 2, es, layout, r);
    shardBuffer(v.data(), lv_.data(), shK, 4, 2, es, layout, r);
    shardBuffer(g.data(), lg_.data(), shQ, 4, 2, es, layout, r);
    AttentionShape local{c.B, c.Hq, c.Hkv, L, L, c.D};
    char *out = outAll.data() + r * lq * es;
    float *lse = lseAll.data() + r * c.B * c.Hq * L;
    RingStats f = ringAttentionForward(*ctx.comm, *ctx.backend, layout, opts,
                                       local, dt, lq_.data(), lk_.data(),
                                       lv_.data(), out, lse);
    RingStats b = ringAttentionBackward(
        *ctx.comm, *ctx.backend, layout, opts, local, dt, lg_.data(),
        lq_.data(), lk_.data(), lv_.data(), out, lse,
        dqAll.data() + r * lq * es, dkAll.data() + r * lk * es,
        dvAll.data() + r * lk * es);
    res.stats[r] = f;
    res.stats[r].commOps += b.commOps;
  });

  auto unshard = [&](const char *all, int64_t H, DType t) {
    std::vector<char> gbuf(c.B * H * S * c.D * dtypeSize(t));
    const int64_t sh[4] = {c.B, H, S, c.D};
    unshardBuffer(all, gbuf.data(), sh, 4, 2, dtypeSize(t), layout);
    std::vector<double> r(c.B * H * S * c.D);
    Buffer tmp = zeroBuffer(t, r.size());
    std::memcpy(tmp.data(), gbuf.data(), gbuf.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = tmp.get(i);
    return r;
  };
  const Tol tol = tolFor(dt);
  const std::string tag = std::string(" W=") + std::to_string(W) + " " +
                          rotateName(c.rotate) + " " +
                          balancerName(c.balancer) + " " + kindName(c.kind);
  std::string m = compare("out", unshard(outAll.data(), c.Hq, dt), ref.out,
                          tol.atol, tol.rtol);
  EXPECT_TRUE(m.empty()) << m << tag;
  {
    std::vector<float> gl(c.B * c.Hq * S);
    const int64_t sh[3] = {c.B, c.Hq, S};
    unshardBuffer(lseAll.data(), gl.data(), sh, 3, 2, sizeof(float), layout);
    m = compare("lse", std::vector<double>(gl.begin(), gl.end()), ref.lse,
                2e-5, 2e-5);
    EXPECT_TRUE(m.empty()) << m << tag;
  }
  m = compare("dq", unshard(dqAll.data(), c.Hq, dt), ref.dq, 2 * tol.atol, 2 * tol.rtol);
  EXPECT_TRUE(m.empty()) << m << tag;
  m = compare("dk", unshard(dkAll.data(), c.Hkv, dt), ref.dk, 2 * tol.atol, 2 * tol.rtol);
  EXPECT_TRUE(m.empty()) << m << tag;
  m = compare("dv", unshard(dvAll.data(), c.Hkv, dt), ref.dv, 2 * tol.atol, 2 * tol.rtol);
  EXPECT_TRUE(m.empty()) << m << tag;
  return res;
}

} // namespace

class RingSweep
    : public ::testing::TestWithParam<
          std::tuple<int, RotateMethod, Balancer, Kind>> {};

TEST_P(RingSweep, MatchesGlobalReference) {
  auto [W, rot, bal, kind] = GetParam();
  runRingCase({W, rot, bal, kind});
}

INSTANTIATE_TEST_SUITE_P(
    All, RingSweep,
    ::testing::Combine(
        ::testing::Values(1, 2, 3, 4, 8),
        ::testing::Values(RotateMethod::AllGather, RotateMethod::AllToAll,
                          RotateMethod::Ring),
        ::testing::Values(Balancer::None, Balancer::HeadTail,
                          Balancer::Striped, Balancer::PerDocumentHeadTail,
                          Balancer::Ptrr),
        ::testing::Values(Kind::Full, Kind::Causal, Kind::Masked, Kind::Window,
                          Kind::Docs)),
    [](const auto &info) {
      return "W" + std::to_string(std::get<0>(info.param)) + "_" +
             rotateName(std::get<1>(info.param)) + "_" +
             balancerName(std::get<2>(info.param)) + "_" +
             kindName(std::get<3>(info.param));
    });

TEST(Ring, HalfPrecisionHeadTailCausal) {
  for (DType dt : {DType::BF16, DType::F16})
    runRingCase({4, RotateMethod::Ring, Balancer::HeadTail, Kind::Causal, dt,
                 /*S=*/64, 2, 4, 1, 16});
}

TEST(Ring, HalfPrecisionAcrossBalancersAndMasks) {
  for (DType dt : {DType::BF16, DType::F16}) {
    runRingCase({3, RotateMethod::AllToAll, Balancer::Striped, Kind::Window, dt});
    runRingCase({2, RotateMethod::AllGather, Balancer::PerDocumentHeadTail,
                 Kind::Docs, dt});
    runRingCase({4, RotateMethod::Ring, Balancer::None, Kind::Masked, dt});
    runRingCase({8, RotateMethod::Ring, Balancer::Ptrr, Kind::Causal, dt});
  }
}

TEST(Ring, LargerShapesCrossTiles) {
  // L = 160 per rank: several 64-row tiles per step, GQA 4:1.
  runRingCase({2, RotateMethod::Ring, Balancer::HeadTail, Kind::Causal,
               DType::F32, 320, 1, 8, 2, 32});
  runRingCase({3, RotateMethod::Ring, Balancer::Striped, Kind::Window,
               DType::F32, 301, 1, 4, 1, 16});
}

TEST(Ring, DivisibleLengthsNeedNoPadding) {
  runRingCase({4, RotateMethod::AllToAll, Balancer::HeadTail, Kind::Causal,
               DType::F32, 32});
  runRingCase({4, RotateMethod::Ring, Balancer::None, Kind::Docs,
               DType::F32, 32});
}

TEST(Ring, CausalSkipsEmptyStepsAndCountsComms) {
  // none balancer, causal: rank r computes r + 1 of the W steps.
  RingOutcome o = runRingCase({4, RotateMethod::Ring, Balancer::None,
                               Kind::Causal, DType::F32, 32});
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(o.stats[r].stepsComputed, r + 1) << r;
    EXPECT_EQ(o.stats[r].stepsSkipped, 3 - r) << r;
    // forward W-1 shifts, backward W-1 KV shifts + W dk/dv hops: 3W-2.
    EXPECT_EQ(o.stats[r].commOps, 3 * 4 - 2) << r;
  }
  // Sliding window of 5 over 8 tokens per rank: only steps 0 and 1 matter.
  RingOutcome w = runRingCase({4, RotateMethod::Ring, Balancer::None,
                               Kind::Window, DType::F32, 32});
  for (int r = 0; r < 4; ++r)
    EXPECT_EQ(w.stats[r].stepsComputed, std::min(r + 1, 2)) << r;
}

TEST(Ring, BlockHasWorkIsExactForPositionMasks) {
  // Queries at positions 8..11, keys at 0..3.
  std::vector<int64_t> qp{8, 9, 10, 11}, kp{0, 1, 2, 3}, pads{-1, -1, -1, -1};
  std::vector<int32_t> docs(12, 0);
  AttentionParams p;
  p.shape = {1, 1, 1, 4, 4, 8};
  p.stepCausal = StepCausal::NotCausal;
  p.mask.qPos = qp.data();
  p.mask.kvPos = kp.data();
  EXPECT_TRUE(blockHasWork(p));
  p.mask.causal = true;
  EXPECT_TRUE(blockHasWork(p));
  p.mask.windowLeft = 5; // 11 - 5 < k  => k >= 7: nothing
  EXPECT_FALSE(blockHasWork(p));
  p.mask.windowLeft = 6; // query 8 sees key 3
  EXPECT_TRUE(blockHasWork(p));
  p.mask.windowLeft = 0;
  for (int i = 4; i < 12; ++i) docs[i] = 1; // disjoint documents
  p.mask.docIds = docs.data();
  p.mask.docLen = 12;
  EXPECT_FALSE(blockHasWork(p));
  docs[3] = 1; // key 3 joins the queries' document
  EXPECT_TRUE(blockHasWork(p));
  p.mask.kvPos = pads.data();
  EXPECT_FALSE(blockHasWork(p)); // all padding
  p.mask.kvPos = kp.data();
  p.stepCausal = StepCausal::Skip;
  EXPECT_FALSE(blockHasWork(p));
}
