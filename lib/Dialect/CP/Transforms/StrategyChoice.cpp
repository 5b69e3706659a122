//===- StrategyChoice.cpp - strategy=auto: the cost model on attention ops ===//
//
// Each attention op gets its own strategy: ring and Ulysses rewrites leave
// the function boundary (sequence shards in the balancer's order) the same,
// so a forward may use one and its backward the other.
//
//===----------------------------------------------------------------------===//

#include "StrategyChoice.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::cp;

std::optional<cost::Attention> mlir::cp::attentionShape(Operation *op) {
  Value q, k;
  cost::Attention a;
  bool causal = false;
  if (auto s = dyn_cast<SDPAOp>(op)) {
    q = s.getQuery();
    k = s.getKey();
    causal = s.getIsCausal();
  } else if (auto b = dyn_cast<SDPABackwardOp>(op)) {
    q = b.getQuery();
    k = b.getKey();
    causal = b.getIsCausal();
    a.direction = cost::Direction::backward;
  } else if (auto f = dyn_cast<FlexAttentionOp>(op)) {
    // A mask_mod may skip blocks; the model does not know how many.
    q = f.getQuery();
    k = f.getKey();
  } else {
    return std::nullopt;
  }
  auto qt = dyn_cast<RankedTensorType>(q.getType());
  auto kt = dyn_cast<RankedTensorType>(k.getType());
  if (!qt || !kt || !qt.hasStaticShape() || !kt.hasStaticShape() ||
      qt.getRank() < 3 || kt.getRank() != qt.getRank())
    return std::nullopt;
  int64_t n = qt.getRank();
  a.batch = 1;
  for (int64_t i = 0; i < n - 3; ++i)
    a.batch *= qt.getDimSize(i);
  a.qHeads = qt.getDimSize(n - 3);
  a.kvHeads = kt.getDimSize(n - 3);
  a.seqLen = qt.getDimSize(n - 2);
  a.headDim = qt.getDimSize(n - 1);
  Type el = qt.getElementType();
  a.elementBytes =
      el.isIntOrFloat() ? std::max<int64_t>(1, el.getIntOrFloatBitWidth() / 8)
                        : 4;
  a.mask = causal ? cost::MaskKind::causal : cost::MaskKind::full;
  return a;
}

std::string mlir::cp::describeAttention(const cost::Attention &a) {
  const char *mask = a.mask == cost::MaskKind::causal ? "causal"
                     : a.mask == cost::MaskKind::window ? "window"
                                                        : "full";
  return llvm::formatv("{0}, B={1} Hq={2} Hkv={3} S={4} D={5}, {6}-byte "
                       "elements, {7}",
                       a.direction == cost::Direction::backward ? "backward"
                                                                : "forward",
                       a.batch, a.qHeads, a.kvHeads, a.seqLen, a.headDim,
                       a.elementBytes, mask)
      .str();
}

cost::Balance mlir::cp::costBalance(LoadBalancer b) {
  switch (b) {
  case LoadBalancer::none:
    return cost::Balance::none;
  case LoadBalancer::striped:
    return cost::Balance::striped;
  default:
    return cost::Balance::head_tail;
  }
}

cost::Strategy mlir::cp::ringCostStrategy(RotateMethod r) {
  switch (r) {
  case RotateMethod::allgather:
    return cost::Strategy::allgather;
  case RotateMethod::alltoall:
    return cost::Strategy::alltoall;
  default:
    return cost::Strategy::ring;
  }
}

/// Whether `op` carries document ids (no hybrid form yet).
static bool hasSegmentIds(Operation *op) {
  if (auto s = dyn_cast<SDPAOp>(op))
    return bool(s.getSegmentIds());
  if (auto b = dyn_cast<SDPABackwardOp>(op))
    return bool(b.getSegmentIds());
  return false;
}

/// Whether the hybrid runtime path can run `op`: cp.sdpa / cp.sdpa_backward
/// without a mask (flex modifiers and masks have no hybrid entry yet).
static bool hybridSupports(Operation *op, std::string *why) {
  Value mask;
  if (auto s = dyn_cast<SDPAOp>(op))
    mask = s.getMask();
  else if (auto b = dyn_cast<SDPABackwardOp>(op))
    mask = b.getMask();
  else {
    *why = "flex attention has no hybrid form";
    return false;
  }
  if (mask) {
    *why = "an attention with a mask has no hybrid form";
    return false;
  }
  if (hasSegmentIds(op)) {
    *why = "an attention with document ids (segment_ids) has no hybrid form";
    return false;
  }
  return true;
}

/// The hybrid's prediction for `a`: with the given group size, or the best.
static cost::Prediction predictHybrid(const cost::Attention &a, int64_t world,
                                      int64_t ulyssesSize, LoadBalancer b,
                                      const cost::Topology &t) {
  if (ulyssesSize > 0)
    return cost::predictHybrid(a, world, ulyssesSize, costBalance(b), t);
  return cost::bestHybrid(a, world, costBalance(b), t);
}

/// strategy=hybrid for `op`: its group size (the option, or the cost
/// model's best on `topo`), or a diagnostic.
static FailureOr<int64_t> hybridSizeFor(Operation *op, int64_t world,
                                        int64_t ulyssesSize, LoadBalancer b,
                                        const std::optional<cost::Topology> &topo,
                                        StringRef topologyError) {
  std::string why;
  if (!hybridSupports(op, &why))
    return op->emitOpError("strategy=hybrid: ")
           << why << "; use strategy=ring or strategy=ulysses";
  if (b != LoadBalancer::none && b != LoadBalancer::head_tail &&
      b != LoadBalancer::striped)
    return op->emitOpError("strategy=hybrid needs load-balance=none, "
                           "head_tail or striped, got ")
           << stringifyLoadBalancer(b);
  std::optional<cost::Attention> a = attentionShape(op);
  if (ulyssesSize > 0) {
    if (a && !cost::hybridLegal(a->qHeads, a->kvHeads, world, ulyssesSize,
                                &why))
      return op->emitOpError("strategy=hybrid with ulysses-size=")
             << ulyssesSize << " on " << world << " ranks: " << why;
    if (!a && (ulyssesSize < 2 || world % ulyssesSize != 0))
      return op->emitOpError("strategy=hybrid: ulysses-size=")
             << ulyssesSize << " does not split " << world
             << " ranks into groups";
    return ulyssesSize;
  }
  if (!topo)
    return op->emitOpError() << topologyError;
  if (!a)
    return op->emitOpError("strategy=hybrid without ulysses-size needs "
                           "static [.., heads, seq, dim] shapes for the cost "
                           "model; give ulysses-size=U");
  cost::Prediction p = cost::bestHybrid(*a, world, costBalance(b), *topo);
  if (!p.legal)
    return op->emitOpError("strategy=hybrid on ")
           << world << " ranks: " << p.whyIllegal;
  return p.ulyssesSize;
}

/// strategy=auto for `op`: the fastest legal of the ring (`ring`), Ulysses
/// and the hybrid on `topo`, said in a remark at the op with the predicted
/// times (the ring when the op has no static shape).
static StrategyPlanEntry autoChoice(Operation *op, int64_t world,
                                    cost::Strategy ring, LoadBalancer balancer,
                                    int64_t ulyssesSize,
                                    const cost::Topology &topo) {
  std::optional<cost::Attention> a = attentionShape(op);
  if (!a) {
    op->emitRemark("strategy=auto: no static [.., heads, seq, dim] shape "
                   "for the cost model; chose ring");
    return {CPStrategy::ring, 0};
  }
  cost::Prediction r =
      cost::predict(*a, ring, world, costBalance(balancer), topo);
  cost::Prediction u = cost::predict(*a, cost::Strategy::ulysses, world,
                                     costBalance(balancer), topo);
  cost::Prediction h = predictHybrid(*a, world, ulyssesSize, balancer, topo);
  std::string why;
  if (h.legal && !hybridSupports(op, &why)) {
    h.legal = false;
    h.whyIllegal = why;
  }
  StrategyPlanEntry choice{CPStrategy::ring, 0};
  double best = r.totalUs;
  std::string name = cost::strategyName(ring);
  if (u.legal && u.totalUs < best) {
    choice = {CPStrategy::ulysses, 0};
    best = u.totalUs;
    name = "ulysses";
  }
  if (h.legal && h.totalUs < best) {
    choice = {CPStrategy::hybrid, h.ulyssesSize};
    name = cost::predictionName(h);
  }
  auto describe = [](const cost::Prediction &p, StringRef label) {
    return p.legal ? llvm::formatv("{0} {1:F1} us", label, p.totalUs).str()
                   : (label + " illegal (" + p.whyIllegal + ")").str();
  };
  op->emitRemark() << llvm::formatv(
      "strategy=auto on {0} ranks of {1} ({2}): {3} {4:F1} us, {5}, {6}; "
      "chose {7}",
      world, topo.name, describeAttention(*a), cost::strategyName(ring),
      r.totalUs, describe(u, "ulysses"),
      describe(h, h.legal ? cost::predictionName(h) : "hybrid"), name);
  return choice;
}

FailureOr<StrategyPlan>
mlir::cp::chooseStrategies(func::FuncOp func, int64_t world,
                           CPStrategy requested, StringRef topology,
                           RotateMethod rotate, LoadBalancer balancer,
                           int64_t ulyssesSize) {
  StrategyPlan plan;
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
      ops.push_back(op);
  });
  // The topology (a built-in name or a JSON file) is read only when the cost
  // model runs: strategy=auto, or a hybrid without ulysses-size.
  std::string topologyError;
  std::optional<cost::Topology> topo;
  if (requested == CPStrategy::automatic ||
      (requested == CPStrategy::hybrid && ulyssesSize <= 0))
    topo = cost::loadTopology(topology.str(), topologyError);
  if (requested == CPStrategy::hybrid) {
    for (Operation *op : ops) {
      FailureOr<int64_t> u = hybridSizeFor(op, world, ulyssesSize, balancer,
                                           topo, topologyError);
      if (failed(u))
        return failure();
      plan[op] = {CPStrategy::hybrid, *u};
    }
    return plan;
  }
  if (requested != CPStrategy::automatic) {
    for (Operation *op : ops)
      plan[op] = {requested, 0};
    return plan;
  }
  if (!topo)
    return func.emitOpError() << topologyError;
  for (Operation *op : ops)
    plan[op] = autoChoice(op, world, ringCostStrategy(rotate), balancer,
                          ulyssesSize, *topo);
  return plan;
}

std::optional<StringRef> mlir::cp::strategySummary(const StrategyPlan &plan) {
  auto count = [&](CPStrategy s) {
    return (size_t)llvm::count_if(
        plan, [&](auto &kv) { return kv.second.strategy == s; });
  };
  size_t u = count(CPStrategy::ulysses), h = count(CPStrategy::hybrid);
  if (u == 0 && h == 0)
    return std::nullopt;
  if (u == plan.size())
    return StringRef("ulysses");
  if (h == plan.size())
    return StringRef("hybrid");
  return StringRef("mixed");
}
