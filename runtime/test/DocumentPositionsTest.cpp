//===- DocumentPositionsTest.cpp - cprt_c_document_positions ---------------===//
//
// The per-document positions of compiled code (cprt_compiler.h) on thread
// ranks: every rank's buffer must be cprt_layout's positions with padding
// slot j as S + j, the ranks' real positions together a permutation of
// 0..S-1, new ids under the same pointer must not be served from the cache,
// and a local length the layout does not have is a sticky, named error.
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

} // namespace
