//===- CostModelTest.cpp - the strategy cost model ------------------------===//
//
// Legality, the formulas of docs/design.md ("Cost model") against numbers
// computed by hand, and monotonicity: more bandwidth or a faster kernel is
// never slower, a causal mask never costs more than none, balancing never
// loses to contiguous blocks.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/CostModel.h"

#include <gtest/gtest.h>

using namespace mlir::cp::cost;

namespace {

Attention bigAttention(MaskKind mask = MaskKind::full) {
  Attention a;
  a.batch = 1;
  a.qHeads = a.kvHeads = 16;
  a.seqLen = 32768;
  a.headDim = 128;
  a.elementBytes = 2;
  a.mask = mask;
  return a;
}

Topology h200() { return *builtinTopology("h200-nvlink"); }

constexpr Strategy kSweptStrategies[] = {Strategy::ring, Strategy::alltoall,
                                         Strategy::allgather,
                                         Strategy::ulysses, Strategy::hybrid};

TEST(CostModel, BuiltinTopologies) {
  for (const std::string &name : builtinTopologyNames()) {
    std::optional<Topology> t = builtinTopology(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(t->name, name);
    EXPECT_GT(t->linkGBps, 0);
    EXPECT_GT(t->kernelTflops, 0);
    EXPECT_GT(t->memoryGBps, 0);
  }
  EXPECT_FALSE(builtinTopology("tpu").has_value());
}

TEST(CostModel, UlyssesLegality) {
  std::string why;
  EXPECT_TRUE(ulyssesLegal(16, 16, 4));
  EXPECT_TRUE(ulyssesLegal(16, 4, 8));  // KV replicated twice
  EXPECT_TRUE(ulyssesLegal(16, 2, 4));
  EXPECT_TRUE(ulyssesLegal(32, 8, 8));
  EXPECT_TRUE(ulyssesLegal(5, 1, 1)); // one rank: anything
  EXPECT_FALSE(ulyssesLegal(12, 4, 8, &why));
  EXPECT_NE(why.find("12 query heads do not divide over 8"), std::string::npos)
      << why;
  EXPECT_FALSE(ulyssesLegal(16, 16, 3));
  EXPECT_FALSE(ulyssesLegal(16, 6, 4, &why));
  EXPECT_NE(why.find("6 key/value heads"), std::string::npos) << why;

  Attention a = bigAttention();
  a.qHeads = 12;
  a.kvHeads = 4;
  Prediction p = predict(a, Strategy::ulysses, 8, Balance::head_tail, h200());
  EXPECT_FALSE(p.legal);
  EXPECT_TRUE(predict(a, Strategy::ring, 8, Balance::head_tail, h200()).legal);
}

// Single device: 20 us + 4·16·32768²·128 FLOP at 280 TFLOP/s.
TEST(CostModel, SingleDeviceByHand) {
  Attention a = bigAttention();
  EXPECT_NEAR(attentionFlops(a), 8.796093022208e12, 1e3);
  for (Strategy s : kAllStrategies)
    EXPECT_NEAR(predict(a, s, 1, Balance::head_tail, h200()).totalUs,
                31434.618, 0.01)
        << strategyName(s);
  a.direction = Direction::backward;
  EXPECT_NEAR(attentionFlops(a), 2.5 * 8.796093022208e12, 1e3);
}

// Ring, 4 ranks, full mask: L = 8192; per step a block of
// 4·16·8192²·128 FLOP = 1983.414 us, the KV shift 2·16·8192·128·2 B at
// 400 GB/s + 10 us = 177.772 us (hidden), a merge of 16·8192·(128·10+8) B
// at 4 TB/s = 42.205 us: 4 · 1983.414 + 4 · 42.205.
TEST(CostModel, RingByHand) {
  Attention a = bigAttention();
  Prediction p = predict(a, Strategy::ring, 4, Balance::head_tail, h200());
  EXPECT_NEAR(p.totalUs, 8102.475, 0.01);
  EXPECT_NEAR(p.commUs, 3 * 177.772, 0.01);
  EXPECT_NEAR(p.mergeUs, 4 * 42.205, 0.01);
  // Causal without balancing: the last rank does half a block then three
  // full ones.
  a.mask = MaskKind::causal;
  Prediction none = predict(a, Strategy::ring, 4, Balance::none, h200());
  EXPECT_NEAR(none.totalUs, 7120.768, 0.01);
  Prediction ht = predict(a, Strategy::ring, 4, Balance::head_tail, h200());
  EXPECT_LT(ht.totalUs, none.totalUs);
}

// Ulysses on 2 CPU thread ranks, causal f32 B=1 H=8 S=2048 D=64: four
// all-to-alls of 8·1024·64·4 B, half of which leaves, at 10 GB/s · 0.8 plus
// 5 us = 136.072 us each; local attention 4·8·2048²·64/2/2 FLOP at
// 50 GFLOP/s + 10 us.
TEST(CostModel, UlyssesByHand) {
  Attention a;
  a.qHeads = a.kvHeads = 8;
  a.seqLen = 2048;
  a.headDim = 64;
  a.elementBytes = 4;
  a.mask = MaskKind::causal;
  Prediction p = predict(a, Strategy::ulysses, 2, Balance::head_tail,
                         *builtinTopology("cpu"));
  ASSERT_TRUE(p.legal);
  EXPECT_NEAR(p.commUs, 4 * 136.072, 0.001);
  EXPECT_NEAR(p.totalUs, 43503.961, 0.01);
}

TEST(CostModel, HybridLegality) {
  std::string why;
  EXPECT_TRUE(hybridLegal(16, 16, 8, 2));
  EXPECT_TRUE(hybridLegal(16, 4, 8, 4));
  EXPECT_TRUE(hybridLegal(16, 2, 16, 4)); // KV replicated twice per group
  EXPECT_FALSE(hybridLegal(16, 16, 8, 8, &why)); // U = N is Ulysses
  EXPECT_NE(why.find("does not split 8 ranks"), std::string::npos) << why;
  EXPECT_FALSE(hybridLegal(16, 16, 8, 1)); // U = 1 is the ring
  EXPECT_FALSE(hybridLegal(16, 16, 6, 4)); // 4 does not divide 6
  EXPECT_FALSE(hybridLegal(12, 12, 16, 8, &why));
  EXPECT_NE(why.find("12 query heads do not divide over 8"), std::string::npos)
      << why;
  Attention a = bigAttention();
  a.qHeads = a.kvHeads = 5;
  Prediction p = bestHybrid(a, 8, Balance::head_tail, h200());
  EXPECT_FALSE(p.legal);
  EXPECT_NE(p.whyIllegal.find("no Ulysses group size"), std::string::npos);
  // Two ranks leave no hybrid (U would have to be 1 or 2).
  EXPECT_FALSE(bestHybrid(bigAttention(), 2, Balance::head_tail, h200()).legal);
}

// The hybrid is its two parts: the group all-to-alls of S/N tokens per rank
// over U ranks, then a ring of N/U ranks over Hq/U heads.
TEST(CostModel, HybridIsItsParts) {
  Attention a = bigAttention(MaskKind::causal);
  Topology t = h200();
  Prediction h = predictHybrid(a, 8, 2, Balance::head_tail, t);
  ASSERT_TRUE(h.legal);
  EXPECT_EQ(h.ulyssesSize, 2);
  EXPECT_EQ(predictionName(h), "hybrid(U=2)");
  Attention ra = a;
  ra.qHeads = ra.kvHeads = 8;
  Prediction ring = predict(ra, Strategy::ring, 4, Balance::head_tail, t);
  // Ulysses over 2 ranks of 4096 tokens each: q, k, v there, out back.
  double bytes = 16.0 * 4096 * 128 * 2;
  double a2a = t.latencyUs + bytes / 2 / (t.linkGBps * t.allToAllEfficiency * 1e3);
  EXPECT_NEAR(h.totalUs, ring.totalUs + 4 * a2a, 1e-6);
  EXPECT_NEAR(h.computeUs, ring.computeUs, 1e-9);
}

// Across nodes (16 ranks of h100-ib, two nodes of 8) Ulysses inside the
// node and the ring between nodes beat both pure strategies, with U = 8.
TEST(CostModel, HybridWinsAcrossNodes) {
  Attention a = bigAttention();
  Topology ib = *builtinTopology("h100-ib");
  Prediction h = bestHybrid(a, 16, Balance::head_tail, ib);
  ASSERT_TRUE(h.legal);
  EXPECT_EQ(h.ulyssesSize, 8);
  EXPECT_LT(h.totalUs,
            predict(a, Strategy::ring, 16, Balance::head_tail, ib).totalUs);
  EXPECT_LT(h.totalUs,
            predict(a, Strategy::ulysses, 16, Balance::head_tail, ib).totalUs);
  std::vector<Prediction> all = predictAll(a, 16, Balance::head_tail, ib);
  ASSERT_EQ(all.size(), std::size(kAllStrategies) + 1);
  EXPECT_EQ(all.back().strategy, Strategy::hybrid);
}

std::vector<Attention> sweep() {
  std::vector<Attention> out;
  for (int64_t s : {1024, 8192, 65536})
    for (MaskKind m : {MaskKind::full, MaskKind::causal})
      for (Direction d : {Direction::forward, Direction::backward})
        for (int64_t hkv : {2, 8, 32}) {
          Attention a;
          a.qHeads = 32;
          a.kvHeads = hkv;
          a.seqLen = s;
          a.headDim = 128;
          a.mask = m;
          a.direction = d;
          out.push_back(a);
        }
  return out;
}

TEST(CostModel, MonotonicInMachine) {
  for (const std::string &name : builtinTopologyNames()) {
    Topology base = *builtinTopology(name);
    for (const Attention &a : sweep())
      for (int64_t n : {1, 2, 4, 8, 16})
        for (Strategy s : kSweptStrategies) {
          Prediction p = predict(a, s, n, Balance::head_tail, base);
          if (!p.legal)
            continue;
          Topology faster = base;
          faster.linkGBps *= 2;
          faster.interNodeGBps *= 2;
          EXPECT_LE(predict(a, s, n, Balance::head_tail, faster).totalUs,
                    p.totalUs + 1e-9);
          faster = base;
          faster.allToAllEfficiency = std::min(1.0, base.allToAllEfficiency * 1.2);
          EXPECT_LE(predict(a, s, n, Balance::head_tail, faster).totalUs,
                    p.totalUs + 1e-9);
          faster = base;
          faster.kernelTflops *= 2;
          EXPECT_LE(predict(a, s, n, Balance::head_tail, faster).totalUs,
                    p.totalUs + 1e-9);
          faster = base;
          faster.latencyUs /= 2;
          faster.interNodeLatencyUs /= 2;
          EXPECT_LE(predict(a, s, n, Balance::head_tail, faster).totalUs,
                    p.totalUs + 1e-9);
          faster = base;
          faster.memoryGBps *= 2;
          EXPECT_LE(predict(a, s, n, Balance::head_tail, faster).totalUs,
                    p.totalUs + 1e-9);
        }
  }
}

TEST(CostModel, MonotonicInProblem) {
  Topology t = h200();
  for (Attention a : sweep())
    for (int64_t n : {2, 4, 8, 16})
      for (Strategy s : kSweptStrategies) {
        Prediction full = predict(a, s, n, Balance::head_tail, t);
        if (!full.legal)
          continue;
        // A causal mask never costs more than none, balancing never loses
        // to contiguous blocks, a longer sequence is never faster.
        Attention c = a;
        c.mask = MaskKind::causal;
        Attention f = a;
        f.mask = MaskKind::full;
        EXPECT_LE(predict(c, s, n, Balance::head_tail, t).totalUs,
                  predict(f, s, n, Balance::head_tail, t).totalUs + 1e-9);
        EXPECT_LE(predict(c, s, n, Balance::head_tail, t).totalUs,
                  predict(c, s, n, Balance::none, t).totalUs + 1e-9);
        Attention longer = a;
        longer.seqLen *= 2;
        EXPECT_GE(predict(longer, s, n, Balance::head_tail, t).totalUs,
                  full.totalUs);
        // Fewer KV heads (GQA) never make a strategy slower.
        if (a.kvHeads > 2 && a.kvHeads % 2 == 0) {
          Attention gqa = a;
          gqa.kvHeads /= 2;
          Prediction g = predict(gqa, s, n, Balance::head_tail, t);
          if (g.legal)
            EXPECT_LE(g.totalUs, full.totalUs + 1e-9) << strategyName(s);
        }
      }
}

// Ulysses wins when compute is slow and the all-to-all cheap against the
// ring's steps (many heads, short sequence per rank); the ring when the
// heads do not divide.
TEST(CostModel, ChoosesAsExpected) {
  Attention a;
  a.qHeads = a.kvHeads = 32;
  a.seqLen = 4096;
  a.headDim = 128;
  Topology t = h200();
  EXPECT_LT(predict(a, Strategy::ulysses, 8, Balance::head_tail, t).totalUs,
            predict(a, Strategy::ring, 8, Balance::head_tail, t).totalUs);
  // Across nodes (16 ranks of h100-ib) the ring's overlapped shifts beat
  // all-to-alls over InfiniBand for long sequences.
  Attention big = bigAttention();
  Topology ib = *builtinTopology("h100-ib");
  EXPECT_TRUE(predict(big, Strategy::ring, 16, Balance::head_tail, ib).legal);
}

} // namespace
