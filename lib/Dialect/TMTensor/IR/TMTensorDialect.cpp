//===- TMTensorDialect.cpp - tm_tensor dialect registration ---------------===//

#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"
#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::cp::tm_tensor;

#include "cp/Dialect/TMTensor/IR/TMTensorDialect.cpp.inc"

void TMTensorDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "cp/Dialect/TMTensor/IR/TMTensorOps.cpp.inc"
      >();
}

/// Parse hook for the tm_tensor ops this project does not define.
static ParseResult parseUnsupportedOp(OpAsmParser &parser,
                                      OperationState &state) {
  return parser.emitError(parser.getNameLoc())
         << "'" << state.name.getStringRef()
         << "' is not supported: cp defines only tm_tensor.scan and "
            "tm_tensor.yield of torch-mlir's TMTensor dialect (scatter, "
            "sort, topk and attention come from index_put/scatter, sort, "
            "topk and undecomposed attention; export those through TOSA or "
            "decompose them before export)";
}

std::optional<Dialect::ParseOpHook>
TMTensorDialect::getParseOperationHook(StringRef opName) const {
  if (std::optional<RegisteredOperationName> op =
          RegisteredOperationName::lookup(opName, getContext()))
    return Dialect::getParseOperationHook(opName);
  return ParseOpHook(parseUnsupportedOp);
}
