// RUN: cp-opt %s | FileCheck %s
// RUN: cp-opt %s | cp-opt | FileCheck %s
// RUN: cp-opt %s --mlir-print-op-generic | cp-opt | FileCheck %s

// What torch-mlir's FX importer emits for torch.cumsum(x, dim=1), verbatim.

// CHECK-LABEL: func.func @cumsum_f32
// CHECK: %{{.*}}, %{{.*}} = tm_tensor.scan dimension(1) inclusive(true) ins(%{{.*}} : tensor<2x8x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4xf32>) {
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32):
// CHECK:   %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK:   tm_tensor.yield %[[S]] : f32
// CHECK: } -> tensor<2x8x4xf32>, tensor<2x4xf32>
func.func @cumsum_f32(%arg0: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<2x8x4xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %2 = tensor.empty() : tensor<2x4xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %4:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%arg0 : tensor<2x8x4xf32>) outs(%1, %3 : tensor<2x8x4xf32>, tensor<2x4xf32>) {
  ^bb0(%arg1: f32, %arg2: f32):
    %5 = arith.addf %arg1, %arg2 : f32
    tm_tensor.yield %5 : f32
  } -> tensor<2x8x4xf32>, tensor<2x4xf32>
  return %4#0 : tensor<2x8x4xf32>
}

// CHECK-LABEL: func.func @exclusive_i64_rank1
// CHECK: tm_tensor.scan dimension(0) inclusive(false) ins(%{{.*}} : tensor<5xi64>) outs(%{{.*}}, %{{.*}} : tensor<5xi64>, tensor<i64>)
// CHECK: arith.muli
// CHECK: } -> tensor<5xi64>, tensor<i64>
func.func @exclusive_i64_rank1(%x: tensor<5xi64>, %o: tensor<5xi64>, %acc: tensor<i64>) -> (tensor<5xi64>, tensor<i64>) {
  %r:2 = tm_tensor.scan dimension(0) inclusive(false) ins(%x : tensor<5xi64>) outs(%o, %acc : tensor<5xi64>, tensor<i64>) {
  ^bb0(%a: i64, %b: i64):
    %m = arith.muli %a, %b : i64
    tm_tensor.yield %m : i64
  } -> tensor<5xi64>, tensor<i64>
  return %r#0, %r#1 : tensor<5xi64>, tensor<i64>
}
