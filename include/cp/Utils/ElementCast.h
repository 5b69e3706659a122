//===- ElementCast.h - element-type casts that bufferize --------*- C++ -*-===//
//
// arith casts applied to whole tensors (arith.truncf on tensor<...>) do not
// bufferize; the passes that change element types of tensors use this
// linalg.generic form instead.
//
//===----------------------------------------------------------------------===//

#ifndef CP_UTILS_ELEMENTCAST_H
#define CP_UTILS_ELEMENTCAST_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::cp {

/// Converts the scalar `v` to `to` (float <-> float by ext/trunc, int/index
/// <-> int/index by sign extension, truncation or index_cast).
inline Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (isa<FloatType>(from) && isa<FloatType>(to))
    return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
               ? arith::ExtFOp::create(b, loc, to, v).getResult()
               : arith::TruncFOp::create(b, loc, to, v).getResult();
  if (from.isIndex() || to.isIndex())
    return arith::IndexCastOp::create(b, loc, to, v);
  return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
             ? arith::ExtSIOp::create(b, loc, to, v).getResult()
             : arith::TruncIOp::create(b, loc, to, v).getResult();
}

/// The tensor `t` with its elements converted to `to`, as one
/// element-wise linalg.generic (returns `t` when nothing changes).
inline Value castElements(OpBuilder &b, Location loc, Value t, Type to) {
  auto tt = cast<RankedTensorType>(t.getType());
  if (tt.getElementType() == to)
    return t;
  int64_t rank = tt.getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, t);
  Value init = tensor::EmptyOp::create(b, loc, sizes, to);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{t}, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l,
                                       castScalar(nb, l, args[0], to));
             })
      .getResult(0);
}

} // namespace mlir::cp

#endif // CP_UTILS_ELEMENTCAST_H
