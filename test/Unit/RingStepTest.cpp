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
// StepCausal values with the same spellings. A second test runs
// cp-expand-ring itself and reads each step's behaviour off the emitted IR
// (evaluating its `arith.cmpi` on the step and the rank), so the IR, not
// only the rule, is held against the runtime.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Dialect/CP/Transforms/RingSchedule.h"
#include "cprt/Attention.h"
#include "cprt/LoadBalancer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

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

/// A causal cp.ring_attention over `w` ranks with `balancer`, expanded by
/// cp-expand-ring.
mlir::OwningOpRef<mlir::ModuleOp>
expandedRing(mlir::MLIRContext &ctx, llvm::StringRef balancer, int w) {
  std::string t = "tensor<1x1x4x4xf32>";
  std::string src = "shard.grid @grid(shape = " + std::to_string(w) + ")\n" +
                    "func.func @f(%q: " + t + ") -> " + t + " {\n" +
                    "  %o = cp.ring_attention %q, %q, %q on @grid {rotate = "
                    "#cp.rotate<ring>, balancer = #cp.balancer<" +
                    balancer.str() +
                    ">, is_causal, seq_len = " + std::to_string(4 * w) +
                    " : i64} : (" + t + ", " + t + ", " + t + ") -> " + t +
                    "\n" + "  return %o : " + t + "\n}\n";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &ctx);
  if (!module)
    return nullptr;
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::cp::createCPExpandRing());
  if (mlir::failed(pm.run(*module)))
    return nullptr;
  return module;
}

/// The behaviour the expanded IR gives step `step` on rank `rank`, read from
/// the first block attention or scf.if among `ops`: an scf.if's condition
/// must be `arith.cmpi` of `stepValue` (the loop's induction variable, or
/// null for a constant equal to `step`) with the rank; it is evaluated and
/// the taken arm's block attention (none: skip) is the answer.
std::optional<CausalBehavior> emittedBehavior(mlir::Block::iterator begin,
                                              mlir::Block::iterator end,
                                              mlir::Value stepValue,
                                              mlir::Value rankValue,
                                              int64_t step, int64_t rank) {
  for (mlir::Operation &op : llvm::make_range(begin, end)) {
    if (auto blk = llvm::dyn_cast<mlir::cp::BlockAttentionOp>(op))
      return blk.getCausal();
    auto ifOp = llvm::dyn_cast<mlir::scf::IfOp>(op);
    if (!ifOp)
      continue;
    auto cmp = ifOp.getCondition().getDefiningOp<mlir::arith::CmpIOp>();
    llvm::APInt constStep;
    if (!cmp || cmp.getRhs() != rankValue ||
        (stepValue ? cmp.getLhs() != stepValue
                   : !mlir::matchPattern(cmp.getLhs(),
                                         mlir::m_ConstantInt(&constStep)) ||
                         constStep.getSExtValue() != step))
      return std::nullopt;
    bool taken = mlir::arith::applyCmpPredicate(
        cmp.getPredicate(), llvm::APInt(64, step), llvm::APInt(64, rank));
    mlir::Region &arm = taken ? ifOp.getThenRegion() : ifOp.getElseRegion();
    auto ops = arm.getOps<mlir::cp::BlockAttentionOp>();
    return ops.empty() ? CausalBehavior::skip : (*ops.begin()).getCausal();
  }
  return std::nullopt;
}

TEST(RingStep, ExpandedIRMatchesRuntime) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::cp::CPDialect, mlir::shard::ShardDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  int checked = 0;
  for (const Balancers &b : kExpanded)
    for (int w : {1, 2, 3, 4, 5, 8}) {
      auto module = expandedRing(ctx, b.name, w);
      ASSERT_TRUE(module) << b.name << " W=" << w;
      auto f = *module->getOps<mlir::func::FuncOp>().begin();
      mlir::Block &body = f.getBody().front();
      auto rankOps = body.getOps<mlir::shard::ProcessLinearIndexOp>();
      ASSERT_FALSE(rankOps.empty());
      mlir::Value rank = (*rankOps.begin()).getResult();
      auto loops = body.getOps<mlir::scf::ForOp>();
      mlir::scf::ForOp loop = loops.empty() ? nullptr : *loops.begin();
      ASSERT_EQ(loop == nullptr, w == 1) << b.name << " W=" << w;
      for (int r = 0; r < w; ++r)
        for (int i = 0; i < w; ++i) {
          std::optional<CausalBehavior> ir;
          if (i == 0) // before the loop
            ir = emittedBehavior(body.begin(), body.end(), {}, rank, i, r);
          else if (i < w - 1) // an iteration of the loop
            ir = emittedBehavior(loop.getBody()->begin(), loop.getBody()->end(),
                                 loop.getInductionVar(), rank, i, r);
          else // the last step, peeled after the loop
            ir = emittedBehavior(std::next(loop->getIterator()), body.end(), {},
                                 rank, i, r);
          ASSERT_TRUE(ir.has_value())
              << b.name << " W=" << w << " step " << i << ": unexpected IR";
          StepCausal runtime = cprt::stepCausalFor(b.runtime, true, w, r, i);
          EXPECT_EQ(int32_t(*ir), int32_t(runtime))
              << b.name << " W=" << w << " rank " << r << " step " << i
              << ": IR " << mlir::cp::stringifyCausalBehavior(*ir).str()
              << ", runtime " << cprt::stepCausalName(runtime);
          ++checked;
        }
    }
  EXPECT_EQ(checked, 3 * (1 + 4 + 9 + 16 + 25 + 64));
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
