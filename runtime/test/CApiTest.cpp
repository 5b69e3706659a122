//===- CApiTest.cpp - The C ABI end to end --------------------------------===//
#include "Reference.h"

#include "cprt/cprt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace cprt::test;

namespace {

struct Shared {
  int64_t B = 1, H = 2, S = 21, D = 8;
  std::vector<float> q, k, v, g, out, dq, dk, dv;
  int failures = 0;
};

int rankMain(int rank, int size, void *user) {
  Shared &s = *static_cast<Shared *>(user);
  int64_t L = 0;
  if (cprt_layout(CPRT_BALANCE_HEAD_TAIL, s.S, nullptr, &L, nullptr)) return 1;
  const int64_t shape[4] = {s.B, s.H, s.S, s.D};
  const size_t n = size_t(s.B * s.H * L * s.D);
  std::vector<float> q(n), k(n), v(n), g(n), o(n), dq(n), dk(n), dv(n),
      lse(s.B * s.H * L);
  for (auto [src, dst] : {std::pair{&s.q, &q}, std::pair{&s.k, &k},
                          std::pair{&s.v, &v}, std::pair{&s.g, &g}})
    if (int rc = cprt_shard(src->data(), dst->data(), shape, 4, 2, 4,
                            CPRT_BALANCE_HEAD_TAIL, nullptr))
      return rc;
  if (int rc = cprt_ring_attention_fwd(CPRT_F32, s.B, s.H, s.H, L, s.D,
                                       q.data(), k.data(), v.data(), o.data(),
                                       lse.data(), 0.f, 1, CPRT_ROTATE_RING,
                                       CPRT_BALANCE_HEAD_TAIL, s.S, nullptr))
    return rc;
  if (int rc = cprt_ring_attention_bwd(
          CPRT_F32, s.B, s.H, s.H, L, s.D, g.data(), q.data(), k.data(),
          v.data(), o.data(), lse.data(), dq.data(), dk.data(), dv.data(), 0.f,
          1, CPRT_ROTATE_RING, CPRT_BALANCE_HEAD_TAIL, s.S, nullptr))
    return rc;
  // Every rank receives the full unsharded results; rank 0 keeps them.
  for (auto [src, dst] : {std::pair{&o, &s.out}, std::pair{&dq, &s.dq},
                          std::pair{&dk, &s.dk}, std::pair{&dv, &s.dv}}) {
    std::vector<float> full(s.B * s.H * s.S * s.D);
    if (int rc = cprt_unshard(src->data(), full.data(), shape, 4, 2, 4,
                              CPRT_BALANCE_HEAD_TAIL, nullptr))
      return rc;
    if (rank == 0) *dst = full;
  }
  return cprt_barrier();
}

} // namespace

TEST(CApi, RingThroughTheCAbiMatchesLocalSdpa) {
  Shared s;
  std::mt19937_64 rng(5);
  const size_t n = s.B * s.H * s.S * s.D;
  for (auto *x : {&s.q, &s.k, &s.v, &s.g}) {
    Buffer b = randomBuffer(cprt::DType::F32, n, rng);
    *x = b.f32;
  }
  ASSERT_EQ(cprt_run_threads(3, rankMain, &s, 0), CPRT_OK) << cprt_last_error();
  // Local SDPA on the whole sequence through the same ABI.
  std::vector<float> o(n), lse(s.B * s.H * s.S), dq(n), dk(n), dv(n);
  ASSERT_EQ(cprt_sdpa_fwd(CPRT_F32, s.B, s.H, s.H, s.S, s.S, s.D, s.q.data(),
                          s.k.data(), s.v.data(), o.data(), lse.data(), 0.f, 1,
                          nullptr),
            CPRT_OK);
  ASSERT_EQ(cprt_sdpa_bwd(CPRT_F32, s.B, s.H, s.H, s.S, s.S, s.D, s.g.data(),
                          s.q.data(), s.k.data(), s.v.data(), o.data(),
                          lse.data(), dq.data(), dk.data(), dv.data(), 0.f, 1,
                          nullptr),
            CPRT_OK);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(s.out[i], o[i], 2e-5) << i;
    ASSERT_NEAR(s.dq[i], dq[i], 4e-5) << i;
    ASSERT_NEAR(s.dk[i], dk[i], 4e-5) << i;
    ASSERT_NEAR(s.dv[i], dv[i], 4e-5) << i;
  }
}

TEST(CApi, BlockAttentionAndMerge) {
  const int64_t S = 16, D = 4;
  std::mt19937_64 rng(8);
  std::vector<float> q = randomBuffer(cprt::DType::F32, S * D, rng).f32,
                     k = randomBuffer(cprt::DType::F32, S * D, rng).f32,
                     v = randomBuffer(cprt::DType::F32, S * D, rng).f32;
  std::vector<float> o1(S * D), l1(S), o2(S * D), l2(S), o(S * D), l(S);
  // Head-tail style split: kv_head_half then the other half via a mask.
  ASSERT_EQ(cprt_block_attention_fwd(CPRT_F32, 1, 1, 1, S, S, D, q.data(),
                                     k.data(), v.data(), o1.data(), l1.data(),
                                     0.f, CPRT_KV_HEAD_HALF, nullptr), CPRT_OK);
  ASSERT_EQ(cprt_block_attention_fwd(CPRT_F32, 1, 1, 1, S, S / 2, D, q.data(),
                                     k.data() + S / 2 * D, v.data() + S / 2 * D,
                                     o2.data(), l2.data(), 0.f, CPRT_NOT_CAUSAL,
                                     nullptr), CPRT_OK);
  ASSERT_EQ(cprt_merge_partial(o1.data(), l1.data(), o2.data(), l2.data(), S, D),
            CPRT_OK);
  ASSERT_EQ(cprt_block_attention_fwd(CPRT_F32, 1, 1, 1, S, S, D, q.data(),
                                     k.data(), v.data(), o.data(), l.data(),
                                     0.f, CPRT_NOT_CAUSAL, nullptr), CPRT_OK);
  for (int64_t i = 0; i < S * D; ++i) EXPECT_NEAR(o1[i], o[i], 2e-6);
  for (int64_t i = 0; i < S; ++i) EXPECT_NEAR(l1[i], l[i], 2e-6);
}

TEST(CApi, ErrorsAreCodesWithMessagesNeverExceptions) {
  float x[4] = {};
  EXPECT_EQ(cprt_sdpa_fwd(cprt_dtype(7), 1, 1, 1, 1, 1, 4, x, x, x, x, nullptr,
                          0.f, 0, nullptr),
            CPRT_ERR_INVALID);
  EXPECT_NE(std::string(cprt_last_error()).find("dtype"), std::string::npos);
  EXPECT_EQ(cprt_sdpa_fwd(CPRT_F32, 1, 3, 2, 1, 1, 4, x, x, x, x, nullptr, 0.f,
                          0, nullptr),
            CPRT_ERR_INVALID);
  EXPECT_NE(std::string(cprt_last_error()).find("multiple"), std::string::npos);
  // No rank context on this thread.
  EXPECT_EQ(cprt_rank(), -1);
  EXPECT_EQ(cprt_barrier(), CPRT_ERR_INVALID);
  EXPECT_NE(std::string(cprt_last_error()).find("context"), std::string::npos);
  // A rank that fails: the launcher returns its error, naming it.
  auto failing = [](int rank, int, void *) -> int {
    if (rank == 1) return 4;
    return cprt_barrier();
  };
  EXPECT_NE(cprt_run_threads(2, failing, nullptr, 10000), CPRT_OK);
  EXPECT_NE(std::string(cprt_last_error()).find("rank 1"), std::string::npos)
      << cprt_last_error();
  EXPECT_EQ(cprt_init_local(), CPRT_OK);
  EXPECT_EQ(cprt_size(), 1);
  EXPECT_EQ(cprt_barrier(), CPRT_OK);
}

// Thread creation failing part-way must give an error naming the rank
// count, not std::terminate on the threads already started. Here 1 GiB
// default thread stacks under an address-space limit of 3.5 GiB more than
// in use: three ranks start, the fourth cannot, and half a GiB is left for
// everything else.
TEST(CApi, ThreadStartFailureIsAnError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto body = [] {
    long pages = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, size_t(1) << 30);
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max =
        rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + (rlim_t(7) << 29);
    if (pages == 0 || pthread_setattr_default_np(&attr) != 0 ||
        setrlimit(RLIMIT_AS, &lim) != 0)
      std::_Exit(2);
    auto barrier = [](int, int, void *) -> int { return cprt_barrier(); };
    cprt_status st = cprt_run_threads(4096, barrier, nullptr, 60000);
    std::fprintf(stderr, "%s\n", cprt_last_error());
    std::_Exit(st == CPRT_OK ? 1 : 7);
  };
  EXPECT_EXIT(body(), testing::ExitedWithCode(7),
              "cannot start the thread of rank [0-9]+ of 4096 thread ranks");
}
