//===- UlyssesTest.cpp - seq<->heads all-to-all on thread ranks ----------===//
//
// Every rank builds its sequence shard of a known global tensor from the
// layout (as cp.shard would), runs seqToHeads and compares with the serial
// reference (its heads, every position in original order), then runs
// headsToSeq on that and expects its shard back (padding slots zero).
//
//===----------------------------------------------------------------------===//
#include "cprt/Context.h"
#include "cprt/Error.h"
#include "cprt/Ulysses.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace cprt;

namespace {

struct Case {
  Balancer balancer;
  int64_t seqLen;
  std::vector<int64_t> globalShape; // heads: headDim, sequence: seqDim
  int headDim, seqDim;
};

std::string describe(const Case &c, int W) {
  std::string s = std::string(balancerName(c.balancer)) + " S=" +
                  std::to_string(c.seqLen) + " W=" + std::to_string(W) +
                  " shape=[";
  for (int64_t d : c.globalShape) s += std::to_string(d) + ",";
  return s + "] head_dim=" + std::to_string(c.headDim) +
         " seq_dim=" + std::to_string(c.seqDim);
}

/// Value of the global tensor at a multi-index (distinct per element).
float valueAt(const std::vector<int64_t> &idx) {
  float v = 0;
  for (int64_t i : idx) v = v * 37.0f + float(i) + 1.0f;
  return v;
}

/// Fills `out` of shape `shape` with f(multi-index).
template <typename F>
void forEach(const std::vector<int64_t> &shape, F &&f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat;
    for (int i = int(shape.size()) - 1; i >= 0; --i) {
      idx[i] = rem % shape[i];
      rem /= shape[i];
    }
    f(flat, idx);
  }
}

void runCase(const Case &c, int rank, Communicator &comm) {
  int W = comm.size();
  ShardLayout layout = makeLayout(c.balancer, c.seqLen, W);
  std::vector<int64_t> localShape = c.globalShape;
  localShape[c.seqDim] = layout.localLen;
  std::vector<int64_t> headShape = c.globalShape;
  headShape[c.headDim] /= W;
  int64_t Hl = headShape[c.headDim];
  const int64_t *pos = layout.localPositions(rank);

  std::vector<float> local;
  forEach(localShape, [&](int64_t, std::vector<int64_t> idx) {
    int64_t p = pos[idx[c.seqDim]];
    if (p < 0) {
      local.push_back(-1.0f); // padding: garbage that must be dropped
      return;
    }
    idx[c.seqDim] = p;
    local.push_back(valueAt(idx));
  });
  std::vector<float> want;
  forEach(headShape, [&](int64_t, std::vector<int64_t> idx) {
    idx[c.headDim] += rank * Hl;
    want.push_back(valueAt(idx));
  });

  std::vector<float> heads(want.size(), 12345.0f);
  seqToHeads(local.data(), heads.data(), localShape.data(),
             int(localShape.size()), c.headDim, c.seqDim, sizeof(float),
             layout, comm);
  EXPECT_EQ(heads, want) << describe(c, W) << " rank " << rank;

  std::vector<float> back(local.size(), 12345.0f);
  headsToSeq(heads.data(), back.data(), localShape.data(),
             int(localShape.size()), c.headDim, c.seqDim, sizeof(float),
             layout, comm);
  std::vector<float> wantBack = local;
  for (float &x : wantBack)
    if (x == -1.0f) x = 0.0f; // padding slots come back zero
  EXPECT_EQ(back, wantBack) << describe(c, W) << " rank " << rank;
}

std::vector<Case> casesFor(int W) {
  std::vector<Case> cases;
  for (Balancer b : {Balancer::None, Balancer::HeadTail, Balancer::Striped}) {
    int64_t granule = b == Balancer::HeadTail ? 2 : 1;
    // Splits evenly, and (W > 1) one that needs padding.
    std::vector<int64_t> lens = {granule * W * 3};
    if (W > 1) lens.push_back(granule * W * 2 + 1);
    for (int64_t S : lens) {
      int64_t H = 2 * W;
      cases.push_back({b, S, {2, H, S, 3}, 1, 2});   // [B, H, S, D]
      cases.push_back({b, S, {2, H, S}, 1, 2});      // LSE [B, H, S]
      cases.push_back({b, S, {2, S, H, 3}, 2, 1});   // [B, S, H, D]
      cases.push_back({b, S, {H, 2, S, 1}, 0, 2});   // dims in between
    }
  }
  return cases;
}

class UlyssesRanks : public ::testing::TestWithParam<int> {};

TEST_P(UlyssesRanks, MatchesTheSerialReferenceAndRoundTrips) {
  int W = GetParam();
  runThreadRanks(W, [&](int rank, int) {
    Communicator &comm = *requireContext().comm;
    for (const Case &c : casesFor(W))
      runCase(c, rank, comm);
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, UlyssesRanks, ::testing::Values(1, 2, 3, 4));

TEST(Ulysses, RefusesHeadsThatDoNotSplit) {
  runThreadRanks(2, [](int, int) {
    Communicator &comm = *requireContext().comm;
    ShardLayout layout = makeLayout(Balancer::None, 4, 2);
    int64_t shape[4] = {1, 3, 2, 1};
    std::vector<float> x(6), y(6);
    try {
      seqToHeads(x.data(), y.data(), shape, 4, 1, 2, 4, layout, comm);
      ADD_FAILURE() << "expected an error";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("3 heads do not split over 2"),
                std::string::npos)
          << e.what();
    }
  });
}

} // namespace
