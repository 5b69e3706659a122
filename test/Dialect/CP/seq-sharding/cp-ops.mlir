// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s

// cp's attention ops: q/k/v/output/gradients carry the sequence in dim
// rank-2, LSEs in rank-1, masks in their query rows. Their local form is
// ring attention; flex attention attends to all-gathered keys and values.

// CHECK-LABEL: func.func @sdpa_lse
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,{{[^>]*}}>}, %[[M:[^:]+]]: tensor<1x1x4x16xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK-SAME: -> (tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,{{[^>]*}}>}, tensor<1x2x4xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK: cp.ring_attention %[[Q]], %[[Q]], %[[Q]] mask %[[M]] on @cp_grid {balancer = #cp.balancer<head_tail>, rotate = #cp.rotate<ring>, seq_len = 16 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x16xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
func.func @sdpa_lse(%q: tensor<1x2x16x8xf32>, %m: tensor<1x1x16x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) {
  %o, %l = cp.sdpa %q, %q, %q mask %m : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x16x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
  return %o, %l : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
}

// -----

// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%{{.+}}: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,{{[^>]*}}>}, %{{.+}}: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,{{[^>]*}}>}, %{{.+}}: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,{{[^>]*}}>}, %{{.+}}: tensor<1x2x4xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK-SAME: -> (tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}>}, tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}>}, tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}>})
// CHECK: cp.ring_attention_backward {{.+}} on @cp_grid {balancer = #cp.balancer<head_tail>, is_causal, rotate = #cp.rotate<ring>, seq_len = 16 : i64}
func.func @backward(%do: tensor<1x2x16x8xf32>, %q: tensor<1x2x16x8xf32>, %o: tensor<1x2x16x8xf32>, %l: tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %l {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
  return %dq, %dk, %dv : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @flex
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK-SAME: -> (tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<{{[^>]*}}dim = 2,
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid
// CHECK: %[[K:.+]] = shard.all_gather %[[Q]] on @cp_grid grid_axes = [0] gather_axis = 2 : tensor<1x2x4x8xf32> -> tensor<1x2x16x8xf32>
// CHECK: cp.flex_attention %[[Q]], %[[K]], %{{.+}} : (tensor<1x2x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x4x8xf32> mask_mod {
// CHECK: cp.global_position %{{.+}}, %[[R]] on @cp_grid
func.func @flex(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = cp.flex_attention %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %keep = arith.cmpi sge, %qi, %ki : index
      cp.yield %keep : i1
    }
  return %o : tensor<1x2x16x8xf32>
}
