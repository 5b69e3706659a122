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
    One conversion pattern per op family (`lib/Conversion/LowerToRuntime.cpp`)
    over the table of runtime entries (`RuntimeCalls.cpp`, checked against
    the C prototypes at compile time); cp ops nested in scf regions are
    lowered too. `cp.global_position` becomes a lookup in a constant table of
    the balancer's layout; `cp.flex_attention`, which has no runtime entry,
    is decomposed into linalg with its modifiers inlined
    (`DecomposeFlex.cpp`). An op that cannot be lowered is reported at the
    op, every one in a single run. Communicator, rank and backend are the
    calling thread's runtime context: nothing about them is baked into the
    IR.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect", "::mlir::scf::SCFDialect"];
}

def CPFuseElementwise : Pass<"cp-fuse-elementwise", "ModuleOp"> {
  let summary = "Generalize linalg ops and fuse elementwise producers into their consumers (CPU codegen)";
  let description = [{
    Runs on tensors, before bufferization, as part of `cp-lower-to-llvm`:
    named linalg ops other than `linalg.fill` become `linalg.generic`, then
    upstream elementwise fusion merges producers into consumers so that a
    chain of elementwise ops (and the reduction that reads it) is one loop
    nest over memory instead of one per op. Into a contraction (a GEMM that
    `cp-linalg-to-blas` will hand to a BLAS) only pure copies with a
    permutation map are fused: a transposed weight becomes the contraction's
    indexing map, i.e. a transpose flag of the BLAS call, instead of a copy.
    Anything else fused into a contraction would hide it from the BLAS.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::math::MathDialect"];
}

def CPLinalgToBlas : Pass<"cp-linalg-to-blas", "ModuleOp"> {
  let summary = "Turn fp32 GEMM-shaped linalg contractions on buffers into cprt_c_matmul_f32 calls";
  let description = [{
    Runs on buffers (after bufferization) in `cp-lower-to-llvm`. A linalg op
    (named or generic) whose body is `mulf` + `addf` on f32 and whose maps
    are a (batched) matrix product, i.e. one optional batch dim first in
    every operand, one m, one n and one k dim, the result indexed
    `[batch, m, n]`, becomes a call of the runtime's `cprt_c_matmul_f32`
    (`runtime/include/cprt/cprt_compiler.h`), which runs it through
    OpenBLAS on the rank's threads. The order of (m, k) in the left operand
    and of (k, n) in the right one become the call's transpose flags; a
    `linalg.fill` of 0.0 of the result just before the op becomes the
    call's `beta = 0`. Operands must have a static unit stride in their last
    dim. Everything else (other element types, other shapes) is left to the
    loop lowering.

    Example:
    ```mlir
    linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>]
        ins(%a, %w : memref<64x32xf32>, memref<16x32xf32>)
        outs(%c : memref<64x16xf32>)
    // becomes
    %0 = memref.cast %a : memref<64x32xf32> to memref<*xf32>
    ...
    call @cprt_c_matmul_f32(%0, %1, %2, %flags)   // flags = TRANS_B | ACCUMULATE
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // CP_CONVERSION_PASSES_TD
