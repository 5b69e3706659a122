// REQUIRES: ptxas
// RUN: cp-opt %s --cp-lower-to-llvm="target=cuda" --mlir-print-ir-after=convert-gpu-to-nvvm -o /dev/null 2>&1 | FileCheck %s

// torch-mlir writes `x ** 2` as math.fpowi with an i64 exponent; libdevice's
// __nv_powif takes an i32, and the mismatched call computed NaN on the GPU
// (the first run of the compiled Llama block). The GPU path narrows the
// exponent first.

// CHECK: llvm.call @__nv_powif({{.+}}) : (f32, i32) -> f32
// CHECK-NOT: @__nv_powif(f32, i64)
func.func @square(%x: tensor<64xf32>) -> tensor<64xf32> {
  %c2 = arith.constant 2 : i64
  %e = tensor.empty() : tensor<64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = math.fpowi %a, %c2 : f32, i64
    linalg.yield %p : f32
  } -> tensor<64xf32>
  return %y : tensor<64xf32>
}
