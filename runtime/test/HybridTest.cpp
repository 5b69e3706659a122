//===- HybridTest.cpp - Grid communicators and Ulysses x ring attention ---===//
//
// Communicator::split / makeGridComms on thread ranks (rows and columns of
// U x R grids, splits of splits, failures crossing groups), the hybrid
// layout, and the hybrid forward + backward against the float64 reference
// for U x R in {1x4, 4x1, 2x2, 2x3, 3x2, 2x4}, causal or not, GQA split and
// replicated, fp32 and bf16, sequence lengths that need padding.
//
//===----------------------------------------------------------------------===//
#include "HybridCases.h"

#include "cprt/Context.h"
#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

using namespace cprt;
using namespace cprt::test;

namespace {

void runOnThreads(int N, const std::function<std::string(Communicator &,
                                                          KernelBackend &)> &fn) {
  std::mutex mu;
  std::string errors;
  runThreadRanks(N, [&](int, int) {
    RankContext &ctx = requireContext();
    std::string m = fn(*ctx.comm, *ctx.backend);
    std::lock_guard<std::mutex> lock(mu);
    errors += m;
  });
  EXPECT_TRUE(errors.empty()) << errors;
}

void runCase(const HybridCase &c) {
  const HybridData d = makeHybridData(c);
  runOnThreads(c.U * c.R, [&](Communicator &w, KernelBackend &k) {
    return checkHybridRank(c, d, w, k);
  });
}

} // namespace

class GridShapes : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(GridShapes, RowAndColumnCommunicatorsMoveTheRightData) {
  auto [U, R] = GetParam();
  runOnThreads(U * R, [U = U](Communicator &w, KernelBackend &) {
    return checkGridComms(w, U);
  });
}

INSTANTIATE_TEST_SUITE_P(
    Grids, GridShapes,
    ::testing::Values(std::make_pair(2, 3), std::make_pair(3, 2),
                      std::make_pair(2, 4), std::make_pair(4, 1),
                      std::make_pair(1, 4), std::make_pair(1, 1),
                      std::make_pair(3, 3)),
    [](const auto &info) {
      return std::to_string(info.param.first) + "x" +
             std::to_string(info.param.second);
    });

TEST(Split, NegativeColorTakesPartButGetsNothing) {
  runOnThreads(5, [](Communicator &w, KernelBackend &) -> std::string {
    const int n = w.rank();
    auto c = w.split(n == 2 ? -1 : n % 2, 0);
    if (n == 2) return c ? "rank 2 got a communicator; " : "";
    if (!c) return "rank " + std::to_string(n) + " got none; ";
    if (c->size() != 2) return "wrong size; "; // {0, 4} and {1, 3}
    int sum = 0, x = n;
    std::vector<int> all(c->size());
    c->allGather(&x, all.data(), sizeof(int));
    for (int v : all) sum += v;
    return sum == 4 ? "" : "wrong members; ";
  });
}

TEST(Split, FailureInTheParentWakesWaitersInAChild) {
  // Rank 0 throws after the split; the others wait in their column's shift
  // and must fail promptly with rank 0's message, not time out.
  try {
    runThreadRanks(
        4,
        [](int r, int) {
          Communicator &w = *requireContext().comm;
          GridComms g = makeGridComms(w, 2);
          if (r == 0) throw Error(ErrorCode::Invalid, "boom on rank 0");
          int x = r, y;
          g.ring->shift(&x, &y, sizeof(int), 1);
          g.ulysses->shift(&x, &y, sizeof(int), 1);
        },
        /*timeoutMs=*/20000);
    FAIL() << "expected a failure";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("boom on rank 0"), std::string::npos)
        << e.what();
  }
}

TEST(Split, GridRejectsAUlyssesSizeThatDoesNotDivide) {
  EXPECT_THROW(runThreadRanks(6, [](int, int) {
                 makeGridComms(*requireContext().comm, 4);
               }),
               Error);
}

TEST(HybridLayout, WorldLayoutIsTheBalancersAndRingBlocksAreHeadTail) {
  // 2 x 3 grid, S = 27: the shards are makeLayout(head_tail, 27, 6)'s, and
  // every ring block holds whole chunk pairs (r, 2R-1-r) of 2R, in order.
  const int U = 2, R = 3;
  HybridLayout h = makeHybridLayout(Balancer::HeadTail, 27, U, R);
  ShardLayout w = makeLayout(Balancer::HeadTail, 27, U * R);
  EXPECT_EQ(h.world.slotToPos, w.slotToPos);
  EXPECT_EQ(h.ring.localLen, U * w.localLen);
  EXPECT_EQ(h.ring.balancer, Balancer::HeadTail);
  for (int r = 0; r < R; ++r) {
    const int64_t *p = h.ring.localPositions(r);
    std::vector<int64_t> real;
    for (int64_t i = 0; i < h.ring.localLen; ++i)
      if (p[i] >= 0) real.push_back(p[i]);
    EXPECT_TRUE(std::is_sorted(real.begin(), real.end())) << "ring rank " << r;
  }
  // Every position exactly once.
  std::vector<int> seen(27, 0);
  for (int64_t x : h.ring.slotToPos)
    if (x >= 0) ++seen[x];
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(makeHybridLayout(Balancer::Striped, 20, 2, 2).ring.balancer,
            Balancer::Ptrr); // masked by position
}

TEST(HybridLayout, GqaRules) {
  int64_t per, rep;
  hybridKvHeads(8, 4, 2, per, rep);
  EXPECT_EQ(per, 2);
  EXPECT_EQ(rep, 1);
  hybridKvHeads(8, 2, 4, per, rep);
  EXPECT_EQ(per, 1);
  EXPECT_EQ(rep, 2);
  EXPECT_THROW(hybridKvHeads(6, 2, 4, per, rep), Error); // Hq % U
  EXPECT_THROW(hybridKvHeads(12, 4, 3, per, rep), Error); // 4 vs 3
}

class HybridSweep
    : public ::testing::TestWithParam<std::tuple<std::pair<int, int>, bool>> {};

TEST_P(HybridSweep, MatchesGlobalReference) {
  auto [grid, causal] = GetParam();
  HybridCase c{grid.first, grid.second, causal};
  // Hq = 12 splits over U in {1, 2, 3, 4}; Hkv = 2 splits for U in {1, 2}
  // and is replicated for U = 4; U = 3 uses Hkv = 3 (split) or 1 (replicated).
  c.Hq = 12;
  c.Hkv = c.U == 3 ? 3 : 2;
  runCase(c);
  if (c.U == 3 || c.U == 2) {
    c.Hkv = 1; // replicated U times
    runCase(c);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Grids, HybridSweep,
    ::testing::Combine(::testing::Values(std::make_pair(1, 4),
                                         std::make_pair(4, 1),
                                         std::make_pair(2, 2),
                                         std::make_pair(2, 3),
                                         std::make_pair(3, 2),
                                         std::make_pair(2, 4)),
                       ::testing::Bool()),
    [](const auto &info) {
      return std::to_string(std::get<0>(info.param).first) + "x" +
             std::to_string(std::get<0>(info.param).second) +
             (std::get<1>(info.param) ? "_causal" : "_full");
    });

TEST(Hybrid, Bf16HeadTailCausal) {
  for (auto [U, R] : {std::make_pair(2, 2), std::make_pair(2, 3)}) {
    HybridCase c{U, R, true, DType::BF16};
    c.S = 40;
    c.Hq = 4;
    c.Hkv = 1;
    c.D = 16;
    runCase(c);
  }
}

TEST(Hybrid, OtherBalancersRotationsAndWindow) {
  for (Balancer b : {Balancer::None, Balancer::Striped}) {
    HybridCase c{2, 3, true};
    c.balancer = b;
    runCase(c);
  }
  for (RotateMethod m : {RotateMethod::AllGather, RotateMethod::AllToAll}) {
    HybridCase c{2, 2, true};
    c.rotate = m;
    runCase(c);
  }
  HybridCase w{3, 2, false};
  w.Hq = 6;
  w.Hkv = 3;
  w.window = 5;
  runCase(w);
  for (auto [U, R] : {std::make_pair(2, 3), std::make_pair(4, 1)}) {
    HybridCase m{U, R, true};
    m.masked = true; // per-head mask: rank u must read its own heads' rows
    m.Hq = 8;
    runCase(m);
  }
  HybridCase ex{2, 2, true}; // S a multiple of 2N: no padding
  ex.S = 32;
  ex.B = 2;
  runCase(ex);
}

TEST(Hybrid, RejectsHeadsThatDoNotSplit) {
  HybridCase c{4, 1, false};
  c.Hq = 6; // 6 % 4
  c.Hkv = 2;
  HybridData d = makeHybridData(c);
  EXPECT_THROW(runThreadRanks(4,
                              [&](int, int) {
                                RankContext &ctx = requireContext();
                                checkHybridRank(c, d, *ctx.comm, *ctx.backend);
                              }),
               Error);
}

namespace {
/// A ranked memref descriptor as compiled code passes it.
struct Desc {
  void *allocated, *aligned;
  int64_t offset, sizes[4], strides[4];
};
Desc desc(void *p, int64_t b, int64_t h, int64_t s, int64_t d) {
  return {p, p, 0, {b, h, s, d}, {h * s * d, s * d, d, 1}};
}
const cprt_memref *mr(const Desc &d) {
  return reinterpret_cast<const cprt_memref *>(&d);
}
} // namespace

TEST(HybridCApi, MatchesTheRuntimeAndReportsBadGrids) {
  HybridCase c{2, 2, true};
  c.Hq = 4;
  c.Hkv = 1;
  const HybridData d = makeHybridData(c);
  const int64_t S = c.seqLen();
  std::mutex mu;
  std::string errors;
  runThreadRanks(4, [&](int n, int) {
    RankContext &ctx = requireContext();
    const HybridLayout hl = makeHybridLayout(c.balancer, S, 2, 2);
    const int64_t L = hl.world.localLen, B = c.B, Hq = c.Hq, Hkv = c.Hkv, D = c.D;
    const int64_t shQ[4] = {B, Hq, S, D}, shK[4] = {B, Hkv, S, D};
    std::vector<float> q(B * Hq * L * D), k(B * Hkv * L * D), v(k.size()),
        g(q.size()), out(q.size()), out2(q.size()), lse(B * Hq * L),
        lse2(lse.size()), dq(q.size()), dk(k.size()), dv(k.size()),
        dq2(q.size()), dk2(k.size()), dv2(k.size());
    shardBuffer(d.q.f32.data(), q.data(), shQ, 4, 2, 4, hl.world, n);
    shardBuffer(d.k.f32.data(), k.data(), shK, 4, 2, 4, hl.world, n);
    shardBuffer(d.v.f32.data(), v.data(), shK, 4, 2, 4, hl.world, n);
    shardBuffer(d.g.f32.data(), g.data(), shQ, 4, 2, 4, hl.world, n);
    Desc dQ = desc(q.data(), B, Hq, L, D), dK = desc(k.data(), B, Hkv, L, D),
         dV = desc(v.data(), B, Hkv, L, D), dG = desc(g.data(), B, Hq, L, D),
         dO = desc(out.data(), B, Hq, L, D), dL = desc(lse.data(), 1, B, Hq, L),
         dDq = desc(dq.data(), B, Hq, L, D), dDk = desc(dk.data(), B, Hkv, L, D),
         dDv = desc(dv.data(), B, Hkv, L, D);
    const int32_t flags = CPRT_C_CAUSAL | CPRT_C_HAS_LSE;
    cprt_c_hybrid_fwd_f32(4, mr(dQ), 4, mr(dK), 4, mr(dV), 4, mr(dO), 4,
                          mr(dL), 0.0, flags, CPRT_ROTATE_RING,
                          CPRT_BALANCE_HEAD_TAIL, S, 0, 2, 2);
    cprt_c_hybrid_bwd_f32(4, mr(dG), 4, mr(dQ), 4, mr(dK), 4, mr(dV), 4,
                          mr(dO), 4, mr(dL), 4, mr(dDq), 4, mr(dDk), 4,
                          mr(dDv), 0.0, flags, CPRT_ROTATE_RING,
                          CPRT_BALANCE_HEAD_TAIL, S, 0, 2, 2);
    std::string m = cprt_c_failed() ? std::string(cprt_c_error()) : "";
    GridComms grid = makeGridComms(*ctx.comm, 2);
    AttentionShape local{B, Hq, Hkv, L, L, D};
    hybridAttentionForward(grid, *ctx.backend, hl, d.opts, local, DType::F32,
                           q.data(), k.data(), v.data(), out2.data(), lse2.data());
    hybridAttentionBackward(grid, *ctx.backend, hl, d.opts, local, DType::F32,
                            g.data(), q.data(), k.data(), v.data(), out2.data(),
                            lse2.data(), dq2.data(), dk2.data(), dv2.data());
    if (out != out2 || lse != lse2 || dq != dq2 || dk != dk2 || dv != dv2)
      m += "rank " + std::to_string(n) + ": C ABI results differ; ";
    // A grid that does not cover the ranks is a sticky error, not a crash.
    cprt_c_hybrid_fwd_f32(4, mr(dQ), 4, mr(dK), 4, mr(dV), 4, mr(dO), 4,
                          mr(dL), 0.0, flags, CPRT_ROTATE_RING,
                          CPRT_BALANCE_HEAD_TAIL, S, 0, 3, 2);
    if (!cprt_c_failed() ||
        std::string(cprt_c_error()).find("3 x 2 grid") == std::string::npos)
      m += "rank " + std::to_string(n) + ": no grid error; ";
    cprt_c_clear_error();
    std::lock_guard<std::mutex> lock(mu);
    errors += m;
  });
  EXPECT_TRUE(errors.empty()) << errors;
}
