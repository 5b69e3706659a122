// RUN: cp-opt %s --split-input-file --cp-expand-ring | FileCheck %s

// The ring schedule, step by step: shift posted before the block's compute,
// per-step causal behaviour chosen by `step <= rank`, merges in fp32.

shard.grid @grid(shape = 3)

// CHECK-LABEL: func.func @head_tail
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8x4xbf16>, %[[K:[^:]+]]: tensor<1x1x8x4xbf16>, %[[V:[^:]+]]: tensor<1x1x8x4xbf16>)
// CHECK: %[[R:.+]] = shard.process_linear_index on @grid : index
// Step 0: shift (k, v) to the next rank while the diagonal block is computed.
// CHECK: %[[T0:.+]] = cp.shift_start %[[K]], %[[V]] on @grid offset = 1
// CHECK: %[[O0:[^ ]+]], %[[L0:[^ ]+]] = cp.block_attention %[[Q]], %[[K]], %[[V]] {causal = #cp.causal<causal>, enable_gqa} : ({{.+}}) -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>)
// CHECK: %[[KV1:.+]]:2 = cp.shift_wait %[[T0]]
// Step 1: the next shift is posted first; then kv_head_half if 1 <= rank, else q_tail_half.
// CHECK: %[[T1:.+]] = cp.shift_start %[[KV1]]#0, %[[KV1]]#1 on @grid offset = 1
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[LE1:.+]] = arith.cmpi ule, %[[C1]], %[[R]] : index
// CHECK: %[[S1:.+]]:2 = scf.if %[[LE1]]
// CHECK: cp.block_attention %[[Q]], %[[KV1]]#0, %[[KV1]]#1 {causal = #cp.causal<kv_head_half>, enable_gqa}
// CHECK: cp.merge_partial %[[O0]], %[[L0]]
// CHECK: } else {
// CHECK: cp.block_attention %[[Q]], %[[KV1]]#0, %[[KV1]]#1 {causal = #cp.causal<q_tail_half>, enable_gqa}
// CHECK: cp.merge_partial %[[O0]], %[[L0]]
// CHECK: %[[KV2:.+]]:2 = cp.shift_wait %[[T1]]
// Step 2 (last): no shift.
// CHECK-NOT: cp.shift_start
// CHECK: %[[C2:.+]] = arith.constant 2 : index
// CHECK: arith.cmpi ule, %[[C2]], %[[R]] : index
// CHECK: %[[S2:.+]]:2 = scf.if
// CHECK: cp.block_attention %[[Q]], %[[KV2]]#0, %[[KV2]]#1 {causal = #cp.causal<kv_head_half>, enable_gqa}
// CHECK: cp.merge_partial %[[S1]]#0, %[[S1]]#1
// CHECK: cp.block_attention %[[Q]], %[[KV2]]#0, %[[KV2]]#1 {causal = #cp.causal<q_tail_half>, enable_gqa}
// The fp32 result goes back to the query's element type.
// CHECK: %[[OUT:.+]] = linalg.generic {{.+}} ins(%[[S2]]#0 : tensor<1x2x8x4xf32>) outs(%{{.+}} : tensor<1x2x8x4xbf16>)
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: return %[[OUT]], %[[S2]]#1
// CHECK-NOT: cp.ring_attention
func.func @head_tail(%q: tensor<1x2x8x4xbf16>, %k: tensor<1x1x8x4xbf16>, %v: tensor<1x1x8x4xbf16>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>) {
  %o, %l = cp.ring_attention %q, %k, %v on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, enable_gqa, seq_len = 24 : i64} : (tensor<1x2x8x4xbf16>, tensor<1x1x8x4xbf16>, tensor<1x1x8x4xbf16>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>)
  return %o, %l : tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>
}

// -----

shard.grid @grid(shape = 2)

// Unbalanced causal: full block when the source precedes this rank, else skipped
// (the running result is yielded unchanged, nothing is computed).
// CHECK-LABEL: func.func @none_causal
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal>}
// CHECK: scf.if
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<not_causal>}
// CHECK: cp.merge_partial
// CHECK: } else {
// CHECK-NEXT: scf.yield %{{.+}}, %{{.+}} : tensor<1x1x4x4xf32>, tensor<1x1x4xf32>
// CHECK-NEXT: }
func.func @none_causal(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<alltoall>, balancer = #cp.balancer<none>, is_causal, seq_len = 8 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// Striped: causal while the source is at or before this rank, strictly causal after.
// CHECK-LABEL: func.func @striped
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal>}
// CHECK: scf.if
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal>}
// CHECK: } else {
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal_strict>}
func.func @striped(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<striped>, is_causal, seq_len = 8 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// Not causal: every step computes the whole block, no branches.
// CHECK-LABEL: func.func @full
// CHECK-NOT: scf.if
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<not_causal>, scale = 5.000000e-01 : f64}
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<not_causal>, scale = 5.000000e-01 : f64}
// CHECK: cp.merge_partial
func.func @full(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, scale = 0.5 : f64, seq_len = 8 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// Sliding window with padding (7 tokens over 2 ranks of 4): positions are
// passed, padded ones as -1; the key positions of step i belong to rank
// (rank - i) mod W, and document ids travel with the key/value block.
// CHECK-LABEL: func.func @window_pad
// CHECK-SAME: %[[SEG:[^:]+]]: tensor<4xi32>
// CHECK: %[[R:.+]] = shard.process_linear_index on @grid : index
// CHECK: %[[QP:.+]] = tensor.generate
// CHECK: cp.global_position %{{.+}}, %[[R]] on @grid balancer = <head_tail> seq_len = 7 {pad} : index
// CHECK: arith.select %{{.+}}, %{{.+}}, %c-1_i64
// CHECK: %[[T:.+]] = cp.shift_start %{{.+}}, %{{.+}}, %[[SEG]] on @grid offset = 1
// CHECK: cp.block_attention {{.+}} positions(%[[QP]], %[[QP]]) segment_ids(%[[SEG]], %[[SEG]]) {causal = #cp.causal<causal>, window = 3 : i64}
// CHECK: %[[KV:.+]]:3 = cp.shift_wait %[[T]]
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[SUM:.+]] = arith.addi %[[R]], %[[C1]] : index
// CHECK: %[[SRC:.+]] = arith.remui %[[SUM]], %{{.+}} : index
// CHECK: %[[KP:.+]] = tensor.generate
// CHECK: cp.global_position %{{.+}}, %[[SRC]]
// CHECK: cp.block_attention {{.+}} positions(%[[QP]], %[[KP]]) segment_ids(%[[SEG]], %[[KV]]#2) {causal = #cp.causal<kv_head_half>, window = 3 : i64}
func.func @window_pad(%q: tensor<1x1x4x4xf32>, %seg: tensor<4xi32>) -> tensor<1x1x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q segment_ids %seg on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, window = 3 : i64, pad, seq_len = 7 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<4xi32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// All-gather rotation stays one op for the runtime.
// CHECK-LABEL: func.func @allgather
// CHECK: cp.ring_attention
// CHECK-NOT: cp.block_attention
func.func @allgather(%q: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<allgather>, balancer = #cp.balancer<head_tail>, is_causal, seq_len = 8 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}
