//===- TensorModels.cpp - sequence sharding of tensor ops ------------------===//
//
// Reshapes keep the sequence where it stays one contiguous factor of a dim;
// slices, inserts and concatenations commute with the split where they keep
// the sequence dim whole; tensor.extract reads its tensor whole.
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// expand: src dim g <-> res dims reassoc[g]; collapse: res dim g <-> src
/// dims reassoc[g]. The sequence (with the dims merged inside it) must stay
/// one contiguous factor: in the grouped side it is one dim k, and the
/// single dim holds it with inner factor inner_k * prod(sizes after k).
LogicalResult relateReshape(Operation *op, Value grouped, Value single,
                            ArrayRef<ReassociationIndices> reassoc, Value v,
                            int64_t d, SeqRelateContext &ctx) {
  auto gt = rankedTensor(grouped);
  int64_t inner = ctx.getInnerFactor();
  for (auto [g, group] : llvm::enumerate(reassoc)) {
    bool inGroup = (v == single && (int64_t)g == d) ||
                   (v == grouped && llvm::is_contained(group, d));
    if (!inGroup)
      continue;
    auto suffix = [&](unsigned pos) {
      int64_t p = 1;
      for (unsigned i = pos + 1; i < group.size(); ++i)
        p *= gt.getShape()[group[i]];
      return p;
    };
    if (v == grouped) {
      unsigned pos = llvm::find(group, d) - group.begin();
      return failure(failed(ctx.add(grouped, d, op, inner)) ||
                     failed(ctx.add(single, g, op, inner * suffix(pos))));
    }
    // From the single dim: find the grouped dim that holds the sequence.
    for (int pos = group.size() - 1; pos >= 0; --pos) {
      int64_t p = suffix(pos), size = gt.getShape()[group[pos]];
      if (inner % p != 0)
        continue;
      int64_t f = inner / p;
      if (size % (ctx.getSeqLen() * f) == 0)
        return failure(failed(ctx.add(single, g, op, inner)) ||
                       failed(ctx.add(grouped, group[pos], op, f)));
    }
    return op->emitOpError("splits the sequence dim across several dims; "
                           "cannot shard it");
  }
  return op->emitOpError("internal error: sequence dim not in a group");
}

struct ExpandShapeSeqSharding
    : SeqShardingOpInterface::ExternalModel<ExpandShapeSeqSharding,
                                            tensor::ExpandShapeOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    return relateReshape(op, expand.getResult(), expand.getSrc(),
                         expand.getReassociationIndices(), v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    rewriter.modifyOpInPlace(op, [&] {
      expand.setStaticOutputShapeAttr(
          rewriter.getDenseI64ArrayAttr(expand.getResultType().getShape()));
    });
    return success();
  }
};

struct CollapseShapeSeqSharding
    : SeqShardingOpInterface::ExternalModel<CollapseShapeSeqSharding,
                                            tensor::CollapseShapeOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto collapse = cast<tensor::CollapseShapeOp>(op);
    return relateReshape(op, collapse.getSrc(), collapse.getResult(),
                         collapse.getReassociationIndices(), v, d, ctx);
  }
};

/// A slice keeps dim `d` whole: offset 0, size `size`, stride 1.
LogicalResult keepsWholeDim(Operation *op, OffsetSizeAndStrideOpInterface s,
                            int64_t size, int64_t d) {
  std::optional<int64_t> off = getConstantIntValue(s.getMixedOffsets()[d]);
  std::optional<int64_t> sz = getConstantIntValue(s.getMixedSizes()[d]);
  std::optional<int64_t> st = getConstantIntValue(s.getMixedStrides()[d]);
  if (off != 0 || sz != size || st != 1)
    return op->emitOpError("slices the sequence dim (positions depend on "
                           "the slice); cannot shard it");
  return success();
}

/// The static sizes of a slice with the sequence dim `d` local.
DenseI64ArrayAttr localSizes(OpBuilder &b, ArrayRef<int64_t> sizes, int64_t d,
                             int64_t localLen) {
  SmallVector<int64_t> s(sizes);
  s[d] = localLen;
  return b.getDenseI64ArrayAttr(s);
}

struct ExtractSliceSeqSharding
    : SeqShardingOpInterface::ExternalModel<ExtractSliceSeqSharding,
                                            tensor::ExtractSliceOp> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &ctx) const {
    // Slices that keep the whole sequence (offset 0, full size, stride 1)
    // commute with the split; rank-reducing slices drop other dims.
    auto slice = cast<tensor::ExtractSliceOp>(op);
    if (slice.getSourceType().getRank() != slice.getType().getRank())
      return op->emitOpError("rank-reducing slice of a sequence tensor; "
                             "cannot shard it");
    if (failed(keepsWholeDim(op, slice, slice.getSourceType().getShape()[d],
                             d)))
      return failure();
    return failure(failed(ctx.add(slice.getSource(), d, op)) ||
                   failed(ctx.add(slice.getResult(), d, op)));
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto slice = cast<tensor::ExtractSliceOp>(op);
    if (std::optional<int64_t> d = ctx.getSeqDim(slice.getResult()))
      rewriter.modifyOpInPlace(op, [&] {
        slice.setStaticSizesAttr(localSizes(rewriter, slice.getStaticSizes(),
                                            *d, ctx.getLocalLen()));
      });
    return success();
  }
};

struct InsertSliceSeqSharding
    : SeqShardingOpInterface::ExternalModel<InsertSliceSeqSharding,
                                            tensor::InsertSliceOp> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &ctx) const {
    auto insert = cast<tensor::InsertSliceOp>(op);
    if (insert.getSourceType().getRank() != insert.getType().getRank())
      return op->emitOpError("rank-changing insert into a sequence tensor; "
                             "cannot shard it");
    if (failed(keepsWholeDim(op, insert, insert.getType().getShape()[d], d)))
      return failure();
    return failure(failed(ctx.add(insert.getSource(), d, op)) ||
                   failed(ctx.add(insert.getDest(), d, op)) ||
                   failed(ctx.add(insert.getResult(), d, op)));
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto insert = cast<tensor::InsertSliceOp>(op);
    if (std::optional<int64_t> d = ctx.getSeqDim(insert.getResult()))
      rewriter.modifyOpInPlace(op, [&] {
        insert.setStaticSizesAttr(localSizes(
            rewriter, insert.getStaticSizes(), *d, ctx.getLocalLen()));
      });
    return success();
  }
};

struct ConcatSeqSharding
    : SeqShardingOpInterface::ExternalModel<ConcatSeqSharding,
                                            tensor::ConcatOp> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &ctx) const {
    auto concat = cast<tensor::ConcatOp>(op);
    return mlir::cp::detail::relateConcat(
        op, concat.getDim(), concat.getInputs(), concat.getResult(), d, ctx);
  }
};

/// An element at data-dependent indices (transformers' packed-sequence mask
/// gathers document ids by position): read the whole tensor.
struct ExtractSeqSharding
    : SeqShardingOpInterface::ExternalModel<ExtractSeqSharding,
                                            tensor::ExtractOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto extract = cast<tensor::ExtractOp>(op);
    if (v != extract.getTensor() || ctx.getInnerFactor() != 1 ||
        rankedTensor(v).getShape()[d] != ctx.getSeqLen())
      return op->emitOpError("reads the sequence at data-dependent places "
                             "from a tensor that merges it with other dims; "
                             "cannot shard it");
    ctx.addWholeRead(extract.getTensorMutable());
    return success();
  }
};

struct EmptySeqSharding
    : SeqShardingOpInterface::ExternalModel<EmptySeqSharding,
                                            tensor::EmptyOp> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &) const {
    if (cast<tensor::EmptyOp>(op).getType().isDynamicDim(d))
      return op->emitOpError("has a dynamic sequence dim; expected static");
    return success();
  }
};

struct CastSeqSharding
    : SeqShardingOpInterface::ExternalModel<CastSeqSharding, tensor::CastOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateElementwise(op, v, d, ctx);
  }
};

} // namespace

void mlir::cp::detail::registerTensorModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::ExpandShapeOp::attachInterface<ExpandShapeSeqSharding>(*ctx);
    tensor::CollapseShapeOp::attachInterface<CollapseShapeSeqSharding>(*ctx);
    tensor::ExtractSliceOp::attachInterface<ExtractSliceSeqSharding>(*ctx);
    tensor::InsertSliceOp::attachInterface<InsertSliceSeqSharding>(*ctx);
    tensor::ConcatOp::attachInterface<ConcatSeqSharding>(*ctx);
    tensor::ExtractOp::attachInterface<ExtractSeqSharding>(*ctx);
    tensor::EmptyOp::attachInterface<EmptySeqSharding>(*ctx);
    tensor::CastOp::attachInterface<CastSeqSharding>(*ctx);
  });
}

LogicalResult mlir::cp::detail::relateConcat(Operation *op, int64_t axis,
                                             ValueRange inputs, Value result,
                                             int64_t d,
                                             SeqRelateContext &ctx) {
  if (axis == d)
    return op->emitOpError("concatenates along the sequence dim; cannot "
                           "shard it");
  for (Value x : inputs)
    if (failed(ctx.add(x, d, op)))
      return failure();
  return ctx.add(result, d, op);
}
