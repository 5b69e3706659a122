//===- StrategyChoice.h - strategy=auto: the cost model on attention ops -*- C++ -*-===//
//
// Private to MLIRCPTransforms: cp-context-parallel asks chooseStrategies
// which strategy each attention op of a function gets (all the requested
// one, or with strategy=auto the cost model's fastest legal one); cp-plan
// reads the shapes with attentionShape.
//
//===----------------------------------------------------------------------===//
#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_STRATEGYCHOICE_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_STRATEGYCHOICE_H

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/CostModel.h"
#include "cp/Dialect/CP/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::cp {

/// The cost model's view of a cp.sdpa / cp.sdpa_backward /
/// cp.flex_attention on whole (unsharded) tensors; nullopt when the shapes
/// are not static or the op has no heads dim.
std::optional<cost::Attention> attentionShape(Operation *op);

/// A one-line description of `a` ("forward, B=1 Hq=16 Hkv=4 S=4096 D=128,
/// 2-byte elements, causal").
std::string describeAttention(const cost::Attention &a);

cost::Balance costBalance(LoadBalancer b);
cost::Strategy ringCostStrategy(RotateMethod r);

/// One attention op's strategy; `ulyssesSize` is the group size U of
/// CPStrategy::hybrid.
struct StrategyPlanEntry {
  CPStrategy strategy = CPStrategy::ring;
  int64_t ulyssesSize = 0;
};
using StrategyPlan = llvm::DenseMap<Operation *, StrategyPlanEntry>;

/// The strategy of every attention op of `func` over `world` ranks:
/// `requested` for each (hybrid: with `ulyssesSize`, or the cost model's best
/// group size when 0), or with CPStrategy::automatic the cost model's
/// fastest legal of ring (with `rotate`), Ulysses and the hybrid on
/// `topology`, said in a remark at the op. Fails (with a diagnostic at the
/// op) for an unknown topology or a hybrid that does not fit.
FailureOr<StrategyPlan> chooseStrategies(func::FuncOp func, int64_t world,
                                         CPStrategy requested,
                                         StringRef topology,
                                         RotateMethod rotate,
                                         LoadBalancer balancer,
                                         int64_t ulyssesSize);

/// The `strategy` entry of the function's cp.context_parallel attribute:
/// "ulysses" or "hybrid" when every attention op uses it, "mixed" when some
/// do, none when all are rings.
std::optional<StringRef> strategySummary(const StrategyPlan &plan);

} // namespace mlir::cp

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_STRATEGYCHOICE_H
