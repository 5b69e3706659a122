//===- DocumentPositions.cpp - per-document positions for compiled code ---===//
//
// cprt_c_document_positions (cprt_compiler.h): the original positions of
// this rank's local tokens under per_document_head_tail balancing, which the
// runtime decides from the document ids at run time (cprt_layout). Lowered
// cp.global_position with `documents` loads from this buffer. The last
// layout is cached per thread (rank), keyed by the ids' contents, the
// sequence length and the world size, so that every position-dependent op
// of a function costs one comparison of the ids after the first. Goes
// through the compiled-code ABI's sticky guard (CompilerAbiSupport.h).
//
//===----------------------------------------------------------------------===//

#include "CompilerAbiSupport.h"

#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace cprt;
using namespace cprt::abi;

namespace {

/// The last layout this thread computed and what it was computed from.
struct CachedLayout {
  std::vector<int32_t> ids;
  int64_t world = -1;
  int64_t rank = -1;
  std::vector<int64_t> positions; ///< padding already mapped to >= seq_len
};

/// This rank's positions for `ids` ([seqLen]), padding slot j mapped to
/// seqLen + j (cp.global_position's convention for padding).
const std::vector<int64_t> &layoutOf(const int32_t *ids, int64_t seqLen) {
  thread_local CachedLayout cache;
  int64_t world = cprt_size(), rank = cprt_rank();
  if (cache.world == world && cache.rank == rank &&
      int64_t(cache.ids.size()) == seqLen &&
      std::equal(cache.ids.begin(), cache.ids.end(), ids))
    return cache.positions;
  int64_t len = 0;
  cprt_status s = cprt_layout(CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, ids,
                              &len, nullptr);
  check(s == CPRT_OK, std::string("per-document layout: ") + cprt_last_error());
  std::vector<int64_t> pos(size_t(len), -1);
  s = cprt_layout(CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, seqLen, ids, &len,
                  pos.data());
  check(s == CPRT_OK, std::string("per-document layout: ") + cprt_last_error());
  for (int64_t j = 0; j < len; ++j)
    if (pos[size_t(j)] < 0)
      pos[size_t(j)] = seqLen + j;
  cache.ids.assign(ids, ids + seqLen);
  cache.world = world;
  cache.rank = rank;
  cache.positions = std::move(pos);
  return cache.positions;
}

void documentPositions(MR rd, CM d, MR ro, CM o, int64_t seqLen) {
  sticky("document_positions", [&] {
    Buffer docs = view(rd, d, 4, "document ids");
    Buffer out = view(ro, o, 8, "positions");
    check(docs.shape.size() == 1 && docs.shape[0] == seqLen,
          "expected the document ids of the whole sequence ([" +
              std::to_string(seqLen) + "] i32)");
    check(out.shape.size() == 1, "expected 1-D positions");
    const std::vector<int64_t> &pos =
        layoutOf(reinterpret_cast<const int32_t *>(docs.data), seqLen);
    check(int64_t(pos.size()) == out.shape[0],
          "the code was compiled for " + std::to_string(out.shape[0]) +
              " local tokens per rank, but the per-document layout of these "
              "document ids has " +
              std::to_string(pos.size()));
    std::memcpy(out.data, pos.data(), pos.size() * sizeof(int64_t));
  });
}

} // namespace

extern "C" {
void cprt_c_document_positions(MR rd, CM d, MR ro, CM o, int64_t seq_len) {
  documentPositions(rd, d, ro, o, seq_len);
}
} // extern "C"
