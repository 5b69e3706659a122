//===- BalancerAgreementTest.cpp - compiler and runtime agree on layouts --===//
//
// The compiler maps local indices to original positions (cp.global_position,
// mlir::cp::globalPosition) and the runtime shards buffers with
// cprt::makeLayout. Both must describe the same permutation, padding
// included, or position-dependent code would silently compute on the wrong
// positions. This checks every static balancer over a sweep of sequence
// lengths (divisible and not) and ring sizes.
//
//===----------------------------------------------------------------------===//

#include "../../lib/Dialect/CP/Transforms/PerDocument.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "cprt/LoadBalancer.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace {

struct Case {
  mlir::cp::LoadBalancer compiler;
  cprt::Balancer runtime;
  const char *name;
};

TEST(BalancerAgreement, GlobalPositionMatchesRuntimeLayout) {
  const Case cases[] = {
      {mlir::cp::LoadBalancer::none, cprt::Balancer::None, "none"},
      {mlir::cp::LoadBalancer::head_tail, cprt::Balancer::HeadTail,
       "head_tail"},
      {mlir::cp::LoadBalancer::striped, cprt::Balancer::Striped, "striped"},
  };
  int checked = 0;
  for (const Case &c : cases)
    for (int w : {1, 2, 3, 4, 5, 8})
      for (int64_t s = 1; s <= 70; ++s) {
        std::optional<int64_t> localLen =
            mlir::cp::localSeqLen(s, w, c.compiler, std::nullopt, /*pad=*/true);
        ASSERT_TRUE(localLen.has_value());
        cprt::ShardLayout layout = cprt::makeLayout(c.runtime, s, w, {});
        ASSERT_EQ(layout.localLen, *localLen)
            << c.name << " S=" << s << " W=" << w;
        for (int r = 0; r < w; ++r)
          for (int64_t j = 0; j < *localLen; ++j) {
            int64_t runtimePos = layout.localPositions(r)[j];
            int64_t compilerPos = mlir::cp::globalPosition(
                j, r, s, w, c.compiler, std::nullopt, /*pad=*/true);
            if (runtimePos < 0)
              EXPECT_GE(compilerPos, s)
                  << c.name << " S=" << s << " W=" << w << " rank " << r
                  << " slot " << j << " is padding in the runtime";
            else
              EXPECT_EQ(compilerPos, runtimePos)
                  << c.name << " S=" << s << " W=" << w << " rank " << r
                  << " slot " << j;
            ++checked;
          }
      }
  EXPECT_GT(checked, 10000);
}

/// per_document_head_tail: the compiler builds the per-rank function for a
/// local length it cannot compute from the (run-time) ids; the runtime's
/// layout of any ids must have exactly that length (PerDocument.h: rank
/// loads differ by at most one token, so the most loaded holds
/// ceil(S / W)). Random packings, single tokens, one document, and
/// documents shorter than 2W.
TEST(BalancerAgreement, PerDocumentLocalLengthIsStatic) {
  std::mt19937 gen(7);
  int checked = 0;
  for (int w : {1, 2, 3, 4, 5, 8})
    for (int64_t s = w; s <= 70; ++s)
      for (int trial = 0; trial < 8; ++trial) {
        std::vector<int32_t> docs;
        int32_t id = 0;
        // trial 0: one document; 1: every token its own; else random runs.
        while (int64_t(docs.size()) < s) {
          int64_t left = s - int64_t(docs.size());
          int64_t len =
              trial == 0 ? left
              : trial == 1
                  ? 1
                  : std::uniform_int_distribution<int64_t>(1, left)(gen);
          docs.insert(docs.end(), size_t(len), id++);
        }
        cprt::BalancerOptions o;
        o.docIds = docs.data();
        cprt::ShardLayout layout =
            cprt::makeLayout(cprt::Balancer::PerDocumentHeadTail, s, w, o);
        ASSERT_EQ(layout.localLen, mlir::cp::perDocumentLocalLen(s, w))
            << "S=" << s << " W=" << w << " trial " << trial;
        ++checked;
      }
  EXPECT_GT(checked, 1000);
}

} // namespace
