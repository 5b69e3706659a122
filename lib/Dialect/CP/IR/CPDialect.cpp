//===- CPDialect.cpp - cp dialect registration ----------------------------===//

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
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
