// fp32 matrix products through the runtime's BLAS entry (cp-linalg-to-blas)
// against a float64 loop reference on fresh random inputs: a transposed
// weight folded into the call, a batched product, a transposed left operand
// accumulated into an existing result, a one-row product.

// RUN: %cp-run %S/Inputs/gemm.mlir --entry gemm --reference %S/Inputs/gemm_f64.mlir --compare-single-device --random-inputs --seed 151 --rtol 1e-5 --atol 1e-5 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/gemm.mlir --entry gemm --reference %S/Inputs/gemm_f64.mlir --compare-single-device --random-inputs --seed 152 --rtol 1e-5 --atol 1e-5 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(37, 23): {{.*}} ok
// CHECK: result #1 vs single device f32(3, 37, 23): {{.*}} ok
// CHECK: result #2 vs single device f32(37, 23): {{.*}} ok
// CHECK: result #3 vs single device f32(1, 23): {{.*}} ok

// The f32 module really calls the BLAS (four calls, no copy of the
// transposed weight), the f64 reference does not:
// RUN: cp-opt %S/Inputs/gemm.mlir --cp-lower-to-llvm | FileCheck %s --check-prefix=LLVM
// LLVM-COUNT-4: llvm.call @cprt_c_matmul_f32
// LLVM-NOT: llvm.call @cprt_c_matmul_f32
// RUN: cp-opt %S/Inputs/gemm_f64.mlir --cp-lower-to-llvm | FileCheck %s --check-prefix=F64
// F64-NOT: cprt_c_matmul

// torch-mlir's Llama block (linalg and TOSA exports), per rank: its seven
// projections (x · Wᵀ, the weight transposed by linalg.transpose or
// tosa.transpose) all reach the BLAS, attention the runtime's ring (expanded
// into block attention steps).
// RUN: cp-opt %fixtures/Inputs/llama_block_f32.linalg.mlir --cp-pipeline="grid-size=2" --cp-lower-to-llvm | FileCheck %s --check-prefix=LLAMA
// RUN: cp-opt %fixtures/Inputs/llama_block_f32.tosa.mlir --cp-pipeline="grid-size=2" --cp-lower-to-llvm | FileCheck %s --check-prefix=LLAMA
// LLAMA-COUNT-7: llvm.call @cprt_c_matmul_f32
// LLAMA-NOT: llvm.call @cprt_c_matmul_f32
// LLAMA: llvm.func @cprt_c_block_fwd_f32
