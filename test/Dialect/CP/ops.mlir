// RUN: cp-opt %s | cp-opt | FileCheck %s
// RUN: cp-opt %s --mlir-print-op-generic | cp-opt | FileCheck %s
// RUN: cp-opt %s -emit-bytecode | cp-opt | FileCheck %s

// Round trip of every cp op, in custom and generic form and through bytecode.

shard.grid @grid(shape = 4)
shard.grid @grid2d(shape = 2x4)

// CHECK-LABEL: func.func @sdpa
// CHECK-SAME: (%[[Q:.+]]: tensor<1x8x64x32xf32>, %[[K:.+]]: tensor<1x2x64x32xf32>, %[[V:.+]]: tensor<1x2x64x16xf32>, %[[M:.+]]: tensor<64x64xi1>, %[[F:.+]]: tensor<1x1x64x64xf32>)
func.func @sdpa(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>,
                %v: tensor<1x2x64x16xf32>, %m: tensor<64x64xi1>,
                %f: tensor<1x1x64x64xf32>)
    -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>, tensor<1x8x64x16xf32>,
        tensor<1x8x64x16xf32>) {
  // CHECK: %{{.+}}, %{{.+}} = cp.sdpa %[[Q]], %[[K]], %[[V]] {dropout_p = 0.000000e+00 : f64, enable_gqa, is_causal, scale = 1.250000e-01 : f64} : (tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>) -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>)
  %o, %lse = cp.sdpa %q, %k, %v {is_causal, enable_gqa, scale = 0.125 : f64, dropout_p = 0.0 : f64}
      : (tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>)
      -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>)
  // CHECK: cp.sdpa %[[Q]], %[[K]], %[[V]] mask %[[M]] {enable_gqa}
  %o2 = cp.sdpa %q, %k, %v mask %m {enable_gqa}
      : (tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<64x64xi1>)
      -> tensor<1x8x64x16xf32>
  // CHECK: cp.sdpa %[[Q]], %[[K]], %[[V]] mask %[[F]] {enable_gqa}
  %o3 = cp.sdpa %q, %k, %v mask %f {enable_gqa}
      : (tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<1x1x64x64xf32>)
      -> tensor<1x8x64x16xf32>
  return %o, %lse, %o2, %o3 : tensor<1x8x64x16xf32>, tensor<1x8x64xf32>, tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>
}

// CHECK-LABEL: func.func @sdpa_dynamic_bf16
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16>
func.func @sdpa_dynamic_bf16(%q: tensor<?x4x?x64xbf16>, %k: tensor<?x4x?x64xbf16>,
                             %v: tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16> {
  %o = cp.sdpa %q, %k, %v : (tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>, tensor<?x4x?x64xbf16>) -> tensor<?x4x?x64xbf16>
  return %o : tensor<?x4x?x64xbf16>
}

// CHECK-LABEL: func.func @sdpa_backward
func.func @sdpa_backward(%do: tensor<2x4x16x8xf16>, %q: tensor<2x4x16x8xf16>,
                         %k: tensor<2x4x16x8xf16>, %v: tensor<2x4x16x8xf16>,
                         %o: tensor<2x4x16x8xf16>, %lse: tensor<2x4x16xf32>,
                         %m: tensor<16x16xf16>)
    -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>) {
  // CHECK: %{{.+}}, %{{.+}}, %{{.+}} = cp.sdpa_backward %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} {is_causal} : (tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16xf32>, tensor<16x16xf16>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>)
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %lse mask %m {is_causal}
      : (tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>,
         tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>, tensor<2x4x16xf32>, tensor<16x16xf16>)
      -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>)
  return %dq, %dk, %dv : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf16>, tensor<2x4x16x8xf16>
}

// CHECK-LABEL: func.func @sdpa_segment_ids
// CHECK-SAME: %[[D1:[^:]+]]: tensor<16xi32>, %[[D2:[^:]+]]: tensor<2x16xi64>
func.func @sdpa_segment_ids(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x16x8xf32>,
                            %v: tensor<2x2x16x8xf32>, %d1: tensor<16xi32>,
                            %d2: tensor<2x16xi64>, %m: tensor<16x16xi1>,
                            %do: tensor<2x4x16x8xf32>, %lse: tensor<2x4x16xf32>)
    -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) {
  // CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[D1]] {enable_gqa, is_causal} : (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<16xi32>) -> tensor<2x4x16x8xf32>
  %o = cp.sdpa %q, %k, %v segment_ids %d1 {is_causal, enable_gqa}
      : (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<16xi32>)
      -> tensor<2x4x16x8xf32>
  // CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} segment_ids %[[D2]] {enable_gqa} : (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<16x16xi1>, tensor<2x16xi64>) -> tensor<2x4x16x8xf32>
  %o2 = cp.sdpa %q, %k, %v mask %m segment_ids %d2 {enable_gqa}
      : (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<16x16xi1>, tensor<2x16xi64>)
      -> tensor<2x4x16x8xf32>
  // CHECK: cp.sdpa_backward %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[D1]] {enable_gqa, is_causal}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %lse segment_ids %d1 {is_causal, enable_gqa}
      : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>,
         tensor<2x2x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16xf32>, tensor<16xi32>)
      -> (tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>)
  return %o, %o2, %dq : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>
}

// CHECK-LABEL: func.func @flex
func.func @flex(%q: tensor<1x8x64x64xf32>, %k: tensor<1x8x64x64xf32>,
                %v: tensor<1x8x64x64xf32>) -> (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64xf32>) {
  // CHECK: cp.flex_attention
  // CHECK-SAME: mask_mod {
  // CHECK-NEXT: ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
  // CHECK-NEXT: %[[KEEP:.+]] = arith.cmpi sge, %[[QI]], %[[KI]] : index
  // CHECK-NEXT: cp.yield %[[KEEP]] : i1
  // CHECK-NEXT: } score_mod {
  // CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
  // CHECK: cp.yield %{{.+}} : f32
  %o = cp.flex_attention %q, %k, %v
      : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>)
      -> tensor<1x8x64x64xf32>
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
  // A flex attention without modifiers, with LSE.
  // CHECK: cp.flex_attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 1.000000e+00 : f64} : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>) -> (tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
  // CHECK-NOT: mask_mod
  %o2, %l2 = cp.flex_attention %q, %k, %v {scale = 1.0 : f64}
      : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>)
      -> (tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
  return %o, %o2, %l2 : tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @shard_unshard
func.func @shard_unshard(%x: tensor<1x8x64x64xf32>, %ids: tensor<64xi32>,
                         %rope: tensor<10x32xf32>)
    -> (tensor<1x8x64x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<4x32xf32>, tensor<1x8x8x64xf32>) {
  // CHECK: %[[L:.+]] = cp.shard %{{.+}} on @grid dim = 2 balancer = <head_tail> : tensor<1x8x64x64xf32> -> tensor<1x8x16x64xf32>
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail>
      : tensor<1x8x64x64xf32> -> tensor<1x8x16x64xf32>
  // CHECK: cp.unshard %[[L]] on @grid dim = 2 balancer = <head_tail> : tensor<1x8x16x64xf32> -> tensor<1x8x64x64xf32>
  %g = cp.unshard %l on @grid dim = 2 balancer = <head_tail>
      : tensor<1x8x16x64xf32> -> tensor<1x8x64x64xf32>
  // CHECK: cp.shard %{{.+}} documents %{{.+}} : tensor<64xi32> on @grid dim = 2 balancer = <per_document_head_tail>
  %d = cp.shard %x documents %ids : tensor<64xi32> on @grid dim = 2
      balancer = <per_document_head_tail> : tensor<1x8x64x64xf32> -> tensor<1x8x16x64xf32>
  // RoPE table, sequence at dim 0, 10 positions padded to 16 over 4 ranks.
  // CHECK: cp.shard %{{.+}} on @grid dim = 0 balancer = <head_tail> {pad} : tensor<10x32xf32> -> tensor<4x32xf32>
  %r = cp.shard %rope on @grid dim = 0 balancer = <head_tail> {pad}
      : tensor<10x32xf32> -> tensor<4x32xf32>
  // CHECK: cp.shard %{{.+}} on @grid2d grid_axes = [0, 1] dim = 2 balancer = <striped> {block_size = 4 : i64}
  %s = cp.shard %x on @grid2d grid_axes = [0, 1] dim = 2
      balancer = <striped> {block_size = 4 : i64}
      : tensor<1x8x64x64xf32> -> tensor<1x8x8x64xf32>
  return %g, %l, %d, %r, %s : tensor<1x8x64x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<4x32xf32>, tensor<1x8x8x64xf32>
}

// CHECK-LABEL: func.func @global_position
func.func @global_position(%i: index) -> index {
  // CHECK: %[[R:.+]] = shard.process_linear_index on @grid
  %r = shard.process_linear_index on @grid : index
  // CHECK: cp.global_position %{{.+}}, %[[R]] on @grid balancer = <striped> seq_len = 64 : index
  %p = cp.global_position %i, %r on @grid balancer = <striped> seq_len = 64 : index
  return %p : index
}

// CHECK-LABEL: func.func @global_position_documents
func.func @global_position_documents(%i: index, %d: tensor<1x64xi64>) -> index {
  %r = shard.process_linear_index on @grid : index
  // CHECK: cp.global_position %{{.+}}, %{{.+}} documents %{{.+}} : tensor<1x64xi64> on @grid balancer = <per_document_head_tail> seq_len = 64 {pad} : index
  %p = cp.global_position %i, %r documents %d : tensor<1x64xi64> on @grid balancer = <per_document_head_tail> seq_len = 64 {pad} : index
  return %p : index
}

// CHECK-LABEL: func.func @ring
func.func @ring(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x2x16x64xbf16>,
                %v: tensor<1x2x16x64xbf16>, %m: tensor<16x60xi1>,
                %seg: tensor<60xi32>)
    -> (tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>, tensor<1x8x16x64xbf16>) {
  // CHECK: cp.ring_attention %{{.+}}, %{{.+}}, %{{.+}} on @grid {balancer = #cp.balancer<head_tail>, enable_gqa, is_causal, rotate = #cp.rotate<ring>, seq_len = 64 : i64}
  %o, %lse = cp.ring_attention %q, %k, %v on @grid {
      rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>,
      is_causal, enable_gqa, seq_len = 64 : i64}
      : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>)
      -> (tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>)
  // CHECK: cp.ring_attention %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} segment_ids %{{.+}} on @grid grid_axes = [0] {balancer = #cp.balancer<per_document_head_tail>, enable_gqa, pad, rotate = #cp.rotate<allgather>, seq_len = 60 : i64, window = 8 : i64}
  %o2 = cp.ring_attention %q, %k, %v mask %m segment_ids %seg on @grid grid_axes = [0] {
      rotate = #cp.rotate<allgather>, balancer = #cp.balancer<per_document_head_tail>,
      enable_gqa, seq_len = 60 : i64, pad, window = 8 : i64}
      : (tensor<1x8x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<16x60xi1>, tensor<60xi32>)
      -> tensor<1x8x16x64xbf16>
  return %o, %lse, %o2 : tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>, tensor<1x8x16x64xbf16>
}

// CHECK-LABEL: func.func @ring_backward
func.func @ring_backward(%do: tensor<1x8x16x64xf32>, %q: tensor<1x8x16x64xf32>,
                         %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>,
                         %o: tensor<1x8x16x64xf32>, %lse: tensor<1x8x16xf32>)
    -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) {
  // CHECK: %{{.+}}, %{{.+}}, %{{.+}} = cp.ring_attention_backward %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} on @grid {balancer = #cp.balancer<striped>, is_causal, rotate = #cp.rotate<alltoall>, seq_len = 64 : i64}
  %dq, %dk, %dv = cp.ring_attention_backward %do, %q, %k, %v, %o, %lse on @grid {
      rotate = #cp.rotate<alltoall>, balancer = #cp.balancer<striped>,
      is_causal, seq_len = 64 : i64}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
         tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
  return %dq, %dk, %dv : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
}

// CHECK-LABEL: func.func @schedule
func.func @schedule(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>,
                    %v: tensor<1x8x16x64xf32>, %qp: tensor<16xindex>,
                    %kp: tensor<16xindex>, %qs: tensor<16xi32>, %ks: tensor<16xi32>,
                    %do: tensor<1x8x16x64xf32>)
    -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>, tensor<1x8x16x64xf32>) {
  // CHECK: %[[T:.+]] = cp.shift_start %{{.+}}, %{{.+}} on @grid offset = 1 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  %t = cp.shift_start %k, %v on @grid offset = 1 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  // CHECK: cp.block_attention %{{.+}}, %{{.+}}, %{{.+}} {causal = #cp.causal<causal>}
  %o0, %l0 = cp.block_attention %q, %k, %v {causal = #cp.causal<causal>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: %[[KV:.+]]:2 = cp.shift_wait %[[T]] : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  %k1, %v1 = cp.shift_wait %t : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
  // CHECK: cp.block_attention %{{.+}}, %[[KV]]#0, %[[KV]]#1 positions(%{{.+}}, %{{.+}}) segment_ids(%{{.+}}, %{{.+}}) {causal = #cp.causal<kv_head_half>, window = 4 : i64}
  %o1, %l1 = cp.block_attention %q, %k1, %v1 positions(%qp, %kp) segment_ids(%qs, %ks)
      {causal = #cp.causal<kv_head_half>, window = 4 : i64}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
         tensor<16xindex>, tensor<16xindex>, tensor<16xi32>, tensor<16xi32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.block_attention %{{.+}} {causal = #cp.causal<q_tail_half>}
  %o2, %l2 = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<q_tail_half>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.block_attention %{{.+}} {causal = #cp.causal<causal_strict>}
  %o3, %l3 = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<causal_strict>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.block_attention %{{.+}} {causal = #cp.causal<skip>}
  %o4, %l4 = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<skip>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.block_attention %{{.+}} {causal = #cp.causal<not_causal>}
  %o5, %l5 = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<not_causal>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: %[[M:[^ ]+]], %[[ML:[^ ]+]] = cp.merge_partial
  %m, %ml = cp.merge_partial %o0, %l0, %o1, %l1
      : (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.block_attention_backward %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[M]], %[[ML]] {causal = #cp.causal<causal>}
  %dq, %dk, %dv = cp.block_attention_backward %do, %q, %k, %v, %m, %ml {causal = #cp.causal<causal>}
      : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
         tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
      -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
  return %m, %ml, %dq : tensor<1x8x16x64xf32>, tensor<1x8x16xf32>, tensor<1x8x16x64xf32>
}
