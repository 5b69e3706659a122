// RUN: cp-opt %s --split-input-file --cp-expand-ring | FileCheck %s

// The ring schedule: step 0 peeled, steps 1 .. W-2 one scf.for carrying the
// received key/value block and the running (out, lse), the last step peeled
// (no shift to post). Each step's shift is posted before the block's compute
// and waited on after it, inside the step; the causal behaviour is chosen by
// `step <= rank`; merges are in fp32.

shard.grid @grid(shape = 3)

// CHECK-LABEL: func.func @head_tail
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8x4xbf16>, %[[K:[^:]+]]: tensor<1x1x8x4xbf16>, %[[V:[^:]+]]: tensor<1x1x8x4xbf16>)
// CHECK: %[[R:.+]] = shard.process_linear_index on @grid : index
// Step 0: shift (k, v) to the next rank while the diagonal block is computed.
// CHECK: %[[T0:.+]] = cp.shift_start %[[K]], %[[V]] on @grid offset = 1
// CHECK: %[[O0:[^ ]+]], %[[L0:[^ ]+]] = cp.block_attention %[[Q]], %[[K]], %[[V]] {causal = #cp.causal<causal>, enable_gqa} : ({{.+}}) -> (tensor<1x2x8x4xf32>, tensor<1x2x8xf32>)
// CHECK: %[[KV1:.+]]:2 = cp.shift_wait %[[T0]]
// Steps 1 .. W-2 = 1: the loop; the next shift is posted first, then
// kv_head_half if i <= rank, else q_tail_half; the received block and the
// merged partial are the next iteration's arguments.
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[LAST:.+]] = arith.constant 2 : index
// CHECK: %[[LOOP:.+]]:4 = scf.for %[[I:.+]] = %[[C1]] to %[[LAST]] step %[[C1]] iter_args(%[[K1:[^ ]+]] = %[[KV1]]#0, %[[V1:[^ ]+]] = %[[KV1]]#1, %[[O1:[^ ]+]] = %[[O0]], %[[L1:[^ ]+]] = %[[L0]])
// CHECK: %[[T1:.+]] = cp.shift_start %[[K1]], %[[V1]] on @grid offset = 1
// CHECK: %[[LE1:.+]] = arith.cmpi ule, %[[I]], %[[R]] : index
// CHECK: %[[S1:.+]]:2 = scf.if %[[LE1]]
// CHECK: cp.block_attention %[[Q]], %[[K1]], %[[V1]] {causal = #cp.causal<kv_head_half>, enable_gqa}
// CHECK: cp.merge_partial %[[O1]], %[[L1]]
// CHECK: } else {
// CHECK: cp.block_attention %[[Q]], %[[K1]], %[[V1]] {causal = #cp.causal<q_tail_half>, enable_gqa}
// CHECK: cp.merge_partial %[[O1]], %[[L1]]
// CHECK: %[[KV2:.+]]:2 = cp.shift_wait %[[T1]]
// CHECK: scf.yield %[[KV2]]#0, %[[KV2]]#1, %[[S1]]#0, %[[S1]]#1
// Step W-1 = 2 (last, peeled): no shift.
// CHECK-NOT: cp.shift_start
// CHECK: arith.cmpi ule, %[[LAST]], %[[R]] : index
// CHECK: %[[S2:.+]]:2 = scf.if
// CHECK: cp.block_attention %[[Q]], %[[LOOP]]#0, %[[LOOP]]#1 {causal = #cp.causal<kv_head_half>, enable_gqa}
// CHECK: cp.merge_partial %[[LOOP]]#2, %[[LOOP]]#3
// CHECK: cp.block_attention %[[Q]], %[[LOOP]]#0, %[[LOOP]]#1 {causal = #cp.causal<q_tail_half>, enable_gqa}
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
// (rank + W - i) mod W, and document ids travel with the key/value block
// (a loop argument). W = 2: the loop runs no iteration, the last step is 1.
// CHECK-LABEL: func.func @window_pad
// CHECK-SAME: %[[SEG:[^:]+]]: tensor<4xi32>
// CHECK: %[[R:.+]] = shard.process_linear_index on @grid : index
// CHECK: %[[W:.+]] = arith.constant 2 : index
// CHECK: %[[QP:.+]] = tensor.generate
// CHECK: cp.global_position %{{.+}}, %[[R]] on @grid balancer = <head_tail> seq_len = 7 {pad} : index
// CHECK: arith.select %{{.+}}, %{{.+}}, %c-1_i64
// CHECK: %[[T:.+]] = cp.shift_start %{{.+}}, %{{.+}}, %[[SEG]] on @grid offset = 1
// CHECK: cp.block_attention {{.+}} positions(%[[QP]], %[[QP]]) segment_ids(%[[SEG]], %[[SEG]]) {causal = #cp.causal<causal>, window = 3 : i64}
// CHECK: %[[KV:.+]]:3 = cp.shift_wait %[[T]]
// CHECK: %[[LOOP:.+]]:5 = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %[[KV]]#0, %{{.+}} = %[[KV]]#1, %[[KSEG:[^ ]+]] = %[[KV]]#2,
// CHECK: cp.shift_start %{{.+}}, %{{.+}}, %[[KSEG]] on @grid offset = 1
// CHECK: %[[BACK:.+]] = arith.subi %[[W]], %[[I]] : index
// CHECK: %[[SUM:.+]] = arith.addi %[[R]], %[[BACK]] : index
// CHECK: %[[SRC:.+]] = arith.remui %[[SUM]], %[[W]] : index
// CHECK: %[[KP:.+]] = tensor.generate
// CHECK: cp.global_position %{{.+}}, %[[SRC]]
// CHECK: cp.block_attention {{.+}} positions(%[[QP]], %[[KP]]) segment_ids(%[[SEG]], %[[KSEG]]) {causal = #cp.causal<kv_head_half>, window = 3 : i64}
// CHECK: scf.yield
// CHECK: %[[LBACK:.+]] = arith.subi %[[W]], %{{.+}} : index
// CHECK: %[[LSUM:.+]] = arith.addi %[[R]], %[[LBACK]] : index
// CHECK: %[[LSRC:.+]] = arith.remui %[[LSUM]], %[[W]] : index
// CHECK: %[[LKP:.+]] = tensor.generate
// CHECK: cp.global_position %{{.+}}, %[[LSRC]]
// CHECK: cp.block_attention {{.+}} positions(%[[QP]], %[[LKP]]) segment_ids(%[[SEG]], %[[LOOP]]#2) {causal = #cp.causal<kv_head_half>, window = 3 : i64}
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
