//===- BalancerTest.cpp - Permutations, padding, shard / unshard ----------===//
#include "cprt/LoadBalancer.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace cprt;

TEST(Balancer, HeadTailMatchesTheReferenceOrder) {
  // [0,7,1,6,2,5,3,4] is the order for S = 8 with 2W = 8 chunks (W = 4).
  ShardLayout l = makeLayout(Balancer::HeadTail, 8, 4);
  EXPECT_EQ(l.localLen, 2);
  EXPECT_EQ(l.slotToPos, (std::vector<int64_t>{0, 7, 1, 6, 2, 5, 3, 4}));
  // W = 2: chunks of 2; rank 0 holds chunks 0 and 3, rank 1 chunks 1 and 2.
  ShardLayout m = makeLayout(Balancer::HeadTail, 8, 2);
  EXPECT_EQ(m.slotToPos, (std::vector<int64_t>{0, 1, 6, 7, 2, 3, 4, 5}));
}

TEST(Balancer, StripedAndNone) {
  ShardLayout s = makeLayout(Balancer::Striped, 8, 4);
  EXPECT_EQ(s.slotToPos, (std::vector<int64_t>{0, 4, 1, 5, 2, 6, 3, 7}));
  ShardLayout n = makeLayout(Balancer::None, 7, 2);
  EXPECT_EQ(n.localLen, 4);
  EXPECT_EQ(n.slotToPos, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, -1}));
}

TEST(Balancer, PaddingForLengthsNotDivisibleBy2W) {
  ShardLayout l = makeLayout(Balancer::HeadTail, 13, 3); // Sp = 18, c = 3
  EXPECT_EQ(l.localLen, 6);
  EXPECT_EQ(l.paddedLen(), 18);
  // 6 chunks of 3 slots for 13 tokens: chunk 0 gets 3, the others 2, each
  // padded at its end, so ranks hold 5, 4, 4 real tokens.
  EXPECT_EQ(l.slotToPos, (std::vector<int64_t>{0, 1, 2, 11, 12, -1,   //
                                               3, 4, -1, 9, 10, -1,   //
                                               5, 6, -1, 7, 8, -1}));
}

TEST(Balancer, EveryBalancerIsAPermutationWithInverse) {
  std::vector<int32_t> docs(41);
  for (int i = 0; i < 41; ++i) docs[i] = i < 3 ? 0 : i < 20 ? 1 : i < 21 ? 2 : 3;
  for (int W : {1, 2, 3, 4, 8})
    for (int b = 0; b < 5; ++b)
      for (int64_t S : {0, 1, 7, 16, 41}) {
        BalancerOptions o;
        o.docIds = docs.data();
        o.blockSize = 4;
        ShardLayout l = makeLayout(Balancer(b), S, W, o);
        ASSERT_EQ(int64_t(l.slotToPos.size()), l.paddedLen());
        std::vector<int> seen(S, 0);
        for (int64_t g = 0; g < l.paddedLen(); ++g)
          if (l.slotToPos[g] >= 0) {
            ++seen[l.slotToPos[g]];
            EXPECT_EQ(l.posToSlot[l.slotToPos[g]], g);
          }
        for (int64_t p = 0; p < S; ++p) EXPECT_EQ(seen[p], 1) << p;
      }
}

TEST(Balancer, PerDocumentNeedsNoDivisibilityAndStaysBalanced) {
  // Documents of odd lengths; W = 4 -> 2W = 8 chunks per document.
  std::vector<int32_t> docs;
  int d = 0;
  for (int len : {13, 7, 29, 3, 17}) docs.insert(docs.end(), len, d++);
  const int W = 4;
  ShardLayout l = makeLayout(Balancer::PerDocumentHeadTail, docs.size(), W,
                             {docs.data()});
  int64_t mn = INT64_MAX, mx = 0;
  for (int r = 0; r < W; ++r) {
    int64_t n = 0;
    for (int64_t i = 0; i < l.localLen; ++i) n += l.localPositions(r)[i] >= 0;
    mn = std::min(mn, n);
    mx = std::max(mx, n);
  }
  EXPECT_LE(mx - mn, 1) << "per-rank token counts differ by more than one";
  // Inside each document, rank r holds a head chunk and the mirrored tail.
  const int64_t *p0 = l.localPositions(0);
  EXPECT_EQ(p0[0], 0);
}

TEST(Balancer, PtrrDealsHeavyBlocksInSnakeOrder) {
  BalancerOptions o;
  o.blockSize = 2;
  ShardLayout l = makeLayout(Balancer::Ptrr, 16, 2, o); // 8 blocks, causal work
  // Sorted by work: 7 6 5 4 3 2 1 0 -> ranks 0 1 1 0 0 1 1 0.
  EXPECT_EQ(std::vector<int64_t>(l.slotToPos.begin(), l.slotToPos.begin() + 8),
            (std::vector<int64_t>{0, 1, 6, 7, 8, 9, 14, 15}));
}

TEST(Balancer, ShardUnshardRoundTripAnyDim) {
  // [2, S=11, 3] buffer sharded along dim 1, and a RoPE-like [S, 4] table.
  for (int b = 0; b < 4; ++b)
    for (int W : {1, 2, 3, 4}) {
      std::vector<int32_t> docs(11, 0);
      for (int i = 5; i < 11; ++i) docs[i] = 1;
      ShardLayout l = makeLayout(Balancer(b), 11, W, {docs.data()});
      for (int dim : {0, 1}) {
        std::vector<int64_t> shape = dim == 1 ? std::vector<int64_t>{2, 11, 3}
                                              : std::vector<int64_t>{11, 4};
        int64_t n = 1;
        for (auto s : shape) n *= s;
        std::vector<double> g(n), back(n, -1);
        std::iota(g.begin(), g.end(), 1.0);
        const int64_t localN = n / 11 * l.localLen;
        std::vector<double> gathered(localN * W);
        for (int r = 0; r < W; ++r)
          shardBuffer(g.data(), gathered.data() + r * localN, shape.data(),
                      int(shape.size()), dim, sizeof(double), l, r);
        unshardBuffer(gathered.data(), back.data(), shape.data(),
                      int(shape.size()), dim, sizeof(double), l);
        EXPECT_EQ(back, g) << balancerName(Balancer(b)) << " W=" << W;
      }
    }
}

TEST(Balancer, StepPlans) {
  // none: rank 2 of 4 -> causal, full, full, skip
  EXPECT_EQ(stepCausalFor(Balancer::None, true, 4, 2, 0), StepCausal::Causal);
  EXPECT_EQ(stepCausalFor(Balancer::None, true, 4, 2, 1), StepCausal::NotCausal);
  EXPECT_EQ(stepCausalFor(Balancer::None, true, 4, 2, 3), StepCausal::Skip);
  EXPECT_EQ(stepCausalFor(Balancer::HeadTail, true, 4, 2, 2), StepCausal::KvHeadHalf);
  EXPECT_EQ(stepCausalFor(Balancer::HeadTail, true, 4, 2, 3), StepCausal::QTailHalf);
  EXPECT_EQ(stepCausalFor(Balancer::Striped, true, 4, 2, 1), StepCausal::Causal);
  EXPECT_EQ(stepCausalFor(Balancer::Striped, true, 4, 2, 3), StepCausal::CausalStrict);
  EXPECT_EQ(stepCausalFor(Balancer::HeadTail, false, 4, 2, 3), StepCausal::NotCausal);
}
