// RUN: cp-opt %s --split-input-file --cp-raise-tosa-scan | FileCheck %s

// torch-mlir's TOSA export of torch.cumsum(x, dim=1), verbatim: shifted
// additions by 1, 2 and 4 along the 8 positions become one scan.
// CHECK-LABEL: func.func @cumsum
// CHECK-SAME: (%[[X:.+]]: tensor<2x8x4xf32>)
// CHECK-NOT: tosa.pad
// CHECK-NOT: tosa.slice
// CHECK-NOT: tosa.add
// CHECK: %[[R:.+]], %{{.+}} = tm_tensor.scan dimension(1) inclusive(true) ins(%[[X]] : tensor<2x8x4xf32>)
// CHECK: arith.addf
// CHECK: return %[[R]]
func.func @cumsum(%arg0: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %0 = tosa.const_shape  {values = dense<[2, 8, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %1 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %2 = tosa.const_shape  {values = dense<0> : tensor<3xindex>} : () -> !tosa.shape<3>
  %3 = tosa.const_shape  {values = dense<[0, 0, 1, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
  %4 = tosa.const_shape  {values = dense<[0, 0, 2, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
  %5 = tosa.const_shape  {values = dense<[0, 0, 4, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
  %6 = tosa.pad %arg0, %3, %1 : (tensor<2x8x4xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x9x4xf32>
  %7 = tosa.slice %6, %2, %0 : (tensor<2x9x4xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x8x4xf32>
  %8 = tosa.add %arg0, %7 : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %9 = tosa.pad %8, %4, %1 : (tensor<2x8x4xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x10x4xf32>
  %10 = tosa.slice %9, %2, %0 : (tensor<2x10x4xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x8x4xf32>
  %11 = tosa.add %8, %10 : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %12 = tosa.pad %11, %5, %1 : (tensor<2x8x4xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x12x4xf32>
  %13 = tosa.slice %12, %2, %0 : (tensor<2x12x4xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x8x4xf32>
  %14 = tosa.add %11, %13 : (tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %14 : tensor<2x8x4xf32>
}

// -----

// Integers, operands of the add swapped, 3 positions (shifts 1 and 2).
// CHECK-LABEL: func.func @cumsum_i64
// CHECK: tm_tensor.scan dimension(1) inclusive(true) ins(%{{.+}} : tensor<1x3xi64>)
// CHECK: arith.addi
func.func @cumsum_i64(%x: tensor<1x3xi64>) -> tensor<1x3xi64> {
  %z = "tosa.const"() <{values = dense<0> : tensor<1xi64>}> : () -> tensor<1xi64>
  %s0 = tosa.const_shape {values = dense<0> : tensor<2xindex>} : () -> !tosa.shape<2>
  %sz = tosa.const_shape {values = dense<[1, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %p1 = tosa.const_shape {values = dense<[0, 0, 1, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %p2 = tosa.const_shape {values = dense<[0, 0, 2, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %a = tosa.pad %x, %p1, %z : (tensor<1x3xi64>, !tosa.shape<4>, tensor<1xi64>) -> tensor<1x4xi64>
  %b = tosa.slice %a, %s0, %sz : (tensor<1x4xi64>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x3xi64>
  %c = tosa.add %b, %x : (tensor<1x3xi64>, tensor<1x3xi64>) -> tensor<1x3xi64>
  %d = tosa.pad %c, %p2, %z : (tensor<1x3xi64>, !tosa.shape<4>, tensor<1xi64>) -> tensor<1x5xi64>
  %e = tosa.slice %d, %s0, %sz : (tensor<1x5xi64>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x3xi64>
  %f = tosa.add %c, %e : (tensor<1x3xi64>, tensor<1x3xi64>) -> tensor<1x3xi64>
  return %f : tensor<1x3xi64>
}

// -----

// Not a whole scan: the chain stops at shift 2 of 8 positions.
// CHECK-LABEL: func.func @incomplete
// CHECK-NOT: tm_tensor.scan
// CHECK-COUNT-2: tosa.pad
func.func @incomplete(%x: tensor<8xf32>) -> tensor<8xf32> {
  %z = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %s0 = tosa.const_shape {values = dense<0> : tensor<1xindex>} : () -> !tosa.shape<1>
  %sz = tosa.const_shape {values = dense<8> : tensor<1xindex>} : () -> !tosa.shape<1>
  %p1 = tosa.const_shape {values = dense<[1, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %p2 = tosa.const_shape {values = dense<[2, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %a = tosa.pad %x, %p1, %z : (tensor<8xf32>, !tosa.shape<2>, tensor<1xf32>) -> tensor<9xf32>
  %b = tosa.slice %a, %s0, %sz : (tensor<9xf32>, !tosa.shape<1>, !tosa.shape<1>) -> tensor<8xf32>
  %c = tosa.add %x, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %d = tosa.pad %c, %p2, %z : (tensor<8xf32>, !tosa.shape<2>, tensor<1xf32>) -> tensor<10xf32>
  %e = tosa.slice %d, %s0, %sz : (tensor<10xf32>, !tosa.shape<1>, !tosa.shape<1>) -> tensor<8xf32>
  %f = tosa.add %c, %e : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %f : tensor<8xf32>
}

// -----

// A partial sum used elsewhere, or a non-zero value shifted in: left alone.
// CHECK-LABEL: func.func @partial_used
// CHECK-NOT: tm_tensor.scan
// CHECK-LABEL: func.func @nonzero_fill
// CHECK-NOT: tm_tensor.scan
func.func @partial_used(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %z = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %s0 = tosa.const_shape {values = dense<0> : tensor<1xindex>} : () -> !tosa.shape<1>
  %sz = tosa.const_shape {values = dense<3> : tensor<1xindex>} : () -> !tosa.shape<1>
  %p1 = tosa.const_shape {values = dense<[1, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %p2 = tosa.const_shape {values = dense<[2, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %a = tosa.pad %x, %p1, %z : (tensor<3xf32>, !tosa.shape<2>, tensor<1xf32>) -> tensor<4xf32>
  %b = tosa.slice %a, %s0, %sz : (tensor<4xf32>, !tosa.shape<1>, !tosa.shape<1>) -> tensor<3xf32>
  %c = tosa.add %x, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %d = tosa.pad %c, %p2, %z : (tensor<3xf32>, !tosa.shape<2>, tensor<1xf32>) -> tensor<5xf32>
  %e = tosa.slice %d, %s0, %sz : (tensor<5xf32>, !tosa.shape<1>, !tosa.shape<1>) -> tensor<3xf32>
  %f = tosa.add %c, %e : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %f, %c : tensor<3xf32>, tensor<3xf32>
}
func.func @nonzero_fill(%x: tensor<2xf32>) -> tensor<2xf32> {
  %one = "tosa.const"() <{values = dense<1.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %s0 = tosa.const_shape {values = dense<0> : tensor<1xindex>} : () -> !tosa.shape<1>
  %sz = tosa.const_shape {values = dense<2> : tensor<1xindex>} : () -> !tosa.shape<1>
  %p1 = tosa.const_shape {values = dense<[1, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %a = tosa.pad %x, %p1, %one : (tensor<2xf32>, !tosa.shape<2>, tensor<1xf32>) -> tensor<3xf32>
  %b = tosa.slice %a, %s0, %sz : (tensor<3xf32>, !tosa.shape<1>, !tosa.shape<1>) -> tensor<2xf32>
  %c = tosa.add %x, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %c : tensor<2xf32>
}
