// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=ulysses" | FileCheck %s --check-prefix=ULY

// A key-padding mask (what Hugging Face builds from an attention_mask): the
// [B, S] argument is sharded like every sequence argument, the [B, 1, 1, S]
// mask carries the sequence in its key dim only, and every rank needs all of
// it: cp.unshard gathers it whole, in original key order, before the ring.
// CHECK-LABEL: func.func @key_padding
// CHECK-SAME: (%{{[^:]+}}: tensor<2x4x4x8xf32> {cp.sharding = #cp.sharding<{{.+}}>}, %[[KEEP:[^:]+]]: tensor<2x4xi1> {cp.sharding = #cp.sharding<{{.+}}>})
// CHECK: %[[M:.+]] = tensor.expand_shape %[[KEEP]] {{.+}} : tensor<2x4xi1> into tensor<2x1x1x4xi1>
// CHECK: %[[W:.+]] = cp.unshard %[[M]] on @cp_grid dim = 3 balancer = <head_tail> : tensor<2x1x1x4xi1> -> tensor<2x1x1x16xi1>
// CHECK: cp.ring_attention %{{.+}}, %{{.+}}, %{{.+}} mask %[[W]] on @cp_grid {balancer = #cp.balancer<head_tail>, is_causal, rotate = #cp.rotate<ring>, seq_len = 16 : i64}
// ULY-LABEL: func.func @key_padding
// ULY: %[[W:.+]] = cp.unshard %{{.+}} on @cp_grid dim = 3 balancer = <head_tail> : tensor<2x1x1x4xi1> -> tensor<2x1x1x16xi1>
// ULY: cp.seq_to_heads
// ULY: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %[[W]] {is_causal}
// (The keep flags also zero the padded queries, which ties the argument's
// dim 1 to the sequence.)
func.func @key_padding(%q: tensor<2x4x16x8xf32>, %keep: tensor<2x16xi1>) -> tensor<2x4x16x8xf32> {
  %e = tensor.empty() : tensor<2x4x16x8xf32>
  %qz = linalg.generic {indexing_maps = [affine_map<(b, h, s, d) -> (b, h, s, d)>, affine_map<(b, h, s, d) -> (b, s)>, affine_map<(b, h, s, d) -> (b, h, s, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q, %keep : tensor<2x4x16x8xf32>, tensor<2x16xi1>) outs(%e : tensor<2x4x16x8xf32>) {
  ^bb0(%x: f32, %k: i1, %out: f32):
    %zero = arith.constant 0.0 : f32
    %y = arith.select %k, %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<2x4x16x8xf32>
  %m = tensor.expand_shape %keep [[0], [1, 2, 3]] output_shape [2, 1, 1, 16] : tensor<2x16xi1> into tensor<2x1x1x16xi1>
  %o = cp.sdpa %qz, %qz, %qz mask %m {is_causal} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x1x1x16xi1>) -> tensor<2x4x16x8xf32>
  return %o : tensor<2x4x16x8xf32>
}

// -----

// The backward gathers its mask the same way (here an additive bias per key
// computed from a per-token argument).
// CHECK-LABEL: func.func @key_padding_backward
// CHECK: %[[W:.+]] = cp.unshard %{{.+}} on @cp_grid dim = 3 balancer = <head_tail> : tensor<1x1x1x4xf32> -> tensor<1x1x1x16xf32>
// CHECK: cp.ring_attention_backward {{.+}} mask %[[W]] on @cp_grid
func.func @key_padding_backward(%q: tensor<1x4x16x8xf32>, %o: tensor<1x4x16x8xf32>, %l: tensor<1x4x16xf32>, %tok: tensor<1x16xf32>) -> tensor<1x4x16x8xf32> {
  %bias = tensor.expand_shape %tok [[0], [1, 2, 3]] output_shape [1, 1, 1, 16] : tensor<1x16xf32> into tensor<1x1x1x16xf32>
  %e = tensor.empty() : tensor<1x4x16x8xf32>
  %qb = linalg.generic {indexing_maps = [affine_map<(b, h, s, d) -> (b, h, s, d)>, affine_map<(b, h, s, d) -> (b, s)>, affine_map<(b, h, s, d) -> (b, h, s, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q, %tok : tensor<1x4x16x8xf32>, tensor<1x16xf32>) outs(%e : tensor<1x4x16x8xf32>) {
  ^bb0(%x: f32, %t: f32, %out: f32):
    %y = arith.addf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<1x4x16x8xf32>
  %dq, %dk, %dv = cp.sdpa_backward %o, %qb, %q, %q, %o, %l mask %bias : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16xf32>, tensor<1x1x1x16xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>)
  return %dq : tensor<1x4x16x8xf32>
}
