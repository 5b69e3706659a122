//===- SeqShardingOpInterface.cpp - sequence sharding of ops --------------===//

#include "cp/Interfaces/SeqShardingOpInterface.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::cp;

SeqRelateContext::~SeqRelateContext() = default;
SeqRewriteContext::~SeqRewriteContext() = default;

LogicalResult mlir::cp::relateElementwise(Operation *op, Value v, int64_t d,
                                          SeqRelateContext &ctx) {
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  for (Value x : llvm::concat<Value>(op->getOperands(), op->getResults())) {
    auto t = dyn_cast<RankedTensorType>(x.getType());
    if (!t || t.getRank() != rank)
      continue;
    if (t.getShape()[d] == 1 && ctx.getSeqLen() != 1)
      continue; // broadcast along the sequence
    if (failed(ctx.add(x, d, op)))
      return failure();
  }
  return success();
}

#include "cp/Interfaces/SeqShardingOpInterface.cpp.inc"
