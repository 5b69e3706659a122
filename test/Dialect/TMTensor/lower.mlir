// RUN: cp-opt %s --cp-lower-tm-tensor --split-input-file | FileCheck %s

// Inclusive cumsum along dim 1: in[:, 0] is peeled, the loop carries the
// running sum of the other dims and writes every step into the output.
// CHECK-LABEL: func.func @inclusive
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4xf32>)
// CHECK-NOT: tm_tensor
// CHECK: %[[FIRST:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<2x4xf32>
// CHECK: %[[OUT0:.*]] = tensor.insert_slice %[[FIRST]] into %{{.*}}[0, 0, 0] [2, 1, 4] [1, 1, 1]
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[I:.*]] = %[[C1]] to %[[C8]] step %[[C1]] iter_args(%[[CARRY:.*]] = %[[FIRST]], %[[OUT:.*]] = %[[OUT0]]) -> (tensor<2x4xf32>, tensor<2x8x4xf32>)
// CHECK:   %[[XI:.*]] = tensor.extract_slice %[[X]][0, %[[I]], 0] [2, 1, 4] [1, 1, 1]
// CHECK:   %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[XI]] : tensor<2x4xf32>) outs(%[[CARRY]] : tensor<2x4xf32>)
// CHECK:   ^bb0(%[[IN:.*]]: f32, %[[PREV:.*]]: f32):
// CHECK:     arith.addf %[[PREV]], %[[IN]]
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[NEXT]] into %[[OUT]][0, %[[I]], 0] [2, 1, 4] [1, 1, 1]
// CHECK:   scf.yield %[[NEXT]], %[[INS]]
// CHECK: return %[[LOOP]]#1, %[[LOOP]]#0
func.func @inclusive(%arg0: tensor<2x8x4xf32>) -> (tensor<2x8x4xf32>, tensor<2x4xf32>) {
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
  return %4#0, %4#1 : tensor<2x8x4xf32>, tensor<2x4xf32>
}

// -----

// Exclusive: out[0] is the accumulator, step i reads in[i - 1].
// CHECK-LABEL: func.func @exclusive
// CHECK-SAME: (%[[X:.*]]: tensor<5xi64>, %[[O:.*]]: tensor<5xi64>, %[[ACC:.*]]: tensor<i64>)
// CHECK: %[[OUT0:.*]] = tensor.insert_slice %[[ACC]] into %[[O]][0] [1] [1] : tensor<i64> into tensor<5xi64>
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%[[CARRY:.*]] = %[[ACC]], %{{.*}} = %[[OUT0]])
// CHECK:   %[[PREV:.*]] = arith.subi %[[I]], %{{.*}} : index
// CHECK:   tensor.extract_slice %[[X]][%[[PREV]]] [1] [1] : tensor<5xi64> to tensor<i64>
// CHECK:   arith.muli
func.func @exclusive(%x: tensor<5xi64>, %o: tensor<5xi64>, %acc: tensor<i64>) -> (tensor<5xi64>, tensor<i64>) {
  %r:2 = tm_tensor.scan dimension(0) inclusive(false) ins(%x : tensor<5xi64>) outs(%o, %acc : tensor<5xi64>, tensor<i64>) {
  ^bb0(%a: i64, %b: i64):
    %m = arith.muli %a, %b : i64
    tm_tensor.yield %m : i64
  } -> tensor<5xi64>, tensor<i64>
  return %r#0, %r#1 : tensor<5xi64>, tensor<i64>
}

// -----

// A one-element dim: no loop; the accumulator result is the operand
// (torch-mlir's semantics).
// CHECK-LABEL: func.func @single
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>, %[[ACC:.*]]: tensor<3xf32>)
// CHECK-NOT: scf.for
// CHECK: return %{{.*}}, %[[ACC]]
func.func @single(%x: tensor<3x1xf32>, %acc: tensor<3xf32>) -> (tensor<3x1xf32>, tensor<3xf32>) {
  %r:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%x : tensor<3x1xf32>) outs(%x, %acc : tensor<3x1xf32>, tensor<3xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<3x1xf32>, tensor<3xf32>
  return %r#0, %r#1 : tensor<3x1xf32>, tensor<3xf32>
}

