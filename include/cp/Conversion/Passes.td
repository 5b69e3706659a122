//===- Passes.td - cp lowering passes ----------------------*- tablegen -*-===//

#ifndef CP_CONVERSION_PASSES_TD
#define CP_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPLowerToRuntime : Pass<"cp-lower-to-runtime", "ModuleOp"> {
  let summary = "Lower cp and shard ops of per-rank functions to calls into the cprt runtime";
  let description = [{
    Runs on tensors, before one-shot bufferization: every cp op (and the
    upstream shard collectives the context-parallel pass emits) becomes a
    `func.call` to a runtime function of the C ABI
    (`runtime/include/cprt/cprt_compiler.h`) on contiguous buffers obtained
    with `bufferization.to_buffer`, writing into freshly allocated buffers
    that re-enter tensor land through `bufferization.to_tensor restrict`.
    `cp.global_position` becomes arithmetic; `cp.flex_attention` and
    `cp.sdpa` without a runtime path are decomposed. Communicator, rank and
    backend are the calling thread's runtime context: nothing about them is
    baked into the IR.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect", "::mlir::scf::SCFDialect"];
}

#endif // CP_CONVERSION_PASSES_TD
