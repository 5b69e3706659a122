// RUN: cp-opt %s --cp-context-parallel="grid-size=4 pad=true" | FileCheck %s

// Flex attention: local queries attend to all-gathered keys/values; the
// modifiers see original positions (query: this rank's; key: the owner rank
// kv_idx / L at local index kv_idx mod L), and padded keys (12 tokens padded
// to 16) are masked out.

// CHECK-LABEL: func.func @flex
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 12, balancer = head_tail, pad = true>}
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid : index
// CHECK: %[[K:.+]] = shard.all_gather %{{.+}} on @cp_grid grid_axes = [0] gather_axis = 2 : tensor<1x2x4x8xf32> -> tensor<1x2x16x8xf32>
// CHECK: %[[V:.+]] = shard.all_gather %{{.+}} on @cp_grid grid_axes = [0] gather_axis = 2 : tensor<1x2x4x8xf32> -> tensor<1x2x16x8xf32>
// CHECK: cp.flex_attention %[[Q]], %[[K]], %[[V]] : (tensor<1x2x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x4x8xf32> mask_mod {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK-NEXT: %[[L:.+]] = arith.constant 4 : index
// CHECK-NEXT: %[[QP:.+]] = cp.global_position %[[QI]], %[[R]] on @cp_grid balancer = <head_tail> seq_len = 12 {pad} : index
// CHECK-NEXT: %[[SRC:.+]] = arith.divui %[[KI]], %[[L]] : index
// CHECK-NEXT: %[[LOC:.+]] = arith.remui %[[KI]], %[[L]] : index
// CHECK-NEXT: %[[KP:.+]] = cp.global_position %[[LOC]], %[[SRC]] on @cp_grid balancer = <head_tail> seq_len = 12 {pad} : index
// CHECK-NEXT: %[[S:.+]] = arith.constant 12 : index
// CHECK-NEXT: %[[VALID:.+]] = arith.cmpi ult, %[[KP]], %[[S]] : index
// CHECK-NEXT: %[[KEEP:.+]] = arith.cmpi sge, %[[QP]], %[[KP]] : index
// CHECK-NEXT: %[[BOTH:.+]] = arith.andi %[[KEEP]], %[[VALID]] : i1
// CHECK-NEXT: cp.yield %[[BOTH]] : i1
// CHECK: } score_mod {
// CHECK: %[[QP2:.+]] = cp.global_position %{{.+}}, %[[R]]
// CHECK: %[[KP2:.+]] = cp.global_position
// CHECK: arith.subi %[[KP2]], %[[QP2]] : index
func.func @flex(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %o = cp.flex_attention %q, %k, %v : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %keep = arith.cmpi sge, %qi, %ki : index
      cp.yield %keep : i1
    } score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
      %d = arith.subi %ki, %qi : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %r = arith.addf %s, %df : f32
      cp.yield %r : f32
    }
  return %o : tensor<1x2x12x8xf32>
}

// The backward becomes ring attention backward; the forward's LSE is
// sharded along its last dim.
// CHECK-LABEL: func.func @bwd
// CHECK-SAME: %{{.+}}: tensor<1x2x4xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 16, balancer = head_tail, pad = true>}
// CHECK: cp.ring_attention_backward %{{.+}} on @cp_grid {balancer = #cp.balancer<head_tail>, is_causal, pad, rotate = #cp.rotate<ring>, seq_len = 16 : i64} : ({{.+}}) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
func.func @bwd(%do: tensor<1x2x16x8xf32>, %q: tensor<1x2x16x8xf32>, %o: tensor<1x2x16x8xf32>, %l: tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %l {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
  return %dq, %dk, %dv : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}
