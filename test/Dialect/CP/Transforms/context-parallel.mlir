// RUN: cp-opt %s --cp-context-parallel="grid-size=4" | FileCheck %s
// RUN: cp-opt %s --cp-context-parallel="grid-size=4 rotate=alltoall load-balance=striped" | FileCheck %s --check-prefix=STRIPED
// RUN: cp-opt %s --cp-context-parallel="grid-size=3 rotate=allgather load-balance=none pad=true" | FileCheck %s --check-prefix=NONE3

// A projection, a head split, attention and the inverse: every tensor on the
// sequence becomes a local shard; the weight stays whole.

// CHECK: shard.grid @cp_grid(shape = 4)
// CHECK-LABEL: func.func @attn
// CHECK-SAME: (%[[X:.+]]: tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>}, %[[W:.+]]: tensor<32x32xf32>)
// CHECK-SAME: -> (tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>})
// CHECK-SAME: cp.context_parallel = {balancer = #cp.balancer<head_tail>, grid = @cp_grid, rotate = #cp.rotate<ring>, world_size = 4 : i64}
// CHECK-NOT: shard.process_linear_index
// CHECK: %[[Q:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[W]] : tensor<1x16x32xf32>, tensor<32x32xf32>)
// CHECK: tensor.expand_shape %[[Q]] {{.+}} output_shape [1, 16, 2, 16] : tensor<1x16x32xf32> into tensor<1x16x2x16xf32>
// CHECK: %[[QT:.+]] = linalg.transpose ins(%{{.+}} : tensor<1x16x2x16xf32>) outs(%{{.+}} : tensor<1x2x16x16xf32>)
// CHECK: %[[O:.+]] = cp.ring_attention %[[QT]], %[[QT]], %[[QT]] on @cp_grid {balancer = #cp.balancer<head_tail>, is_causal, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<1x2x16x16xf32>
// CHECK: linalg.transpose ins(%[[O]]
// CHECK: tensor.collapse_shape {{.+}} into tensor<1x16x32xf32>

// STRIPED-LABEL: func.func @attn
// STRIPED: cp.ring_attention {{.+}} {balancer = #cp.balancer<striped>, is_causal, rotate = #cp.rotate<alltoall>, seq_len = 64 : i64} : (tensor<1x2x16x16xf32>

// NONE3: shard.grid @cp_grid(shape = 3)
// NONE3-LABEL: func.func @attn
// NONE3: cp.ring_attention {{.+}} {balancer = #cp.balancer<none>, is_causal, pad, rotate = #cp.rotate<allgather>, seq_len = 64 : i64} : (tensor<1x2x22x16xf32>
func.func @attn(%x: tensor<1x64x32xf32>, %wq: tensor<32x32xf32>) -> tensor<1x64x32xf32> {
  %e = tensor.empty() : tensor<1x64x32xf32>
  %c0 = arith.constant 0.0 : f32
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(b, s, o, i) -> (b, s, i)>, affine_map<(b, s, o, i) -> (i, o)>, affine_map<(b, s, o, i) -> (b, s, o)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wq : tensor<1x64x32xf32>, tensor<32x32xf32>) outs(%z : tensor<1x64x32xf32>) {
  ^bb0(%a: f32, %w: f32, %acc: f32):
    %m = arith.mulf %a, %w : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x64x32xf32>
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 64, 2, 16] : tensor<1x64x32xf32> into tensor<1x64x2x16xf32>
  %et = tensor.empty() : tensor<1x2x64x16xf32>
  %qt = linalg.transpose ins(%q4 : tensor<1x64x2x16xf32>) outs(%et : tensor<1x2x64x16xf32>) permutation = [0, 2, 1, 3]
  %o = cp.sdpa %qt, %qt, %qt {is_causal} : (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32>
  %eo = tensor.empty() : tensor<1x64x2x16xf32>
  %ot = linalg.transpose ins(%o : tensor<1x2x64x16xf32>) outs(%eo : tensor<1x64x2x16xf32>) permutation = [0, 2, 1, 3]
  %oc = tensor.collapse_shape %ot [[0], [1], [2, 3]] : tensor<1x64x2x16xf32> into tensor<1x64x32xf32>
  return %oc : tensor<1x64x32xf32>
}


// Slices and concatenations that keep the sequence whole (RoPE's even/odd
// split of the head dim) run on local shards with local sizes.
// CHECK-LABEL: func.func @rope_pairs
// CHECK: %[[E:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [1, 2, 16, 8] [1, 1, 1, 2] : tensor<1x2x16x16xf32> to tensor<1x2x16x8xf32>
// CHECK: %[[O:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 1] [1, 2, 16, 8] [1, 1, 1, 2] : tensor<1x2x16x16xf32> to tensor<1x2x16x8xf32>
// CHECK: tensor.concat dim(3) %[[O]], %[[E]] : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x16xf32>
func.func @rope_pairs(%q: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %e = tensor.extract_slice %q[0, 0, 0, 0] [1, 2, 64, 8] [1, 1, 1, 2] : tensor<1x2x64x16xf32> to tensor<1x2x64x8xf32>
  %o = tensor.extract_slice %q[0, 0, 0, 1] [1, 2, 64, 8] [1, 1, 1, 2] : tensor<1x2x64x16xf32> to tensor<1x2x64x8xf32>
  %r = tensor.concat dim(3) %o, %e : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x16xf32>
  %a = cp.sdpa %r, %r, %r {is_causal} : (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32>
  return %a : tensor<1x2x64x16xf32>
}
