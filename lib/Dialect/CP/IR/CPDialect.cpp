//===- CPDialect.cpp - cp dialect registration ----------------------------===//

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::cp;

#include "cp/Dialect/CP/IR/CPDialect.cpp.inc"
#include "cp/Dialect/CP/IR/CPEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "cp/Dialect/CP/IR/CPAttributes.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "cp/Dialect/CP/IR/CPTypes.cpp.inc"

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
}
