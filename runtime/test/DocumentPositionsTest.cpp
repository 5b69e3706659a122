//===- DocumentPositionsTest.cpp - per-document positions and shards ----===//
//
// The per-document positions of compiled code (cprt_compiler.h) on thread
// ranks: every rank's buffer must be cprt_layout's positions with padding
// slot j as S + j, the ranks' real positions together a permutation of
// 0..S-1, new ids under the same pointer must not be served from the cache,
// and a local length the layout does not have is a sticky, named error.
// cprt_c_{shard,unshard}_docs_f32 must agree with cprt_shard and round-trip.
//
//===----------------------------------------------------------------------===//
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace {

/// A contiguous 1-D memref descriptor.
struct Desc1 {
  void *allocated, *aligned;
  int64_t offset, size, stride;
};
Desc1 desc1(void *p, int64_t n) { return Desc1{p, p, 0, n, 1}; }
const cprt_memref *mr(const Desc1 &d) {
  return reinterpret_cast<const cprt_memref *>(&d);
}

/// A contiguous 2-D memref descriptor [n, 2].
struct Desc2 {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};
Desc2 desc2(void *p, int64_t n) { return Desc2{p, p, 0, {n, 2}, {2, 1}}; }
const cprt_memref *mr(const Desc2 &d) {
  return reinterpret_cast<const cprt_memref *>(&d);
}

/// Packed documents of lengths `lens`.
std::vector<int32_t> packed(const std::vector<int> &lens) {
  std::vector<int32_t> ids;
  for (size_t d = 0; d < lens.size(); ++d)
    ids.insert(ids.end(), size_t(lens[d]), int32_t(d));
  return ids;
}

constexpr int64_t kS = 64, kW = 3, kL = (kS + kW - 1) / kW;

struct Shared {
  std::mutex m;
  std::vector<int64_t> seen[2]; ///< real positions of every rank, per ids
  std::string failure;
};

/// This rank's positions for `ids` through the entry, checked against
/// cprt_layout; records the real ones in `seen`.
bool checkRank(std::vector<int32_t> &ids, std::vector<int64_t> &seen,
               Shared &s) {
  std::vector<int64_t> got(kL, -7), want(kL, -7);
  Desc1 d = desc1(ids.data(), kS), o = desc1(got.data(), kL);
  cprt_c_document_positions(1, mr(d), 1, mr(o), kS);
  int64_t len = 0;
  if (cprt_c_failed() ||
      cprt_layout(CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, kS, ids.data(), &len,
                  want.data()) != CPRT_OK ||
      len != kL)
    return false;
  std::lock_guard<std::mutex> lock(s.m);
  for (int64_t j = 0; j < kL; ++j) {
    int64_t expect = want[j] < 0 ? kS + j : want[j];
    if (got[j] != expect)
      return false;
    if (got[j] < kS)
      seen.push_back(got[j]);
  }
  return true;
}

int rankMain(int rank, int size, void *user) {
  auto &s = *static_cast<Shared *>(user);
  std::vector<int32_t> ids = packed({9, 23, 3, 29});
  if (!checkRank(ids, s.seen[0], s))
    return 1;
  // Same buffer, other documents: must not come from the cache.
  std::vector<int32_t> other = packed({40, 1, 23});
  std::copy(other.begin(), other.end(), ids.begin());
  if (!checkRank(ids, s.seen[1], s))
    return 2;
  // A local length the layout does not have.
  std::vector<int64_t> wrong(kL + 1);
  Desc1 d = desc1(ids.data(), kS), o = desc1(wrong.data(), kL + 1);
  cprt_c_document_positions(1, mr(d), 1, mr(o), kS);
  std::string err = cprt_c_failed() ? cprt_c_error() : "";
  cprt_c_clear_error();
  if (err.find("document_positions") == std::string::npos ||
      err.find("compiled for 23 local tokens") == std::string::npos) {
    std::lock_guard<std::mutex> lock(s.m);
    s.failure = "unexpected error: '" + err + "'";
    return 3;
  }
  return 0;
}

TEST(DocumentPositions, MatchesTheLayoutOnEveryRank) {
  Shared s;
  ASSERT_EQ(cprt_run_threads(int(kW), rankMain, &s, 0), CPRT_OK)
      << cprt_last_error() << " " << s.failure;
  for (std::vector<int64_t> &seen : s.seen) {
    std::sort(seen.begin(), seen.end());
    ASSERT_EQ(int64_t(seen.size()), kS);
    for (int64_t i = 0; i < kS; ++i)
      EXPECT_EQ(seen[size_t(i)], i);
  }
}

/// cprt_c_shard_docs_f32 then cprt_c_unshard_docs_f32 of a [S, 2] tensor:
/// the shard equals cprt_shard with the ids, the round trip the input.
int shardMain(int rank, int size, void *user) {
  auto &s = *static_cast<Shared *>(user);
  std::vector<int32_t> ids = packed({9, 23, 3, 29});
  std::vector<float> whole(kS * 2), local(kL * 2, -1.f), want(kL * 2, -2.f),
      back(kS * 2, 0.f);
  for (size_t i = 0; i < whole.size(); ++i)
    whole[i] = float(i) * 0.5f - 3.f;
  int64_t shape[3] = {1, kS, 2};
  Desc2 g = desc2(whole.data(), kS), l = desc2(local.data(), kL),
        b = desc2(back.data(), kS);
  Desc1 d = desc1(ids.data(), kS);
  cprt_c_shard_docs_f32(2, mr(g), 2, mr(l), 4, 0,
                        CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, 1, mr(d));
  cprt_c_unshard_docs_f32(2, mr(l), 2, mr(b), 4, 0,
                          CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, 1, mr(d));
  if (cprt_c_failed()) {
    std::lock_guard<std::mutex> lock(s.m);
    s.failure = cprt_c_error();
    return 1;
  }
  if (cprt_shard(whole.data(), want.data(), shape, 3, 1, 4,
                 CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, ids.data()) != CPRT_OK)
    return 2;
  return local == want && back == whole ? 0 : 3;
}

TEST(DocumentPositions, ShardDocsRoundTrips) {
  Shared s;
  ASSERT_EQ(cprt_run_threads(int(kW), shardMain, &s, 0), CPRT_OK)
      << cprt_last_error() << " " << s.failure;
}

} // namespace
