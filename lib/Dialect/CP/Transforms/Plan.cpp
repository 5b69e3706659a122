//===- Plan.cpp - cp-plan: the cost model's table for every attention op --===//
//
// Prints, for each attention op of the module, the predicted time of every
// strategy for each rank count, so that users can plan clusters they do not
// have. The IR is not changed.
//
//===----------------------------------------------------------------------===//

#include "StrategyChoice.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::cp {
#define GEN_PASS_DEF_CPPLAN
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

struct PlanPass : cp::impl::CPPlanBase<PlanPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<cost::Topology> topo = cost::builtinTopology(topology);
    if (!topo) {
      getOperation().emitError("cp-plan: unknown topology '")
          << topology << "' (expected h200-nvlink, h100-ib or cpu)";
      return signalPassFailure();
    }
    SmallVector<int64_t> sizes(gridSizes.begin(), gridSizes.end());
    if (sizes.empty())
      sizes = {1, 2, 4, 8};
    for (int64_t n : sizes)
      if (n < 1) {
        getOperation().emitError("cp-plan: grid-size ") << n << " < 1";
        return signalPassFailure();
      }
    cost::Balance balance = costBalance(loadBalance);
    llvm::raw_ostream &os = llvm::outs();
    os << llvm::formatv("cp-plan: topology {0} (link {1} GB/s, {2} us; "
                        "all-to-all x{3}; kernel {4} TFLOP/s, backward x{5}; "
                        "load-balance={6}); predicted microseconds\n",
                        topo->name, topo->linkGBps, topo->latencyUs,
                        topo->allToAllEfficiency, topo->kernelTflops,
                        topo->backwardFactor,
                        stringifyLoadBalancer(loadBalance));
    int index = 0;
    getOperation().walk([&](Operation *op) {
      if (!isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
        return;
      std::string where;
      if (auto f = op->getParentOfType<func::FuncOp>())
        where = " in @" + f.getSymName().str();
      os << llvm::formatv("attention #{0} {1}{2}: ", index++,
                          op->getName().getStringRef(), where);
      std::optional<cost::Attention> a = attentionShape(op);
      if (!a) {
        os << "no static [.., heads, seq, dim] shape\n";
        return;
      }
      os << describeAttention(*a) << "\n";
      os << llvm::formatv("  {0,5} |", "ranks");
      for (cost::Strategy s : cost::kAllStrategies)
        os << llvm::formatv(" {0,15} |", cost::strategyName(s));
      os << llvm::formatv(" {0,15} |", "hybrid (U)");
      os << " best\n";
      for (int64_t n : sizes) {
        os << llvm::formatv("  {0,5} |", n);
        const cost::Prediction *best = nullptr;
        std::vector<cost::Prediction> ps = cost::predictAll(*a, n, balance,
                                                            *topo);
        for (const cost::Prediction &p : ps) {
          if (!p.legal) {
            os << llvm::formatv(" {0,15} |", "illegal");
            continue;
          }
          if (p.strategy == cost::Strategy::hybrid)
            os << llvm::formatv(" {0,15} |",
                                llvm::formatv("{0:F1} ({1})", p.totalUs,
                                              p.ulyssesSize)
                                    .str());
          else
            os << llvm::formatv(" {0,15:F1} |", p.totalUs);
          if (!best || p.totalUs < best->totalUs)
            best = &p;
        }
        os << " " << (best ? cost::predictionName(*best) : "-") << "\n";
      }
    });
    if (index == 0)
      os << "no attention ops (run --cp-detect-attention first?)\n";
    markAllAnalysesPreserved();
  }
};

} // namespace
