//===- RingStepTest.cpp - ExpandRing's step table against the runtime's ---===//
//
// cp-expand-ring turns a ring into IR whose step i on rank r computes the
// received block with the behaviour mlir::cp::ringStepRule gives (step 0:
// the diagonal; then `i <= r` or not). The runtime's own ring
// (cprt::stepCausalFor) must give every step the same behaviour, or the
// expanded ring and the runtime's would mask different keys. This checks
// both tables for every balancer ExpandRing expands, causal and not, every
// ring size 1..16, rank and step; and that the dialect's CausalBehavior
// values (the ABI's `causal` argument of the block calls) are the runtime's
// StepCausal values with the same spellings.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/RingSchedule.h"
#include "cprt/Attention.h"
#include "cprt/LoadBalancer.h"

#include <gtest/gtest.h>

namespace {

using cprt::StepCausal;
using mlir::cp::CausalBehavior;
using mlir::cp::LoadBalancer;

#define CP_SAME_VALUE(dialect, runtime)                                        \
  static_assert(int32_t(CausalBehavior::dialect) ==                            \
                    int32_t(StepCausal::runtime),                              \
                "CausalBehavior::" #dialect " != StepCausal::" #runtime)
CP_SAME_VALUE(skip, Skip);
CP_SAME_VALUE(not_causal, NotCausal);
CP_SAME_VALUE(causal, Causal);
CP_SAME_VALUE(causal_strict, CausalStrict);
CP_SAME_VALUE(kv_head_half, KvHeadHalf);
CP_SAME_VALUE(q_tail_half, QTailHalf);
#undef CP_SAME_VALUE

TEST(RingStep, EnumValuesAndNamesMatchRuntime) {
  uint32_t count = 0;
  for (uint32_t v = 0; v <= mlir::cp::getMaxEnumValForCausalBehavior(); ++v) {
    std::optional<CausalBehavior> c = mlir::cp::symbolizeCausalBehavior(v);
    ASSERT_TRUE(c.has_value()) << "value " << v;
    EXPECT_EQ(mlir::cp::stringifyCausalBehavior(*c).str(),
              cprt::stepCausalName(StepCausal(v)))
        << "value " << v;
    StepCausal parsed;
    ASSERT_TRUE(cprt::parseStepCausal(
        mlir::cp::stringifyCausalBehavior(*c).str().c_str(), parsed));
    EXPECT_EQ(int32_t(parsed), int32_t(v));
    ++count;
  }
  EXPECT_EQ(count, 6u);
}

struct Balancers {
  LoadBalancer compiler;
  cprt::Balancer runtime;
  const char *name;
};

const Balancers kExpanded[] = {
    {LoadBalancer::none, cprt::Balancer::None, "none"},
    {LoadBalancer::head_tail, cprt::Balancer::HeadTail, "head_tail"},
    {LoadBalancer::striped, cprt::Balancer::Striped, "striped"},
};

TEST(RingStep, ExpandRingTableMatchesRuntime) {
  int checked = 0;
  for (const Balancers &b : kExpanded)
    for (bool causal : {false, true})
      for (int w = 1; w <= 16; ++w)
        for (int r = 0; r < w; ++r)
          for (int i = 0; i < w; ++i) {
            std::optional<CausalBehavior> compiler =
                mlir::cp::ringStepBehavior(b.compiler, causal, w, r, i);
            ASSERT_TRUE(compiler.has_value()) << b.name;
            StepCausal runtime =
                cprt::stepCausalFor(b.runtime, causal, w, r, i);
            EXPECT_EQ(int32_t(*compiler), int32_t(runtime))
                << b.name << (causal ? " causal" : " not causal") << " W=" << w
                << " rank " << r << " step " << i << ": compiler "
                << mlir::cp::stringifyCausalBehavior(*compiler).str()
                << ", runtime " << cprt::stepCausalName(runtime);
            ++checked;
          }
  // 3 balancers x 2 x sum_{w=1..16} w^2 (1496).
  EXPECT_EQ(checked, 3 * 2 * 1496);
}

TEST(RingStep, RuntimeTableIsExactForExpandedBalancers) {
  // ExpandRing emits no positional causal mask for these balancers: the
  // runtime must agree that the table alone is exact.
  for (const Balancers &b : kExpanded)
    EXPECT_TRUE(cprt::stepCausalIsExact(b.runtime)) << b.name;
}

TEST(RingStep, DataDependentBalancersHaveNoRule) {
  for (LoadBalancer b :
       {LoadBalancer::per_document_head_tail, LoadBalancer::ptrr}) {
    EXPECT_FALSE(mlir::cp::ringStepRule(b, true).has_value());
    EXPECT_FALSE(mlir::cp::ringStepRule(b, false).has_value());
  }
}

TEST(RingStep, OutOfRangeRankOrStep) {
  EXPECT_FALSE(mlir::cp::ringStepBehavior(LoadBalancer::none, true, 4, 4, 0));
  EXPECT_FALSE(mlir::cp::ringStepBehavior(LoadBalancer::none, true, 4, 0, 4));
  EXPECT_FALSE(mlir::cp::ringStepBehavior(LoadBalancer::none, true, 4, -1, 0));
  EXPECT_FALSE(mlir::cp::ringStepBehavior(LoadBalancer::none, true, 0, 0, 0));
}

} // namespace
