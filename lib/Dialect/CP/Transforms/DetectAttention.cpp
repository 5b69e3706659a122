//===- DetectAttention.cpp - raise attention to cp.sdpa -------------------===//
//
// --cp-detect-attention finds softmax(q·kᵀ·scale + mask)·v written in
// upstream dialects and replaces it by one cp.sdpa (or cp.flex_attention
// when the mask is computed from positions but is not plain causal).
//
// Matching is rooted at every softmax-like candidate (linalg.softmax, an
// exp in a linalg op, tosa.exp): the P·V contraction it feeds is found by
// walking uses, then the whole pattern is read back from the output through
// DetectExpr's expansion, which turns linalg generics, named linalg ops and
// TOSA ops alike into one scalar expression tree over the output's dims (plus
// one dim per contraction). Every node is checked: contraction bodies and
// zero inits, reduction identities, the dims each reduction and contraction
// runs over, and that the max, the sum and the "all masked" test of a safe
// softmax read the very scores that are exponentiated. Anything else is left
// alone and, with report-misses, gets a remark that says why.
//
// This file is the pass driver (candidates, roots, replacement and dead
// code); the Matcher is in DetectAttentionMatch.cpp,
// DetectAttentionOperands.cpp and DetectAttentionMasks.cpp, the
// replacement in DetectAttentionBuild.cpp, their shared structs in
// DetectAttentionPlan.h.
//
// docs/detection.md lists what is recognised.
//
//===----------------------------------------------------------------------===//

#include "DetectAttentionPlan.h"
#include "DetectDocuments.h"
#include "DetectExpr.h"

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

namespace mlir::cp {
#define GEN_PASS_DEF_CPDETECTATTENTION
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace {


bool isNormalisingReduction(Operation *op) {
  if (isa<tosa::ReduceSumOp>(op))
    return true;
  auto lop = dyn_cast<linalg::LinalgOp>(op);
  return lop && lop.getNumReductionLoops() > 0 &&
         !linalg::isaContractionOpInterface(lop);
}

/// A softmax, or an exp whose result is summed (within a few elementwise
/// hops): the candidates that report-misses explains. An exp that is never
/// summed (SiLU, GELU, ...) is not a candidate.
bool isSoftmaxCandidate(Operation *op) {
  if (isa<linalg::SoftmaxOp>(op))
    return true;
  bool isExp = isa<tosa::ExpOp>(op) ||
               (isa<math::ExpOp>(op) &&
                isa<RankedTensorType>(op->getResult(0).getType()));
  if (auto lop = dyn_cast<linalg::LinalgOp>(op)) {
    if (lop->getNumRegions() != 1 || !lop.getBlock() ||
        llvm::none_of(lop.getBlock()->getOperations(),
                      [](Operation &o) { return isa<math::ExpOp>(o); }))
      return false;
    if (isNormalisingReduction(op))
      return true;
    isExp = true;
  }
  if (!isExp)
    return false;
  SmallVector<std::pair<Operation *, unsigned>> work{{op, 0}};
  while (!work.empty()) {
    auto [cur, depth] = work.pop_back_val();
    for (Operation *user : cur->getUsers()) {
      if (isNormalisingReduction(user))
        return true;
      if (depth < 3)
        work.push_back({user, depth + 1});
    }
  }
  return false;
}

/// Ops that wrap the P·V result without changing what it is: the root of
/// the match may be any of them.
bool isOutputWrapper(Operation *op) {
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tosa::ReshapeOp,
          tosa::CastOp, arith::TruncFOp>(op))
    return true;
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1 || g.getNumResults() != 1 ||
      g.getNumReductionLoops() != 0)
    return false;
  auto &ops = g.getBlock()->getOperations();
  return ops.size() == 2 && isa<arith::TruncFOp>(ops.front());
}

struct DetectAttentionPass
    : mlir::cp::impl::CPDetectAttentionBase<DetectAttentionPass> {
  using Base::Base;

  // The rewrite may create linalg.transpose / linalg.generic (layout and
  // widening of q/k/v) also in modules that hold only TOSA.
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.insert<linalg::LinalgDialect>();
  }

  void runOnOperation() override {
    // Flex attention whose mask_mod is a document mask (and causal): cp.sdpa
    // with segment_ids, which the ring runs without a dense mask.
    SmallVector<FlexAttentionOp> flexes;
    getOperation()->walk([&](FlexAttentionOp f) { flexes.push_back(f); });
    for (FlexAttentionOp f : flexes)
      raiseDocumentFlex(f);
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (isSoftmaxCandidate(op))
        candidates.push_back(op);
    });
    llvm::DenseSet<Operation *> erased;
    for (Operation *cand : candidates) {
      if (erased.contains(cand))
        continue;
      std::string why = processCandidate(cand, erased);
      if (!why.empty() && reportMisses)
        cand->emitRemark() << "softmax not raised to cp.sdpa: " << why;
    }
  }

  /// Returns why the candidate was not raised ("" when it was).
  std::string processCandidate(Operation *cand,
                               llvm::DenseSet<Operation *> &erased) {
    // Find the contractions the softmax feeds.
    SmallVector<Operation *> contractions;
    SmallVector<std::pair<Value, unsigned>> work;
    llvm::DenseSet<Operation *> seen;
    for (Value r : cand->getResults())
      work.push_back({r, 0});
    while (!work.empty() && seen.size() < 256) {
      auto [v, depth] = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (!seen.insert(user).second)
          continue;
        if (user->getNumResults() == 1 &&
            isContractionProducer(user->getResult(0))) {
          contractions.push_back(user);
          continue;
        }
        if (depth < 16)
          for (Value r : user->getResults())
            work.push_back({r, depth + 1});
      }
    }
    if (contractions.empty())
      return "no P·V contraction consumes the softmax";
    std::string why;
    for (Operation *c : contractions) {
      SmallVector<Value> chain{c->getResult(0)};
      while (chain.back().hasOneUse()) {
        Operation *user = *chain.back().getUsers().begin();
        if (!isOutputWrapper(user))
          break;
        chain.push_back(user->getResult(0));
      }
      for (Value root : llvm::reverse(chain)) {
        ExprBuilder builder(&getContext());
        Matcher m(builder);
        FailureOr<Plan> plan = m.match(root);
        if (failed(plan)) {
          if (why.empty())
            why = m.why;
          continue;
        }
        OpBuilder b(root.getDefiningOp());
        Value repl = buildReplacement(b, *plan);
        if (!repl) {
          if (why.empty())
            why = "the position mask cannot be expressed as a mask_mod";
          continue;
        }
        root.replaceAllUsesWith(repl);
        eraseDead(builder.visited, root.getDefiningOp(), erased);
        return "";
      }
    }
    return why;
  }

  void eraseDead(const llvm::DenseSet<Operation *> &visited, Operation *rootOp,
                 llvm::DenseSet<Operation *> &erased) {
    SetVector<Operation *> todo;
    todo.insert(rootOp);
    for (Operation *op : visited)
      todo.insert(op);
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t i = 0; i < todo.size(); ++i) {
        Operation *op = todo[i];
        if (erased.contains(op) || !isOpTriviallyDead(op))
          continue;
        SmallVector<Operation *> producers;
        op->walk([&](Operation *inner) {
          for (Value o : inner->getOperands())
            if (Operation *d = o.getDefiningOp(); d && !op->isAncestor(d))
              producers.push_back(d);
        });
        erased.insert(op);
        op->erase();
        changed = true;
        // What fed it (fills, empties, constants, tensor.dim) may be dead
        // now; isOpTriviallyDead keeps anything with side effects.
        for (Operation *p : producers)
          if (!erased.contains(p))
            todo.insert(p);
      }
    }
  }
};

} // namespace
