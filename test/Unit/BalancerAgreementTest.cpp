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

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cprt/LoadBalancer.h"

#include <gtest/gtest.h>

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

} // namespace
