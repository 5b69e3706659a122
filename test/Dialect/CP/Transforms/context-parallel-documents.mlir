// RUN: cp-opt %s -split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s
// RUN: cp-opt %s -split-input-file --cp-context-parallel="grid-size=3 load-balance=striped pad=true" | FileCheck %s --check-prefix=PAD
// RUN: cp-opt %s -split-input-file --cp-context-parallel="grid-size=2 strategy=ulysses" | FileCheck %s --check-prefix=ULY

// Document ids (segment_ids) are sharded with the sequence (their last
// dim) like every sequence input and go to the ring, which compares them
// block by block.

// CHECK-LABEL: func.func @docs
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x16x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = head_tail>}
// CHECK-SAME: %[[D:[^:]+]]: tensor<16xi32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 64, balancer = head_tail>}
// CHECK: cp.ring_attention %[[Q]], %{{.+}}, %{{.+}} segment_ids %[[D]] on @cp_grid {balancer = #cp.balancer<head_tail>, enable_gqa, is_causal, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<16xi32>) -> tensor<1x4x16x8xf32>
// PAD-LABEL: func.func @docs
// PAD-SAME: %{{[^:]+}}: tensor<22xi32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 64, balancer = striped, pad = true>}
// PAD: cp.ring_attention {{.+}} segment_ids %{{.+}} on @cp_grid {balancer = #cp.balancer<striped>, enable_gqa, is_causal, pad, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x4x22x8xf32>, tensor<1x2x22x8xf32>, tensor<1x2x22x8xf32>, tensor<22xi32>)
// Ulysses: the local attention sees the whole sequence (original order),
// so it gets the ids gathered whole.
// ULY-LABEL: func.func @docs
// ULY-SAME: %[[D:[^:]+]]: tensor<32xi32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 64, balancer = head_tail>}
// ULY: %[[W:.+]] = cp.unshard %[[D]] on @cp_grid dim = 0 balancer = <head_tail> : tensor<32xi32> -> tensor<64xi32>
// ULY: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[W]] {enable_gqa, is_causal} : (tensor<1x2x64x8xf32>, tensor<1x1x64x8xf32>, tensor<1x1x64x8xf32>, tensor<64xi32>)
func.func @docs(%q: tensor<1x4x64x8xf32>, %k: tensor<1x2x64x8xf32>,
                %v: tensor<1x2x64x8xf32>, %d: tensor<64xi32>) -> tensor<1x4x64x8xf32> {
  %o = cp.sdpa %q, %k, %v segment_ids %d {is_causal, enable_gqa}
      : (tensor<1x4x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<64xi32>)
      -> tensor<1x4x64x8xf32>
  return %o : tensor<1x4x64x8xf32>
}

// -----

// [1, S] ids: sharded along dim 1, collapsed to the ring's 1-D ids; the
// backward takes them too.
// CHECK-LABEL: func.func @docs_2d_backward
// CHECK-SAME: %[[D:[^:]+]]: tensor<1x16xi64> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>}
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[D]] {{\[}}[0, 1]] : tensor<1x16xi64> into tensor<16xi64>
// CHECK: cp.ring_attention_backward {{.+}} segment_ids %[[C]] on @cp_grid
func.func @docs_2d_backward(%do: tensor<1x4x64x8xf32>, %q: tensor<1x4x64x8xf32>,
                            %o: tensor<1x4x64x8xf32>, %lse: tensor<1x4x64xf32>,
                            %d: tensor<1x64xi64>)
    -> (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %lse segment_ids %d
      : (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>,
         tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64xf32>, tensor<1x64xi64>)
      -> (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>)
  return %dq, %dk, %dv : tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>
}
