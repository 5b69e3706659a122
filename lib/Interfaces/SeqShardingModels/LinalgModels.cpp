//===- LinalgModels.cpp - sequence sharding of linalg ops ------------------===//
//
// Structured ops relate the sequence through their indexing maps: the loop
// that indexes the sequence dim of one operand carries it in every operand
// and result that the loop indexes. A parallel loop over the sequence keeps
// positions local (linalg.index becomes the original position); a reduction
// loop is all-reduced over the ranks.
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-context-parallel"

using namespace mlir;
using namespace mlir::cp;

namespace {

/// The loop that indexes dim `d` of `v` (an operand or result of `op`).
std::optional<unsigned> loopOf(linalg::LinalgOp op, Value v, int64_t d) {
  auto dimOf = [&](AffineMap map) -> std::optional<unsigned> {
    if (auto e = dyn_cast<AffineDimExpr>(map.getResult(d)))
      return e.getPosition();
    return std::nullopt;
  };
  std::optional<unsigned> loop;
  for (OpOperand &operand : op->getOpOperands())
    if (operand.get() == v)
      loop = dimOf(op.getMatchingIndexingMap(&operand));
  for (OpResult res : op->getResults())
    if (res == v)
      loop = dimOf(op.getIndexingMapMatchingResult(res));
  return loop;
}

LogicalResult relateStructured(linalg::LinalgOp op, Value v, int64_t d,
                               SeqRelateContext &ctx) {
  std::optional<unsigned> loop = loopOf(op, v, d);
  if (!loop)
    return op->emitOpError("indexes the sequence dim with a non-trivial "
                           "affine expression; cannot shard it");
  unsigned l = *loop;
  // Every operand and result that uses loop l carries the sequence there.
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (unsigned k = 0; k < map.getNumResults(); ++k) {
      AffineExpr e = map.getResult(k);
      if (auto de = dyn_cast<AffineDimExpr>(e)) {
        if (de.getPosition() == l && failed(ctx.add(operand.get(), k, op)))
          return failure();
      } else if (e.isFunctionOfDim(l)) {
        return op->emitOpError("indexes the sequence dim with a non-trivial "
                               "affine expression; cannot shard it");
      }
    }
  }
  for (OpResult res : op->getResults()) {
    AffineMap map = op.getIndexingMapMatchingResult(res);
    for (unsigned k = 0; k < map.getNumResults(); ++k)
      if (auto de = dyn_cast<AffineDimExpr>(map.getResult(k)))
        if (de.getPosition() == l && failed(ctx.add(res, k, op)))
          return failure();
  }
  if (op.getIteratorTypesArray()[l] == utils::IteratorType::reduction)
    ctx.addSeqReduction(op, l);
  else
    ctx.addSeqLoop(op, l);
  return success();
}

bool usesIndexOf(Operation *op, unsigned loop) {
  bool uses = false;
  op->walk([&](linalg::IndexOp idx) { uses |= idx.getDim() == loop; });
  return uses;
}

/// Replaces `linalg.index` of the sequence loop by the original position.
LogicalResult rewriteIndexOps(linalg::LinalgOp op, unsigned loop,
                              RewriterBase &rewriter, SeqRewriteContext &ctx) {
  if (!usesIndexOf(op, loop))
    return success();
  bool plain = llvm::all_of(op->getResults(), [&](Value r) {
    return !ctx.getSeqDim(r) || ctx.isPlain(r);
  });
  if (!plain)
    return op->emitOpError("uses the index of a loop over the sequence "
                           "merged with other dims; cannot rewrite it to "
                           "original positions");
  SmallVector<linalg::IndexOp> indices;
  op->walk([&](linalg::IndexOp idx) {
    if (idx.getDim() == loop)
      indices.push_back(idx);
  });
  Value rank = ctx.getRank();
  for (linalg::IndexOp idx : indices) {
    rewriter.setInsertionPointAfter(idx);
    auto pos = GlobalPositionOp::create(
        rewriter, idx.getLoc(), rewriter.getIndexType(), idx.getResult(), rank,
        ctx.getDocuments(),
        ctx.getGrid(), rewriter.getDenseI16ArrayAttr({}),
        cast<LoadBalancerAttr>(ctx.getBalancer()),
        rewriter.getI64IntegerAttr(ctx.getSeqLen()), IntegerAttr(),
        ctx.isPadded() ? rewriter.getUnitAttr() : UnitAttr());
    rewriter.replaceAllUsesExcept(idx.getResult(), pos, pos);
  }
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << op->getName() << ": "
                          << indices.size()
                          << " linalg.index of the sequence loop -> "
                             "cp.global_position\n");
  return success();
}

/// The shard.all_reduce kind for a linalg op reducing over the sequence, if
/// its combiner is a plain sum/max/min whose init is that kind's identity.
FailureOr<shard::ReductionKind> reductionKind(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1)
    return failure();
  SmallVector<Operation *> combiners;
  Value red = matchReduction(op.getRegionOutputArgs(), 0, combiners);
  if (!red || combiners.size() != 1)
    return failure();
  Operation *c = combiners.front();
  shard::ReductionKind kind;
  if (isa<arith::AddFOp, arith::AddIOp>(c))
    kind = shard::ReductionKind::Sum;
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp>(c))
    kind = shard::ReductionKind::Max;
  else if (isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp>(c))
    kind = shard::ReductionKind::Min;
  else
    return failure();
  // The init must not be counted once per rank: require a fill with the
  // identity (0 for sums; for max/min any value is idempotent).
  if (kind == shard::ReductionKind::Sum) {
    Value init = op.getDpsInits()[0];
    auto fill = init.getDefiningOp<linalg::FillOp>();
    if (!fill || !(matchPattern(fill.getInputs()[0], m_AnyZeroFloat()) ||
                   matchPattern(fill.getInputs()[0], m_Zero())))
      return failure();
  }
  return kind;
}

/// A reduction over the sequence: each rank reduces its shard, then the
/// partial results are all-reduced over the grid.
LogicalResult rewriteSeqReduction(linalg::LinalgOp op, unsigned loop,
                                  RewriterBase &rewriter,
                                  SeqRewriteContext &ctx) {
  FailureOr<shard::ReductionKind> kind = reductionKind(op);
  if (failed(kind) || usesIndexOf(op, loop))
    return op->emitOpError(
        "reduces over the sequence dim with a combiner or init that has no "
        "collective form (expected a sum from a zero fill, or a max/min)");
  rewriter.setInsertionPointAfter(op);
  for (OpResult res : op->getResults()) {
    auto reduced = shard::AllReduceOp::create(
        rewriter, op->getLoc(), res.getType(), ctx.getGrid(),
        rewriter.getDenseI16ArrayAttr({0}), res,
        shard::ReductionKindAttr::get(op->getContext(), *kind));
    rewriter.replaceAllUsesExcept(res, reduced.getResult(), reduced);
  }
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << op->getName()
                          << ": reduction over the sequence -> "
                             "shard.all_reduce "
                          << shard::stringifyReductionKind(*kind) << "\n");
  return success();
}

template <typename OpTy>
struct StructuredOpSeqSharding
    : SeqShardingOpInterface::ExternalModel<StructuredOpSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateStructured(cast<linalg::LinalgOp>(op), v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    if (std::optional<unsigned> loop = ctx.getSeqLoop(op))
      if (failed(rewriteIndexOps(linalgOp, *loop, rewriter, ctx)))
        return failure();
    if (std::optional<unsigned> loop = ctx.getSeqReduction(op))
      return rewriteSeqReduction(linalgOp, *loop, rewriter, ctx);
    return success();
  }
};

/// linalg.softmax: rows along the sequence normalise on their own; a
/// softmax over the sequence would need all of it.
struct SoftmaxSeqSharding
    : SeqShardingOpInterface::ExternalModel<SoftmaxSeqSharding,
                                            linalg::SoftmaxOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto softmax = cast<linalg::SoftmaxOp>(op);
    if ((int64_t)softmax.getDimension() == d)
      return op->emitOpError("normalises over the sequence dim outside "
                             "attention; cannot shard it");
    Value related[] = {softmax.getInput(), softmax.getOutput(),
                       softmax.getResult()[0]};
    for (Value x : related)
      if (failed(ctx.add(x, d, op)))
        return failure();
    return success();
  }
};

template <typename OpTy>
void registerOne(MLIRContext *ctx) {
  OpTy::template attachInterface<StructuredOpSeqSharding<OpTy>>(*ctx);
}

template <typename... OpTypes>
void registerAll(MLIRContext *ctx) {
  (registerOne<OpTypes>(ctx), ...);
}

} // namespace

void mlir::cp::detail::registerLinalgModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    registerAll<
#define GET_OP_LIST
#include "mlir/Dialect/Linalg/IR/LinalgStructuredOps.cpp.inc"
        >(ctx);
    linalg::SoftmaxOp::attachInterface<SoftmaxSeqSharding>(*ctx);
  });
}
