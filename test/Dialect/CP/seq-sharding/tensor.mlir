// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s

// tensor ops: reshapes keep the sequence as one factor of a dim; slices and
// inserts that keep it whole get local sizes; extract reads its tensor
// whole.

// A collapse merges heads inside the sequence dim; the expand back gets a
// local output shape.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x16x2x4xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK-SAME: -> (tensor<1x2x16x4xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2], [3]] : tensor<1x16x2x4xf32> into tensor<1x32x4xf32>
// CHECK: tensor.expand_shape %[[C]] {{\[}}[0], [1, 2], [3]] output_shape [1, 16, 2, 4] : tensor<1x32x4xf32> into tensor<1x16x2x4xf32>
func.func @reshapes(%x: tensor<1x64x2x4xf32>) -> tensor<1x2x64x4xf32> {
  %c = tensor.collapse_shape %x [[0], [1, 2], [3]] : tensor<1x64x2x4xf32> into tensor<1x128x4xf32>
  %x2 = tensor.expand_shape %c [[0], [1, 2], [3]] output_shape [1, 64, 2, 4] : tensor<1x128x4xf32> into tensor<1x64x2x4xf32>
  %e = tensor.empty() : tensor<1x2x64x4xf32>
  %t = linalg.transpose ins(%x2 : tensor<1x64x2x4xf32>) outs(%e : tensor<1x2x64x4xf32>) permutation = [0, 2, 1, 3]
  %o = cp.sdpa %t, %t, %t : (tensor<1x2x64x4xf32>, tensor<1x2x64x4xf32>, tensor<1x2x64x4xf32>) -> tensor<1x2x64x4xf32>
  return %o : tensor<1x2x64x4xf32>
}

// -----

// CHECK-LABEL: func.func @slices
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x16x16xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK-SAME: -> (tensor<1x16x16xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK: %[[H:.+]] = tensor.extract_slice %[[Q]][0, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<1x16x16xf32> to tensor<1x16x8xf32>
// CHECK: tensor.insert_slice %[[H]] into %{{.+}}[0, 0, 8] [1, 16, 8] [1, 1, 1] : tensor<1x16x8xf32> into tensor<1x16x16xf32>
// CHECK: tensor.cast %{{.+}} : tensor<1x16x16xf32> to tensor<1x16x16xf32>
func.func @slices(%q: tensor<1x64x16xf32>) -> tensor<1x64x16xf32> {
  %h = tensor.extract_slice %q[0, 0, 0] [1, 64, 8] [1, 1, 1] : tensor<1x64x16xf32> to tensor<1x64x8xf32>
  %i = tensor.insert_slice %h into %q[0, 0, 8] [1, 64, 8] [1, 1, 1] : tensor<1x64x8xf32> into tensor<1x64x16xf32>
  %c = tensor.cast %i : tensor<1x64x16xf32> to tensor<1x64x16xf32>
  %o = cp.sdpa %c, %c, %c : (tensor<1x64x16xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>) -> tensor<1x64x16xf32>
  return %o : tensor<1x64x16xf32>
}

// -----

// tensor.extract at a data-dependent place reads the whole (unsharded)
// tensor.
// CHECK-LABEL: func.func @extract_whole
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,{{[^>]*}}>}, %[[I:[^:]+]]: index)
// CHECK-SAME: -> f32
// CHECK: %[[W:.+]] = cp.unshard %[[X]] on @cp_grid dim = 1 balancer = <head_tail> : tensor<1x16x8xf32> -> tensor<1x64x8xf32>
// CHECK: tensor.extract %[[W]][%{{.+}}, %[[I]], %{{.+}}] : tensor<1x64x8xf32>
func.func @extract_whole(%x: tensor<1x64x8xf32>, %i: index) -> f32 {
  %o = cp.sdpa %x, %x, %x : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %c0 = arith.constant 0 : index
  %v = tensor.extract %x[%c0, %i, %c0] : tensor<1x64x8xf32>
  return %v : f32
}
