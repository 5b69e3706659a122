//===- Passes.h - cp lowering passes and pipeline ---------------*- C++ -*-===//

#ifndef CP_CONVERSION_PASSES_H
#define CP_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::cp {

#define GEN_PASS_DECL
#include "cp/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "cp/Conversion/Passes.h.inc"

/// Lowers a module (single-device or per-rank) to the LLVM dialect:
/// cp-lower-to-runtime, one-shot bufferization (identity layouts at function
/// boundaries), buffer results to out-params, loops, LLVM conversion.
///
/// The contract with runners (cp-run, AOT hosts): every public function
/// `@f(args...) -> (results...)` of the input becomes
/// `@f(args..., outs...) -> ()` taking one memref per tensor argument and
/// one out-param memref per tensor result, all with identity layout, and
/// carries `llvm.emit_c_interface` (so `_mlir_ciface_f` takes pointers to
/// memref descriptors). The functions call `cprt_*` symbols of
/// runtime/include/cprt/cprt.h and cprt_compiler.h.
void buildCPLowerToLLVMPipeline(OpPassManager &pm);

/// Registers the `cp-lower-to-llvm` pass pipeline.
void registerCPLowerToLLVMPipeline();

} // namespace mlir::cp

#endif // CP_CONVERSION_PASSES_H
