// RUN: cp-opt %s --cp-context-parallel="grid-size=4" | FileCheck %s

// Position-dependent code: linalg.index on the sequence loop becomes the
// original position; a constant table along the sequence is sharded in the
// function; a sum over the sequence gets an all-reduce.

// CHECK-LABEL: func.func @positions
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2,
// CHECK-SAME: -> (tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 16, balancer = head_tail>}, tensor<1x2x8xf32>)
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid : index
// CHECK: %[[TABLE:.+]] = arith.constant dense<{{.+}}> : tensor<16x8xf32>
// CHECK: %[[LT:.+]] = cp.shard %[[TABLE]] on @cp_grid dim = 0 balancer = <head_tail> : tensor<16x8xf32> -> tensor<4x8xf32>
// CHECK: linalg.generic {{.+}} ins(%[[Q]], %[[LT]] : tensor<1x2x4x8xf32>, tensor<4x8xf32>)
// CHECK: %[[I:.+]] = linalg.index 2 : index
// CHECK: %[[P:.+]] = cp.global_position %[[I]], %[[R]] on @cp_grid balancer = <head_tail> seq_len = 16 : index
// CHECK: arith.index_cast %[[P]]
// CHECK: %[[O:.+]] = cp.ring_attention
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]{{.+}} ins(%[[O]] : tensor<1x2x4x8xf32>)
// CHECK: %[[ALL:.+]] = shard.all_reduce %[[SUM]] on @cp_grid grid_axes = [0] : tensor<1x2x8xf32> -> tensor<1x2x8xf32>
// CHECK: return %[[O]], %[[ALL]] : tensor<1x2x4x8xf32>, tensor<1x2x8xf32>
#id4 = affine_map<(b, h, s, d) -> (b, h, s, d)>
#tab = affine_map<(b, h, s, d) -> (s, d)>
func.func @positions(%q: tensor<1x2x16x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x8xf32>) {
  %iota = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [3.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [6.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [10.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [11.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [12.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [13.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [14.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [15.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<16x8xf32>
  %e = tensor.empty() : tensor<1x2x16x8xf32>
  // RoPE-like: q * table[s, d] + position s.
  %qr = linalg.generic {indexing_maps = [#id4, #tab, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q, %iota : tensor<1x2x16x8xf32>, tensor<16x8xf32>) outs(%e : tensor<1x2x16x8xf32>) {
  ^bb0(%a: f32, %t: f32, %o: f32):
    %s = linalg.index 2 : index
    %si = arith.index_cast %s : index to i64
    %sf = arith.sitofp %si : i64 to f32
    %m = arith.mulf %a, %t : f32
    %r = arith.addf %m, %sf : f32
    linalg.yield %r : f32
  } -> tensor<1x2x16x8xf32>
  %o = cp.sdpa %qr, %qr, %qr {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<1x2x8xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum = linalg.generic {indexing_maps = [#id4, affine_map<(b, h, s, d) -> (b, h, d)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%o : tensor<1x2x16x8xf32>) outs(%z : tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8xf32>
  return %o, %sum : tensor<1x2x16x8xf32>, tensor<1x2x8xf32>
}
