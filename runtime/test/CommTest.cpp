//===- CommTest.cpp - Thread communicator: collectives and failures -------===//
#include "cprt/Communicator.h"
#include "cprt/Context.h"
#include "cprt/Error.h"

#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <thread>

using namespace cprt;

class CommSizes : public ::testing::TestWithParam<int> {};

TEST_P(CommSizes, CollectivesDeliverTheRightBlocks) {
  const int W = GetParam();
  runThreadRanks(W, [](int r, int W) {
    Communicator &c = *requireContext().comm;
    ASSERT_EQ(c.rank(), r);
    ASSERT_EQ(c.size(), W);
    // Shift by 1 and by 2, started together, waited in reverse order.
    std::vector<int> s1(5, r * 10 + 1), s2(5, r * 10 + 2), r1(5, -1), r2(5, -1);
    auto a = c.startShift(s1.data(), r1.data(), 5 * sizeof(int), 1);
    auto b = c.startShift(s2.data(), r2.data(), 5 * sizeof(int), 2);
    b->wait();
    a->wait();
    EXPECT_EQ(r1[4], ((r - 1 + W) % W) * 10 + 1);
    EXPECT_EQ(r2[0], ((r - 2 + 2 * W) % W) * 10 + 2);
    // All-gather.
    std::vector<int> g(3 * W);
    int mine[3] = {r, r + 100, r + 200};
    c.allGather(mine, g.data(), sizeof mine);
    for (int s = 0; s < W; ++s) EXPECT_EQ(g[3 * s + 1], s + 100);
    // All-to-all: block j goes to rank j.
    std::vector<int> send(W), recv(W);
    for (int j = 0; j < W; ++j) send[j] = r * 1000 + j;
    c.allToAll(send.data(), recv.data(), sizeof(int));
    for (int s = 0; s < W; ++s) EXPECT_EQ(recv[s], s * 1000 + r);
    // Shift through all-to-all.
    int x = r, y = -1;
    c.startShiftViaAllToAll(&x, &y, sizeof(int), 1)->wait();
    EXPECT_EQ(y, (r - 1 + W) % W);
    // Reduce-scatter: rank r gets sum over ranks of their block r.
    std::vector<float> rs(4 * W), out(4);
    for (int j = 0; j < 4 * W; ++j) rs[j] = float(r + 1) * float(j);
    c.reduceScatterSumF32(rs.data(), out.data(), 4);
    const float tot = float(W * (W + 1) / 2);
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], tot * float(4 * r + i));
    c.barrier();
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, CommSizes, ::testing::Values(1, 2, 3, 4, 8));

TEST(Comm, ThrowingPeerFailsOthersPromptlyWithItsRank) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    runThreadRanks(
        4,
        [](int r, int) {
          Communicator &c = *requireContext().comm;
          if (r == 2) throw Error(ErrorCode::Internal, "rank 2 broke on purpose");
          int x = r, y;
          c.shift(&x, &y, sizeof x); // rank 3 waits on rank 2 forever
          c.barrier();
        },
        /*timeoutMs=*/30000);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("rank 2 broke"), std::string::npos)
        << e.what();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 5000) << "failure must propagate long before the timeout";
}

TEST(Comm, SilentPeerTimesOutNamingRankAndOperation) {
  std::string msg;
  ErrorCode code = ErrorCode::Ok;
  try {
    runThreadRanks(
        2,
        [](int r, int) {
          Communicator &c = *requireContext().comm;
          if (r == 1) { // alive but never joins the collective in time
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            return;
          }
          int x = 0, y;
          c.shift(&x, &y, sizeof x);
        },
        /*timeoutMs=*/200);
  } catch (const Error &e) {
    msg = e.what();
    code = e.code();
  }
  EXPECT_EQ(code, ErrorCode::Timeout) << msg;
  EXPECT_NE(msg.find("rank 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ring_shift"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 1"), std::string::npos) << msg;
}

TEST(Comm, PeerThatExitedEarlyIsAnErrorNotAHang) {
  std::string msg;
  try {
    runThreadRanks(
        3,
        [](int r, int) {
          if (r == 0) return; // leaves without taking part
          std::vector<float> a(3), b(1);
          requireContext().comm->reduceScatterSumF32(a.data(), b.data(), 1);
        },
        /*timeoutMs=*/60000);
  } catch (const Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("exited"), std::string::npos) << msg;
  EXPECT_NE(msg.find("reduce_scatter"), std::string::npos) << msg;
}

TEST(Comm, TimeoutFromEnvironmentDefault) {
  setenv("CPRT_TIMEOUT_MS", "1234", 1);
  EXPECT_EQ(Communicator::defaultTimeoutMs(), 1234);
  unsetenv("CPRT_TIMEOUT_MS");
  EXPECT_EQ(Communicator::defaultTimeoutMs(), 60000);
}
