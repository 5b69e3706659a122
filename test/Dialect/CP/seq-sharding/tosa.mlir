// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s

// TOSA: matmul rows, reshape and transpose move the sequence dim; a tile
// that replicates along the sequence gets local multiples; reductions over
// other dims keep it.
// CHECK-LABEL: func.func @projection
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,{{[^>]*}}>}, %[[W:[^:]+]]: tensor<1x8x8xf32>)
// CHECK-SAME: -> (tensor<1x2x16x4xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK: %[[M:.+]] = tosa.matmul %[[X]], %[[W]], %{{.+}}, %{{.+}} : (tensor<1x16x8xf32>, tensor<1x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x8xf32>
// CHECK: %[[S:.+]] = tosa.const_shape {values = dense<[1, 16, 2, 4]> : tensor<4xindex>}
// CHECK: %[[R:.+]] = tosa.reshape %[[M]], %[[S]] : (tensor<1x16x8xf32>, !tosa.shape<4>) -> tensor<1x16x2x4xf32>
// CHECK: %[[T:.+]] = tosa.transpose %[[R]] {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x16x2x4xf32>) -> tensor<1x2x16x4xf32>
// CHECK: cp.ring_attention %[[T]], %[[T]], %[[T]]
func.func @projection(%x: tensor<1x64x8xf32>, %w: tensor<1x8x8xf32>) -> tensor<1x2x64x4xf32> {
  %zp = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %m = tosa.matmul %x, %w, %zp, %zp : (tensor<1x64x8xf32>, tensor<1x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x64x8xf32>
  %s = tosa.const_shape {values = dense<[1, 64, 2, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r = tosa.reshape %m, %s : (tensor<1x64x8xf32>, !tosa.shape<4>) -> tensor<1x64x2x4xf32>
  %t = tosa.transpose %r {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x64x2x4xf32>) -> tensor<1x2x64x4xf32>
  %o = cp.sdpa %t, %t, %t : (tensor<1x2x64x4xf32>, tensor<1x2x64x4xf32>, tensor<1x2x64x4xf32>) -> tensor<1x2x64x4xf32>
  return %o : tensor<1x2x64x4xf32>
}

// -----

// CHECK-LABEL: func.func @tile_and_reduce
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,{{[^>]*}}>}, %[[B:[^:]+]]: tensor<1x1x8xf32>)
// CHECK-SAME: -> (tensor<1x16x1xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK: %[[MU:.+]] = tosa.const_shape {values = dense<[1, 16, 1]> : tensor<3xindex>}
// CHECK: %[[T:.+]] = tosa.tile %[[B]], %[[MU]] : (tensor<1x1x8xf32>, !tosa.shape<3>) -> tensor<1x16x8xf32>
// CHECK: %[[A:.+]] = tosa.add %{{.+}}, %[[T]] : (tensor<1x16x8xf32>, tensor<1x16x8xf32>) -> tensor<1x16x8xf32>
// CHECK: tosa.reduce_sum %[[A]] {axis = 2 : i32} : (tensor<1x16x8xf32>) -> tensor<1x16x1xf32>
func.func @tile_and_reduce(%q: tensor<1x64x8xf32>, %b: tensor<1x1x8xf32>) -> tensor<1x64x1xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %mu = tosa.const_shape {values = dense<[1, 64, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %t = tosa.tile %b, %mu : (tensor<1x1x8xf32>, !tosa.shape<3>) -> tensor<1x64x8xf32>
  %a = tosa.add %o, %t : (tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %s = tosa.reduce_sum %a {axis = 2 : i32} : (tensor<1x64x8xf32>) -> tensor<1x64x1xf32>
  return %s : tensor<1x64x1xf32>
}

// -----

// tosa.gather with a table along the sequence reads the table whole.
// CHECK-LABEL: func.func @gather_table
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,{{[^>]*}}>}, %[[I:[^:]+]]: tensor<1x4xi32>)
// CHECK-SAME: -> tensor<1x4x8xf32>
// CHECK: %[[W:.+]] = cp.unshard %[[Q]] on @cp_grid dim = 1 balancer = <head_tail> : tensor<1x16x8xf32> -> tensor<1x64x8xf32>
// CHECK: tosa.gather %[[W]], %[[I]] : (tensor<1x64x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>
func.func @gather_table(%q: tensor<1x64x8xf32>, %i: tensor<1x4xi32>) -> tensor<1x4x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %g = tosa.gather %q, %i : (tensor<1x64x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>
  return %g : tensor<1x4x8xf32>
}
