//===- Plan.cpp - cp-plan: the cost model's table for every attention op --===//
//
// Prints the topology used (built-in or file), then for each attention op of
// the module the predicted time of every strategy for each rank count and the
// kernel throughput at the block sizes the model looked up, so that users can
// plan clusters they do not have. The IR is not changed.
//
//===----------------------------------------------------------------------===//

#include "StrategyChoice.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::cp {
#define GEN_PASS_DEF_CPPLAN
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

/// The header line: the topology (name, built-in or file, its links) and the
/// balancer.
void printTopology(llvm::raw_ostream &os, const cost::Topology &t,
                   LoadBalancer balancer) {
  os << llvm::formatv("cp-plan: topology {0} ({1}{2}; link {3} GB/s, {4} us, "
                      "all-to-all x{5}",
                      t.name, t.source == "built-in" ? "" : "file ", t.source,
                      t.linkGBps, t.latencyUs, t.allToAllEfficiency);
  if (t.ranksPerNode > 0)
    os << llvm::formatv("; {0} ranks per node, network {1} GB/s, {2} us, "
                        "all-to-all x{3}",
                        t.ranksPerNode, t.interNodeGBps, t.interNodeLatencyUs,
                        t.interNodeAllToAllEfficiency);
  os << llvm::formatv("; kernel overhead {0} us forward, {1} us backward; "
                      "memory {2} GB/s; load-balance={3}); predicted "
                      "microseconds\n",
                      t.forward.overheadUs, t.backward.overheadUs,
                      t.memoryGBps, stringifyLoadBalancer(balancer));
}

/// The kernel throughput the model used for `a`'s calls at each rank count:
/// a ring step on a block of S/N tokens with all heads, Ulysses' local
/// attention on the whole sequence with Hq/N heads, each looked up at the
/// block of equal work (cost::lookupTokens: the mask's fraction, the heads).
void printKernelRates(llvm::raw_ostream &os, const cost::Attention &a,
                      ArrayRef<int64_t> sizes, const cost::Topology &t) {
  bool bwd = a.direction == cost::Direction::backward;
  double f = cost::maskFraction(a);
  double bh = double(a.batch) * double(a.qHeads);
  const cost::KernelTable &k = bwd ? t.backward : t.forward;
  os << llvm::formatv("  kernel TFLOP/s ({0}) at the blocks looked up:",
                      bwd ? "backward" : "forward");
  for (int64_t n : sizes) {
    double l = std::ceil(double(a.seqLen) / double(n));
    double ring = cost::lookupTokens(l, f, bh, t);
    os << llvm::formatv(" N={0}: {1} {2:F0} tokens {3:F1}", n,
                        n == 1 ? "one device" : "ring", ring,
                        cost::kernelTflops(k, ring));
    if (n > 1) {
      double u = cost::lookupTokens(double(a.seqLen), f, bh / n, t);
      os << llvm::formatv(", ulysses {0:F0} tokens {1:F1}", u,
                          cost::kernelTflops(k, u));
    }
    os << ";";
  }
  os << "\n";
}

/// The table of one attention op: a row per rank count, a column per
/// strategy, the fastest legal at the end.
void printTable(llvm::raw_ostream &os, const cost::Attention &a,
                ArrayRef<int64_t> sizes, cost::Balance balance,
                const cost::Topology &t) {
  os << llvm::formatv("  {0,5} |", "ranks");
  for (cost::Strategy s : cost::kAllStrategies)
    os << llvm::formatv(" {0,15} |", cost::strategyName(s));
  os << llvm::formatv(" {0,15} |", "hybrid (U)");
  os << " best\n";
  for (int64_t n : sizes) {
    os << llvm::formatv("  {0,5} |", n);
    const cost::Prediction *best = nullptr;
    std::vector<cost::Prediction> ps = cost::predictAll(a, n, balance, t);
    for (const cost::Prediction &p : ps) {
      if (!p.legal) {
        os << llvm::formatv(" {0,15} |", "illegal");
        continue;
      }
      if (p.strategy == cost::Strategy::hybrid)
        os << llvm::formatv(
            " {0,15} |",
            llvm::formatv("{0:F1} ({1})", p.totalUs, p.ulyssesSize).str());
      else
        os << llvm::formatv(" {0,15:F1} |", p.totalUs);
      if (!best || p.totalUs < best->totalUs)
        best = &p;
    }
    os << " " << (best ? cost::predictionName(*best) : "-") << "\n";
  }
}

struct PlanPass : cp::impl::CPPlanBase<PlanPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    std::optional<cost::Topology> topo = cost::loadTopology(topology, error);
    if (!topo) {
      getOperation().emitError("cp-plan: ") << error;
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
    llvm::raw_ostream &os = llvm::outs();
    printTopology(os, *topo, loadBalance);
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
      printTable(os, *a, sizes, costBalance(loadBalance), *topo);
      printKernelRates(os, *a, sizes, *topo);
    });
    if (index == 0)
      os << "no attention ops (run --cp-detect-attention first?)\n";
    markAllAnalysesPreserved();
  }
};

} // namespace
