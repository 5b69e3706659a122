//===- CPDialect.cpp - cp dialect registration ----------------------------===//

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::cp;

#include "cp/Dialect/CP/IR/CPDialect.cpp.inc"
#include "cp/Dialect/CP/IR/CPEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "cp/Dialect/CP/IR/CPAttributes.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cp/Dialect/CP/IR/CPTypes.cpp.inc"

namespace {
/// cp ops compute from their operands only (collectives from every rank in
/// the same order), so they keep their meaning when a call is inlined; the
/// cp pipeline inlines calls before making functions context-parallel.
struct CPInlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final {
    return true;
  }
  bool isLegalToInline(Region *, Region *, bool, IRMapping &) const final {
    return true;
  }
};
} // namespace

void CPDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "cp/Dialect/CP/IR/CPOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "cp/Dialect/CP/IR/CPAttributes.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "cp/Dialect/CP/IR/CPTypes.cpp.inc"
      >();
  addInterfaces<CPInlinerInterface>();
}

//===----------------------------------------------------------------------===//
// #cp.sharding
//===----------------------------------------------------------------------===//

LogicalResult ShardingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   FlatSymbolRefAttr grid, int64_t dim,
                                   int64_t seqLen, LoadBalancer balancer,
                                   bool pad) {
  if (!grid)
    return emitError() << "#cp.sharding needs a grid";
  if (dim < 0)
    return emitError() << "#cp.sharding dim must be >= 0, got " << dim;
  if (seqLen < 1)
    return emitError() << "#cp.sharding seq_len must be >= 1, got " << seqLen;
  if (!symbolizeLoadBalancer(static_cast<uint32_t>(balancer)))
    return emitError() << "#cp.sharding balancer "
                       << static_cast<uint32_t>(balancer)
                       << " is not a cp load balancer";
  return success();
}

/// A `cp.sharding` on a function argument or result (`what`, of `type`) is
/// a #cp.sharding whose dim is a dimension of the ranked shaped type.
static LogicalResult verifyShardingOn(Operation *op, NamedAttribute attr,
                                      Type type, const Twine &what) {
  auto sharding = dyn_cast<ShardingAttr>(attr.getValue());
  if (!sharding)
    return op->emitOpError()
           << what << ": '" << attr.getName().getValue()
           << "' must be a #cp.sharding attribute, got " << attr.getValue();
  // A ranked tensor; a memref once the function is bufferized (the
  // lowerings drop the attribute only then).
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return op->emitOpError()
           << what << " has a '" << attr.getName().getValue() << "' but type "
           << type << " (a ranked tensor or memref is sharded)";
  if (sharding.getDim() >= shaped.getRank())
    return op->emitOpError()
           << what << ": '" << attr.getName().getValue() << "' dim "
           << sharding.getDim() << " is out of range for " << type;
  return success();
}

LogicalResult CPDialect::verifyRegionArgAttribute(Operation *op,
                                                  unsigned regionIndex,
                                                  unsigned argIndex,
                                                  NamedAttribute attr) {
  auto fn = dyn_cast<FunctionOpInterface>(op);
  if (!fn || attr.getName() != getShardingAttrName())
    return success();
  return verifyShardingOn(op, attr, fn.getArgumentTypes()[argIndex],
                          "argument #" + Twine(argIndex));
}

LogicalResult CPDialect::verifyRegionResultAttribute(Operation *op,
                                                     unsigned regionIndex,
                                                     unsigned resultIndex,
                                                     NamedAttribute attr) {
  auto fn = dyn_cast<FunctionOpInterface>(op);
  if (!fn || attr.getName() != getShardingAttrName())
    return success();
  return verifyShardingOn(op, attr, fn.getResultTypes()[resultIndex],
                          "result #" + Twine(resultIndex));
}
