//===- ElementwiseModels.cpp - sequence sharding of elementwise ops -------===//
//
// arith and math ops that act element by element (the Elementwise trait)
// carry the sequence in the same dim everywhere; constants and func.return
// relate nothing (the pass shards constants and records returned shards).
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::cp;

namespace {

template <typename OpTy>
struct ElementwiseSeqSharding
    : SeqShardingOpInterface::ExternalModel<ElementwiseSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateElementwise(op, v, d, ctx);
  }
};

/// Ops that relate nothing: a constant along the sequence is sharded by the
/// pass (cp.shard), a returned tensor becomes a returned shard.
template <typename OpTy>
struct NoRelationSeqSharding
    : SeqShardingOpInterface::ExternalModel<NoRelationSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *, Value, int64_t,
                             SeqRelateContext &) const {
    return success();
  }
};

/// Attaches the elementwise model to every op of `OpTys` that is
/// elementwise (ElementwiseMappable: its non-scalar operands and results
/// all have one shape).
template <typename... OpTys>
void registerElementwise(MLIRContext *ctx) {
  (
      [&] {
        if constexpr (OpTys::template hasTrait<OpTrait::Elementwise>())
          OpTys::template attachInterface<ElementwiseSeqSharding<OpTys>>(*ctx);
      }(),
      ...);
}

} // namespace

void mlir::cp::detail::registerElementwiseModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    registerElementwise<
#define GET_OP_LIST
#include "mlir/Dialect/Arith/IR/ArithOps.cpp.inc"
        >(ctx);
    arith::ConstantOp::attachInterface<
        NoRelationSeqSharding<arith::ConstantOp>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, math::MathDialect *) {
    registerElementwise<
#define GET_OP_LIST
#include "mlir/Dialect/Math/IR/MathOps.cpp.inc"
        >(ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, func::FuncDialect *) {
    func::ReturnOp::attachInterface<NoRelationSeqSharding<func::ReturnOp>>(
        *ctx);
  });
}
