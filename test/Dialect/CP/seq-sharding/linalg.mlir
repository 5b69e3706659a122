// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s

// linalg structured ops relate the sequence through their indexing maps.
// A matmul whose rows are the sequence: rows stay local, the weight whole.
// CHECK-LABEL: func.func @matmul_rows
// CHECK-SAME: (%[[X:[^:]+]]: tensor<16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 64, balancer = head_tail>}, %[[W:[^:]+]]: tensor<32x8xf32>)
// CHECK-SAME: -> (tensor<1x16x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>})
// CHECK: linalg.matmul ins(%[[X]], %[[W]] : tensor<16x32xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK: cp.ring_attention
func.func @matmul_rows(%x: tensor<64x32xf32>, %w: tensor<32x8xf32>) -> tensor<1x64x8xf32> {
  %e = tensor.empty() : tensor<64x8xf32>
  %c0 = arith.constant 0.0 : f32
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<64x8xf32>) -> tensor<64x8xf32>
  %m = linalg.matmul ins(%x, %w : tensor<64x32xf32>, tensor<32x8xf32>) outs(%z : tensor<64x8xf32>) -> tensor<64x8xf32>
  %q = tensor.expand_shape %m [[0, 1], [2]] output_shape [1, 64, 8] : tensor<64x8xf32> into tensor<1x64x8xf32>
  %o = cp.sdpa %q, %q, %q : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  return %o : tensor<1x64x8xf32>
}

// -----

// A parallel loop over the sequence that reads its index: the index becomes
// the original position (cp.global_position of this rank).
// CHECK-LABEL: func.func @positions
// CHECK-SAME: (%{{.+}}: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK-SAME: -> (tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid
// CHECK: linalg.generic
// CHECK: %[[I:.+]] = linalg.index 1 : index
// CHECK: cp.global_position %[[I]], %[[R]] on @cp_grid balancer = <head_tail> seq_len = 64
func.func @positions(%x: tensor<1x64x8xf32>) -> tensor<1x64x8xf32> {
  %e = tensor.empty() : tensor<1x64x8xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(b, s, d) -> (b, s, d)>, affine_map<(b, s, d) -> (b, s, d)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x64x8xf32>) outs(%e : tensor<1x64x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f32
    %r = arith.addf %a, %f : f32
    linalg.yield %r : f32
  } -> tensor<1x64x8xf32>
  %o = cp.sdpa %p, %p, %p : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  return %o : tensor<1x64x8xf32>
}

// -----

// A sum over the sequence: each rank sums its shard, then an all-reduce.
// CHECK-LABEL: func.func @seq_sum
// CHECK-SAME: (%{{.+}}: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK-SAME: -> tensor<1x8xf32>
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<1x16x8xf32>) outs(%{{.+}} : tensor<1x8xf32>)
// CHECK: } -> tensor<1x8xf32>
// CHECK: shard.all_reduce %[[S]] on @cp_grid grid_axes = [0] : tensor<1x8xf32> -> tensor<1x8xf32>
func.func @seq_sum(%x: tensor<1x64x8xf32>) -> tensor<1x8xf32> {
  %o = cp.sdpa %x, %x, %x : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %e = tensor.empty() : tensor<1x8xf32>
  %c0 = arith.constant 0.0 : f32
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x8xf32>) -> tensor<1x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, s, d) -> (b, s, d)>, affine_map<(b, s, d) -> (b, d)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%o : tensor<1x64x8xf32>) outs(%z : tensor<1x8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  return %s : tensor<1x8xf32>
}

// -----

// linalg.softmax over the feature dim of sequence rows stays local.
// CHECK-LABEL: func.func @softmax_rows
// CHECK-SAME: (%{{.+}}: tensor<1x16x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 1,
// CHECK: linalg.softmax dimension(2) ins(%{{.+}} : tensor<1x16x8xf32>) outs(%{{.+}} : tensor<1x16x8xf32>) -> tensor<1x16x8xf32>
func.func @softmax_rows(%x: tensor<1x64x8xf32>) -> tensor<1x64x8xf32> {
  %e = tensor.empty() : tensor<1x64x8xf32>
  %s = linalg.softmax dimension(2) ins(%x : tensor<1x64x8xf32>) outs(%e : tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %o = cp.sdpa %s, %s, %s : (tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  return %o : tensor<1x64x8xf32>
}
