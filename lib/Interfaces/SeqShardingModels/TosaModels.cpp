//===- TosaModels.cpp - sequence sharding of TOSA ops ----------------------===//
//
// TOSA elementwise ops (with size-1 broadcasting), data movement that keeps
// the sequence dim whole, reductions over other dims, gather (a table along
// the sequence is read whole), tile, concat, reshape, transpose and the
// rows of matmul.
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Constant values of a !tosa.shape operand, or std::nullopt.
std::optional<SmallVector<int64_t>> constShape(Value shape) {
  auto cst = shape.getDefiningOp<tosa::ConstShapeOp>();
  if (!cst)
    return std::nullopt;
  return llvm::to_vector(
      cast<DenseIntElementsAttr>(cst.getValues()).getValues<int64_t>());
}

/// A tosa.const_shape of `values` before `op`.
Value createConstShape(RewriterBase &rewriter, Operation *op, Type type,
                       ArrayRef<int64_t> values) {
  rewriter.setInsertionPoint(op);
  auto shapeType = RankedTensorType::get({(int64_t)values.size()},
                                         rewriter.getIndexType());
  return tosa::ConstShapeOp::create(
      rewriter, op->getLoc(), type,
      DenseIntElementsAttr::get(shapeType, values));
}

template <typename OpTy>
struct ElementwiseSeqSharding
    : SeqShardingOpInterface::ExternalModel<ElementwiseSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateElementwise(op, v, d, ctx);
  }
};

/// Checks that a slice, pad or reverse leaves the sequence dim `d` (of
/// size `size`) whole.
LogicalResult checkDataMovement(Operation *op, int64_t d, int64_t size) {
  if (auto slice = dyn_cast<tosa::SliceOp>(op)) {
    std::optional<SmallVector<int64_t>> start = constShape(slice.getStart()),
                                        sizes = constShape(slice.getSize());
    if (!start || !sizes)
      return op->emitOpError("slices with a start or size that is not a "
                             "tosa.const_shape; cannot shard it");
    int64_t sz = (*sizes)[d] == -1 ? size - (*start)[d] : (*sizes)[d];
    if ((*start)[d] != 0 || sz != size)
      return op->emitOpError("slices the sequence dim ")
             << d << " (start " << (*start)[d] << ", size " << (*sizes)[d]
             << " of " << size
             << "); positions depend on the slice, cannot shard it";
  } else if (auto pad = dyn_cast<tosa::PadOp>(op)) {
    std::optional<SmallVector<int64_t>> padding = constShape(pad.getPadding());
    if (!padding)
      return op->emitOpError("pads by a tosa.shape that is not constant; "
                             "cannot shard it");
    if ((*padding)[2 * d] != 0 || (*padding)[2 * d + 1] != 0)
      return op->emitOpError("pads the sequence dim ")
             << d << " (by " << (*padding)[2 * d] << " before and "
             << (*padding)[2 * d + 1]
             << " after; torch-mlir's TOSA cumsum shifts the sequence this "
                "way); cannot shard it";
  } else if (auto reverse = dyn_cast<tosa::ReverseOp>(op)) {
    if (reverse.getAxis() == d)
      return op->emitOpError("reverses the sequence dim; cannot shard it");
  }
  return success();
}

/// slice, pad, reverse, identity: each keeps the dims of its first operand
/// in place; they commute with the split where they leave the sequence dim
/// whole.
template <typename OpTy>
struct DataMovementSeqSharding
    : SeqShardingOpInterface::ExternalModel<DataMovementSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    Value in = op->getOperand(0), out = op->getResult(0);
    if (v != in && v != out)
      return op->emitOpError("the sequence reaches a shape operand; cannot "
                             "shard it");
    if (failed(checkDataMovement(op, d, rankedTensor(in).getShape()[d])))
      return failure();
    return failure(failed(ctx.add(in, d, op)) || failed(ctx.add(out, d, op)));
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &) const {
    // A slice keeps the whole (local) sequence dim: its size follows the
    // result.
    if (auto slice = dyn_cast<tosa::SliceOp>(op)) {
      Value size =
          createConstShape(rewriter, op, slice.getSize().getType(),
                           rankedTensor(slice.getOutput()).getShape());
      rewriter.modifyOpInPlace(op,
                               [&] { slice.getSizeMutable().assign(size); });
    }
    return success();
  }
};

template <typename OpTy>
struct ReduceSeqSharding
    : SeqShardingOpInterface::ExternalModel<ReduceSeqSharding<OpTy>, OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &ctx) const {
    auto axis = op->getAttrOfType<IntegerAttr>("axis");
    if (!axis || axis.getInt() == d)
      return op->emitOpError("reduces over the sequence dim outside "
                             "attention; cannot shard it");
    // argmax drops its axis; the reductions keep it with size 1.
    int64_t outDim = isa<tosa::ArgMaxOp>(op) && d > axis.getInt() ? d - 1 : d;
    return failure(failed(ctx.add(op->getOperand(0), d, op)) ||
                   failed(ctx.add(op->getResult(0), outDim, op)));
  }
};

/// values [N, K, C], indices [N, W] -> out [N, W, C]. N is a batch dim; W
/// only selects (indices are data, the table is read whole); K is read at
/// data-dependent places: a table along the sequence is read whole.
struct GatherSeqSharding
    : SeqShardingOpInterface::ExternalModel<GatherSeqSharding,
                                            tosa::GatherOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto gather = cast<tosa::GatherOp>(op);
    Value values = gather.getValues(), indices = gather.getIndices(),
          out = gather.getOutput();
    if (v == values && d == 1) {
      if (ctx.getInnerFactor() != 1 ||
          rankedTensor(values).getShape()[1] != ctx.getSeqLen())
        return op->emitOpError("gathers along the sequence dim merged with "
                               "other dims; cannot shard it");
      ctx.addWholeRead(gather.getValuesMutable());
      return success();
    }
    if (d == 0)
      return failure(failed(ctx.add(values, 0, op)) ||
                     failed(ctx.add(indices, 0, op)) ||
                     failed(ctx.add(out, 0, op)));
    if (d == 1 && (v == indices || v == out))
      return failure(failed(ctx.add(indices, 1, op)) ||
                     failed(ctx.add(out, 1, op)));
    return op->emitOpError("internal error: unexpected gather dim");
  }
};

struct TileSeqSharding
    : SeqShardingOpInterface::ExternalModel<TileSeqSharding, tosa::TileOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto tile = cast<tosa::TileOp>(op);
    auto in = rankedTensor(tile.getInput1());
    if (in.getShape()[d] == 1 && v == tile.getOutput())
      return success(); // replicated along the sequence: only the output
    std::optional<SmallVector<int64_t>> multiples =
        constShape(tile.getMultiples());
    if (!multiples || (*multiples)[d] != 1)
      return op->emitOpError("tiles along the sequence dim; cannot shard it");
    return failure(failed(ctx.add(tile.getInput1(), d, op)) ||
                   failed(ctx.add(tile.getOutput(), d, op)));
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto tile = cast<tosa::TileOp>(op);
    std::optional<int64_t> d = ctx.getSeqDim(tile.getOutput());
    if (!d)
      return success();
    // Along the sequence: replicated (input size 1) to the local length,
    // or carried by the input (multiple 1, unchanged).
    SmallVector<int64_t> multiples = *constShape(tile.getMultiples());
    if (rankedTensor(tile.getInput1()).getShape()[*d] == 1)
      multiples[*d] = rankedTensor(tile.getOutput()).getShape()[*d];
    Value shape = createConstShape(rewriter, op, tile.getMultiples().getType(),
                                   multiples);
    rewriter.modifyOpInPlace(op,
                             [&] { tile.getMultiplesMutable().assign(shape); });
    return success();
  }
};

struct ConcatSeqSharding
    : SeqShardingOpInterface::ExternalModel<ConcatSeqSharding,
                                            tosa::ConcatOp> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t d,
                             SeqRelateContext &ctx) const {
    auto concat = cast<tosa::ConcatOp>(op);
    return mlir::cp::detail::relateConcat(
        op, concat.getAxis(), concat.getInput1(), concat.getOutput(), d, ctx);
  }
};

struct ReshapeSeqSharding
    : SeqShardingOpInterface::ExternalModel<ReshapeSeqSharding,
                                            tosa::ReshapeOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto reshape = cast<tosa::ReshapeOp>(op);
    if (!reshape.getShape().getDefiningOp<tosa::ConstShapeOp>())
      return op->emitOpError("reshapes the sequence to a shape that is not "
                             "constant; cannot shard it");
    return cp::detail::relateGeneralReshape(op, reshape.getInput1(),
                                        reshape.getResult(), v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto reshape = cast<tosa::ReshapeOp>(op);
    if (!ctx.getSeqDim(reshape.getResult()))
      return success();
    Value shape = createConstShape(rewriter, op, reshape.getShape().getType(),
                                   reshape.getResult().getType().getShape());
    rewriter.modifyOpInPlace(op,
                             [&] { reshape.getShapeMutable().assign(shape); });
    return success();
  }
};

struct TransposeSeqSharding
    : SeqShardingOpInterface::ExternalModel<TransposeSeqSharding,
                                            tosa::TransposeOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto transpose = cast<tosa::TransposeOp>(op);
    ArrayRef<int32_t> perms = transpose.getPerms();
    if (v == transpose.getInput1())
      return ctx.add(transpose.getResult(), llvm::find(perms, d) - perms.begin(),
                     op);
    return ctx.add(transpose.getInput1(), perms[d], op);
  }
};

/// [N, H, C] x [N, C, W] -> [N, H, W]: rows of A are rows of the result.
struct MatMulSeqSharding
    : SeqShardingOpInterface::ExternalModel<MatMulSeqSharding,
                                            tosa::MatMulOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    auto matmul = cast<tosa::MatMulOp>(op);
    if ((v == matmul.getA() || v == matmul.getResult()) && d == 1)
      return failure(failed(ctx.add(matmul.getA(), 1, op)) ||
                     failed(ctx.add(matmul.getResult(), 1, op)));
    return op->emitOpError("contracts or batches over the sequence dim "
                           "outside attention; cannot shard it");
  }
};

struct ConstSeqSharding
    : SeqShardingOpInterface::ExternalModel<ConstSeqSharding, tosa::ConstOp> {
  LogicalResult relateSeqDim(Operation *, Value, int64_t,
                             SeqRelateContext &) const {
    return success(); // the pass shards constants (cp.shard)
  }
};

template <typename... OpTys>
void registerElementwise(MLIRContext *ctx) {
  (OpTys::template attachInterface<ElementwiseSeqSharding<OpTys>>(*ctx), ...);
}

template <template <typename> class Model, typename... OpTys>
void registerEach(MLIRContext *ctx) {
  (OpTys::template attachInterface<Model<OpTys>>(*ctx), ...);
}

} // namespace

LogicalResult mlir::cp::detail::relateGeneralReshape(Operation *op, Value a,
                                                     Value b, Value v,
                                                     int64_t d,
                                                     SeqRelateContext &ctx) {
  // Row-major reshape: view both shapes as one flat index. The sequence of
  // `v` spans flat strides [inner, inner * S) of the flat range of dim d;
  // on the other side it must lie inside one dim whose own stride divides
  // it.
  Value other = v == a ? b : a;
  ArrayRef<int64_t> from = rankedTensor(v).getShape(),
                    to = rankedTensor(other).getShape();
  auto stride = [](ArrayRef<int64_t> shape, int64_t dim) {
    int64_t p = 1;
    for (int64_t i = dim + 1; i < (int64_t)shape.size(); ++i)
      p *= shape[i];
    return p;
  };
  int64_t lo = stride(from, d) * ctx.getInnerFactor(); // one position
  int64_t hi = lo * ctx.getSeqLen();                   // the whole sequence
  for (int64_t m = 0; m < (int64_t)to.size(); ++m) {
    int64_t st = stride(to, m);
    if (lo % st != 0 || hi > st * to[m] || (st * to[m]) % hi != 0)
      continue;
    return failure(failed(ctx.add(v, d, op)) ||
                   failed(ctx.add(other, m, op, lo / st)));
  }
  return op->emitOpError("reshapes the sequence across several dims; cannot "
                         "shard it");
}

void mlir::cp::detail::registerTosaModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tosa::TosaDialect *) {
    using namespace tosa;
    registerElementwise<
        AddOp, SubOp, MulOp, PowOp, MaximumOp, MinimumOp, ExpOp, LogOp,
        ReciprocalOp, RsqrtOp, NegateOp, AbsOp, CastOp, SelectOp, GreaterOp,
        GreaterEqualOp, EqualOp, LogicalAndOp, LogicalOrOp, LogicalNotOp,
        ClampOp, SigmoidOp, TanhOp, ErfOp, SinOp, CosOp, CeilOp, FloorOp,
        IntDivOp, BitwiseAndOp>(ctx);
    registerEach<DataMovementSeqSharding, SliceOp, PadOp, ReverseOp,
                 IdentityOp>(ctx);
    registerEach<ReduceSeqSharding, ReduceSumOp, ReduceMaxOp, ReduceMinOp,
                 ReduceProductOp, ReduceAllOp, ReduceAnyOp, ArgMaxOp>(ctx);
    GatherOp::attachInterface<GatherSeqSharding>(*ctx);
    TileOp::attachInterface<TileSeqSharding>(*ctx);
    ConcatOp::attachInterface<ConcatSeqSharding>(*ctx);
    ReshapeOp::attachInterface<ReshapeSeqSharding>(*ctx);
    TransposeOp::attachInterface<TransposeSeqSharding>(*ctx);
    MatMulOp::attachInterface<MatMulSeqSharding>(*ctx);
    ConstOp::attachInterface<ConstSeqSharding>(*ctx);
  });
}
