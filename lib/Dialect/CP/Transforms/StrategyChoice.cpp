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

FailureOr<llvm::DenseMap<Operation *, CPStrategy>>
mlir::cp::chooseStrategies(func::FuncOp func, int64_t world,
                           CPStrategy requested, StringRef topology,
                           RotateMethod rotate, LoadBalancer balancer) {
  llvm::DenseMap<Operation *, CPStrategy> plan;
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
      ops.push_back(op);
  });
  if (requested != CPStrategy::automatic) {
    for (Operation *op : ops)
      plan[op] = requested;
    return plan;
  }
  std::optional<cost::Topology> topo = cost::builtinTopology(topology.str());
  if (!topo)
    return func.emitOpError("unknown topology '")
           << topology << "' (expected h200-nvlink, h100-ib or cpu)";
  cost::Strategy ring = ringCostStrategy(rotate);
  for (Operation *op : ops) {
    std::optional<cost::Attention> a = attentionShape(op);
    if (!a) {
      plan[op] = CPStrategy::ring;
      op->emitRemark("strategy=auto: no static [.., heads, seq, dim] shape "
                     "for the cost model; chose ring");
      continue;
    }
    cost::Prediction r = cost::predict(*a, ring, world, costBalance(balancer),
                                       *topo);
    cost::Prediction u = cost::predict(*a, cost::Strategy::ulysses, world,
                                       costBalance(balancer), *topo);
    bool ulysses = u.legal && u.totalUs < r.totalUs;
    plan[op] = ulysses ? CPStrategy::ulysses : CPStrategy::ring;
    std::string us =
        u.legal ? llvm::formatv("ulysses {0:F1} us", u.totalUs).str()
                : "ulysses illegal (" + u.whyIllegal + ")";
    op->emitRemark() << llvm::formatv(
        "strategy=auto on {0} ranks of {1} ({2}): {3} {4:F1} us, {5}; chose "
        "{6}",
        world, topo->name, describeAttention(*a), cost::strategyName(ring),
        r.totalUs, us, ulysses ? "ulysses" : "ring");
  }
  return plan;
}

std::optional<StringRef> mlir::cp::strategySummary(
    const llvm::DenseMap<Operation *, CPStrategy> &plan) {
  size_t n = llvm::count_if(plan, [](auto &kv) {
    return kv.second == CPStrategy::ulysses;
  });
  if (n == 0)
    return std::nullopt;
  return n == plan.size() ? StringRef("ulysses") : StringRef("mixed");
}
