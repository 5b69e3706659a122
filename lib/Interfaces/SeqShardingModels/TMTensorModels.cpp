//===- TMTensorModels.cpp - sequence sharding of tm_tensor.scan ------------===//
//
// A scan over another dim scans every sequence position on its own; an
// inclusive sum or product scan along the sequence becomes cp.seq_scan (a
// local scan plus an exclusive scan of chunk totals across ranks).
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"
#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-context-parallel"

using namespace mlir;
using namespace mlir::cp;

namespace {

/// The cp.seq_scan kind of a scan region that is one sum or product.
std::optional<ScanKind> scanKindOf(tm_tensor::ScanOp scan) {
  Operation *c = scan.getCombiner();
  if (isa_and_nonnull<arith::AddFOp, arith::AddIOp>(c))
    return ScanKind::sum;
  if (isa_and_nonnull<arith::MulFOp, arith::MulIOp>(c))
    return ScanKind::prod;
  return std::nullopt;
}

/// Checks that the scan along the sequence has a collective form.
LogicalResult checkSeqScan(tm_tensor::ScanOp op, SeqRelateContext &ctx) {
  if (ctx.getInnerFactor() != 1)
    return op.emitOpError("scans along the sequence merged with other dims; "
                          "cannot shard it");
  if (!op.getInclusive())
    return op.emitOpError("is an exclusive scan along the sequence dim; only "
                          "inclusive scans (torch.cumsum, torch.cumprod) can "
                          "be made context-parallel");
  if (!scanKindOf(op))
    return op.emitOpError("scans along the sequence dim with a combiner that "
                          "has no collective form (expected one arith.add or "
                          "arith.mul of the two block arguments)");
  if (!op.getAccumulatorResult().use_empty())
    return op.emitOpError("uses the accumulator result of a scan along the "
                          "sequence dim (the value at the last position); "
                          "cannot shard it");
  Type et = op.getInput().getType().getElementType();
  if (!et.isF32() && !et.isF64() && !et.isInteger(32) && !et.isInteger(64))
    return op.emitOpError("scans along the sequence dim over ")
           << et << " elements; context-parallel scans take f32, f64, i32 or i64";
  return success();
}

/// Erases `v`'s defining fill / empty chain once nothing uses it.
void eraseDeadInit(RewriterBase &rewriter, Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !def->use_empty() || !isa<linalg::FillOp, tensor::EmptyOp>(def))
    return;
  SmallVector<Value> operands(def->getOperands());
  rewriter.eraseOp(def);
  for (Value x : operands)
    eraseDeadInit(rewriter, x);
}

struct ScanSeqSharding
    : SeqShardingOpInterface::ExternalModel<ScanSeqSharding,
                                            tm_tensor::ScanOp> {
  LogicalResult relateSeqDim(Operation *o, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    // input, output and result share all dims; the accumulator (and its
    // result) lacks the scanned one.
    auto op = cast<tm_tensor::ScanOp>(o);
    int64_t scanDim = op.getDimension();
    bool full =
        v == op.getInput() || v == op.getOutput() || v == op.getResult();
    int64_t fullDim = full ? d : d + (d >= scanDim ? 1 : 0);
    Value fulls[] = {op.getInput(), op.getOutput(), op.getResult()};
    if (fullDim != scanDim) {
      // A scan over another dim: every sequence position scans on its own.
      int64_t accDim = fullDim - (fullDim > scanDim ? 1 : 0);
      for (Value x : fulls)
        if (failed(ctx.add(x, fullDim, op)))
          return failure();
      return failure(failed(ctx.add(op.getAccumulator(), accDim, op)) ||
                     failed(ctx.add(op.getAccumulatorResult(), accDim, op)));
    }
    if (failed(checkSeqScan(op, ctx)))
      return failure();
    ctx.addSeqScan(op);
    for (Value x : fulls)
      if (failed(ctx.add(x, d, op)))
        return failure();
    return success();
  }

  /// The analysis checked that the scan is an inclusive sum or product
  /// whose accumulator result is unused.
  LogicalResult rewriteToLocal(Operation *o, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    if (!ctx.isSeqScan(o))
      return success();
    auto scan = cast<tm_tensor::ScanOp>(o);
    rewriter.setInsertionPoint(scan);
    Value input = scan.getInput();
    auto seqScan = SeqScanOp::create(
        rewriter, scan.getLoc(), input.getType(), input, ctx.getGrid(),
        rewriter.getDenseI16ArrayAttr({}),
        rewriter.getI64IntegerAttr(scan.getDimension()),
        cast<LoadBalancerAttr>(ctx.getBalancer()),
        rewriter.getI64IntegerAttr(ctx.getSeqLen()),
        ScanKindAttr::get(rewriter.getContext(), *scanKindOf(scan)),
        ctx.isPadded() ? rewriter.getUnitAttr() : UnitAttr());
    rewriter.replaceAllUsesWith(scan.getResult(), seqScan.getResult());
    Value out = scan.getOutput(), acc = scan.getAccumulator();
    rewriter.eraseOp(scan);
    eraseDeadInit(rewriter, out);
    eraseDeadInit(rewriter, acc);
    LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] tm_tensor.scan along "
                               "the sequence -> cp.seq_scan\n");
    return success();
  }
};

} // namespace

void mlir::cp::detail::registerTMTensorModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tm_tensor::TMTensorDialect *) {
    tm_tensor::ScanOp::attachInterface<ScanSeqSharding>(*ctx);
  });
}
