//===- DetectExprUtils.h - DetectExpr internals -----------------*- C++ -*-===//
//
// Helpers shared by the DetectExpr*.cpp files (not by DetectExpr.h's
// users): saturating floor division and reading scalar constants.
//
//===----------------------------------------------------------------------===//

#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPRUTILS_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPRUTILS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Value.h"

#include <cstdint>

namespace mlir::cp::detect {

/// floor(a / c); a saturated bound (|a| >= 2^60, "infinite") is kept.
int64_t floorDiv(int64_t a, int64_t c);

/// Reads a scalar constant (float or int/bool) from an attribute.
bool scalarOf(Attribute a, double &f, int64_t &i);

/// The dense elements of an arith.constant or tosa.const defining `v`;
/// null otherwise.
DenseElementsAttr denseConstantOf(Value v);

} // namespace mlir::cp::detect

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPRUTILS_H
