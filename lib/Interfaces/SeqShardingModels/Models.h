//===- Models.h - per-dialect external models (private) ---------*- C++ -*-===//

#ifndef CP_LIB_INTERFACES_MODELS_H
#define CP_LIB_INTERFACES_MODELS_H

#include "cp/Interfaces/SeqShardingOpInterface.h"

#include "mlir/IR/DialectRegistry.h"

namespace mlir::cp::detail {

void registerElementwiseModels(DialectRegistry &registry);
void registerLinalgModels(DialectRegistry &registry);
void registerTensorModels(DialectRegistry &registry);
void registerTosaModels(DialectRegistry &registry);
void registerTMTensorModels(DialectRegistry &registry);
void registerCPModels(DialectRegistry &registry);

/// Relates a row-major reshape between `a` and `b` (one of them `v`, with
/// the sequence in dim `d`): the sequence must stay one contiguous factor of
/// one dim on the other side.
LogicalResult relateGeneralReshape(Operation *op, Value a, Value b, Value v,
                                   int64_t d, SeqRelateContext &ctx);

/// Relates a concatenation along `axis` of `inputs` into `result`: the
/// sequence (dim `d`) must not be the concatenated dim; then every input and
/// the result carry it in `d`.
LogicalResult relateConcat(Operation *op, int64_t axis, ValueRange inputs,
                           Value result, int64_t d, SeqRelateContext &ctx);

} // namespace mlir::cp::detail

#endif // CP_LIB_INTERFACES_MODELS_H
