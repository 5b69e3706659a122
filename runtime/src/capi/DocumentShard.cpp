//===- DocumentShard.cpp - per-document shard/unshard for compiled code ---===//
//
// cprt_c_shard_docs_<T> / cprt_c_unshard_docs_<T> (cprt_compiler.h): the
// cp.shard / cp.unshard of a tensor computed inside a function (constants
// such as rotary tables) under per_document_head_tail balancing, whose
// layout the runtime computes from the whole sequence's document ids
// (cprt_shard / cprt_unshard with doc_ids). Entries go through the
// compiled-code ABI's sticky guard (CompilerAbiSupport.h).
//
//===----------------------------------------------------------------------===//

#include "CompilerAbiSupport.h"

#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <string>

using namespace cprt;
using namespace cprt::abi;

namespace {

/// [outer, len, inner] of `b` around `dim`.
void splitDim(const Buffer &b, int32_t dim, int64_t shape[3]) {
  check(dim >= 0 && dim < int32_t(b.shape.size()), "dim out of range");
  shape[0] = shape[2] = 1;
  for (int32_t i = 0; i < dim; ++i)
    shape[0] *= b.shape[size_t(i)];
  shape[1] = b.shape[size_t(dim)];
  for (size_t i = size_t(dim) + 1; i < b.shape.size(); ++i)
    shape[2] *= b.shape[i];
}

/// The whole sequence's ids ([S] i32) after checking their length.
const int32_t *wholeIds(MR rd, CM d, int64_t seqLen) {
  Buffer ids = view(rd, d, 4, "document ids");
  check(ids.shape.size() == 1 && ids.shape[0] == seqLen,
        "expected the document ids of the whole sequence ([" +
            std::to_string(seqLen) + "] i32)");
  return reinterpret_cast<const int32_t *>(ids.data);
}

void shardDocs(bool unshard, MR ri, CM in, MR ro, CM out, int64_t eb,
               int32_t dim, int32_t bal, MR rd, CM d) {
  sticky(unshard ? "unshard_docs" : "shard_docs", [&]() -> cprt_status {
    check(bal == CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL,
          "balancer " + std::to_string(bal) +
              " is not per_document_head_tail");
    Buffer ib = view(ri, in, eb, "input"), ob = view(ro, out, eb, "output");
    const Buffer &global = unshard ? ob : ib, &local = unshard ? ib : ob;
    int64_t shape[3];
    splitDim(global, dim, shape);
    const int32_t *ids = wholeIds(rd, d, shape[1]);
    int64_t L = 0;
    cprt_status s = cprt_layout(cprt_balancer(bal), shape[1], ids, &L, nullptr);
    if (s != CPRT_OK)
      return s;
    check(local.numel() == shape[0] * L * shape[2],
          "the local tensor does not have the layout's local length " +
              std::to_string(L));
    if (unshard)
      return cprt_unshard(ib.data, ob.data, shape, 3, 1, eb,
                          cprt_balancer(bal), ids);
    return cprt_shard(ib.data, ob.data, shape, 3, 1, eb, cprt_balancer(bal),
                      ids);
  });
}

} // namespace

extern "C" {
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_shard_docs, shardDocs,
                        (MR rg, CM g, MR rl, CM l, int64_t eb, int32_t dim,
                         int32_t bal, MR rd, CM d),
                        (false, rg, g, rl, l, eb, dim, bal, rd, d))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_unshard_docs, shardDocs,
                        (MR rl, CM l, MR rg, CM g, int64_t eb, int32_t dim,
                         int32_t bal, MR rd, CM d),
                        (true, rl, l, rg, g, eb, dim, bal, rd, d))
} // extern "C"
