//===- ScanTest.cpp - exscan collective and sequence scans on threads -----===//
#include "ScanCases.h"

#include "cprt/Context.h"
#include "cprt/Error.h"

#include <gtest/gtest.h>

using namespace cprt;

class ScanRanks : public ::testing::TestWithParam<int> {};

TEST_P(ScanRanks, MatchesTheSerialReference) {
  runThreadRanks(GetParam(), [](int, int) {
    EXPECT_EQ(test::runScanCases(*requireContext().comm), "");
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, ScanRanks, ::testing::Values(1, 2, 3, 4, 5, 8));

TEST(SeqScan, RefusesDataDependentBalancers) {
  runThreadRanks(2, [](int, int) {
    Communicator &c = *requireContext().comm;
    std::vector<int32_t> docs(8, 0);
    BalancerOptions o;
    o.docIds = docs.data();
    ShardLayout l = makeLayout(Balancer::PerDocumentHeadTail, 8, 2, o);
    std::vector<float> x(size_t(l.localLen), 1.f), y(x.size());
    try {
      seqScan(x.data(), y.data(), 1, 1, ScanType::F32, ScanKind::Sum, l, c);
      ADD_FAILURE() << "expected an error";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("per_document"), std::string::npos)
          << e.what();
    }
  });
}
