//===- TMTensorOps.cpp - tm_tensor op verifiers ---------------------------===//

#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::cp::tm_tensor;

#define GET_OP_CLASSES
#include "cp/Dialect/TMTensor/IR/TMTensorOps.cpp.inc"

LogicalResult ScanOp::verify() {
  auto in = getInput().getType(), out = getOutput().getType(),
       acc = getAccumulator().getType();
  int64_t rank = in.getRank(), dim = getDimension();
  if (dim < 0 || dim >= rank)
    return emitOpError("dimension ")
           << dim << " is out of range for an input of rank " << rank;
  if (out != in)
    return emitOpError("expected the output type ")
           << out << " to equal the input type " << in;
  SmallVector<int64_t> accShape(in.getShape());
  accShape.erase(accShape.begin() + dim);
  if (acc.getElementType() != in.getElementType() ||
      acc.getShape() != ArrayRef<int64_t>(accShape))
    return emitOpError("expected the accumulator to have the input's shape "
                       "without dimension ")
           << dim << " and its element type, got " << acc;
  if (getResult().getType() != out || getAccumulatorResult().getType() != acc)
    return emitOpError("expected the results to have the types of the outs "
                       "operands");
  Block &body = getRegion().front();
  Type et = in.getElementType();
  if (body.getNumArguments() != 2 ||
      llvm::any_of(body.getArgumentTypes(), [&](Type t) { return t != et; }))
    return emitOpError("expected the region to take two arguments of the "
                       "element type ")
           << et;
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getOperands().size() != 1 ||
      yield.getOperands()[0].getType() != et)
    return emitOpError("expected the region to yield one value of type ") << et;
  return success();
}

Operation *ScanOp::getCombiner() {
  Block &body = getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  Operation *op = &body.front();
  auto yield = cast<YieldOp>(body.getTerminator());
  if (op->getNumOperands() != 2 || op->getNumResults() != 1 ||
      yield.getOperands()[0] != op->getResult(0))
    return nullptr;
  // Both block arguments, once each (either order for commutative ops).
  Value a = body.getArgument(0), b = body.getArgument(1);
  bool direct = op->getOperand(0) == a && op->getOperand(1) == b;
  bool swapped = op->getOperand(0) == b && op->getOperand(1) == a;
  if (!direct && !swapped)
    return nullptr;
  return op;
}
