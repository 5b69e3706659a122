//===- CPDialect.h - cp dialect ---------------------------------*- C++ -*-===//

#ifndef CP_DIALECT_CP_IR_CPDIALECT_H
#define CP_DIALECT_CP_IR_CPDIALECT_H

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "cp/Dialect/CP/IR/CPDialect.h.inc"
#include "cp/Dialect/CP/IR/CPEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "cp/Dialect/CP/IR/CPAttributes.h.inc"

#define GET_TYPEDEF_CLASSES
#include "cp/Dialect/CP/IR/CPTypes.h.inc"

#endif // CP_DIALECT_CP_IR_CPDIALECT_H
