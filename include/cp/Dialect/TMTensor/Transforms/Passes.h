//===- Passes.h - tm_tensor passes ------------------------------*- C++ -*-===//

#ifndef CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_H
#define CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_H

#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::cp::tm_tensor {

#define GEN_PASS_DECL
#include "cp/Dialect/TMTensor/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "cp/Dialect/TMTensor/Transforms/Passes.h.inc"

} // namespace mlir::cp::tm_tensor

#endif // CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_H
