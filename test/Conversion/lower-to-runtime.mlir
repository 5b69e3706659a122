// RUN: cp-opt %s --split-input-file --cp-lower-to-runtime | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-lower-to-llvm | FileCheck %s --check-prefix=LLVM

// Each cp op becomes a call into the runtime on buffers: operands through
// bufferization.to_buffer (read-only), results in fresh allocations that
// re-enter tensors with to_tensor restrict writable.

// CHECK-LABEL: func.func @sdpa
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8x4xbf16>, %[[M:[^:]+]]: tensor<8x8xi1>)
// A bool mask becomes an additive f32 mask (0 keep, -inf drop).
// CHECK: %[[ADD:.+]] = linalg.generic {{.+}} ins(%[[M]] : tensor<8x8xi1>)
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK: %[[MB:.+]] = bufferization.to_buffer %[[ADD]] read_only
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x2x8x4xbf16>
// CHECK: %[[LSE:.+]] = memref.alloc() : memref<1x2x8xf32>
// CHECK: call @cprt_c_sdpa_fwd_bf16({{.+}}) : (memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xbf16>, memref<*xf32>, f64, i32) -> ()
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: bufferization.to_tensor %[[LSE]] restrict writable
// CHECK: func.func private @cprt_c_sdpa_fwd_bf16
// LLVM-LABEL: llvm.func @sdpa
// LLVM: llvm.call @cprt_c_sdpa_fwd_bf16
// LLVM: llvm.func @_mlir_ciface_sdpa
func.func @sdpa(%q: tensor<1x2x8x4xbf16>, %m: tensor<8x8xi1>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>) {
  %o, %l = cp.sdpa %q, %q, %q mask %m {is_causal} : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<8x8xi1>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>)
  return %o, %l : tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>
}

// -----

// Document ids: the single-device entry takes none, so they become an
// additive mask [B, 1, S, S] (0 where ids match), the bool mask added to it.
// CHECK-LABEL: func.func @sdpa_segments
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x2x8x4xf32>, %[[D:[^:]+]]: tensor<2x8xi64>, %[[M:[^:]+]]: tensor<8x8xi1>)
// CHECK: %[[ADD:.+]] = linalg.generic {{.+}} ins(%[[M]] : tensor<8x8xi1>)
// CHECK: %[[DM:.+]] = linalg.generic {{.+}} ins(%[[D]], %[[D]], %[[ADD]] : tensor<2x8xi64>, tensor<2x8xi64>, tensor<8x8xf32>) outs(%{{.+}} : tensor<2x1x8x8xf32>)
// CHECK: arith.cmpi eq, %{{.+}}, %{{.+}} : i64
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK: arith.addf
// CHECK: bufferization.to_buffer %[[DM]] read_only
// CHECK: call @cprt_c_sdpa_fwd_f32
func.func @sdpa_segments(%q: tensor<2x2x8x4xf32>, %d: tensor<2x8xi64>, %m: tensor<8x8xi1>) -> tensor<2x2x8x4xf32> {
  %o = cp.sdpa %q, %q, %q mask %m segment_ids %d {is_causal} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<8x8xi1>, tensor<2x8xi64>) -> tensor<2x2x8x4xf32>
  return %o : tensor<2x2x8x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// per_document_head_tail: the per-document ring entry, with the ids of the
// whole sequence as its segment ids (the runtime lays the ranks out from
// them).
// CHECK-LABEL: func.func @ring_docs
// CHECK: call @cprt_c_ring_docs_fwd_f32({{.+}}) : (memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xi32>, memref<*xf32>, memref<*xf32>, f64, i32, i32, i32, i64, i64) -> ()
// CHECK: call @cprt_c_ring_docs_bwd_f32
func.func @ring_docs(%q: tensor<1x2x32x4xf32>, %d: tensor<64xi64>, %lse: tensor<1x2x32xf32>) -> (tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>) {
  %o = cp.ring_attention %q, %q, %q segment_ids %d on @grid {balancer = #cp.balancer<per_document_head_tail>, rotate = #cp.rotate<ring>, is_causal, seq_len = 64 : i64} : (tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<64xi64>) -> tensor<1x2x32x4xf32>
  %dq, %dk, %dv = cp.ring_attention_backward %q, %q, %q, %q, %o, %lse segment_ids %d on @grid {balancer = #cp.balancer<per_document_head_tail>, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32xf32>, tensor<64xi64>) -> (tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>)
  return %o, %dq : tensor<1x2x32x4xf32>, tensor<1x2x32x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// The explicit schedule: shifts keep a private copy of what they send until
// the wait; the rank comes from the runtime context; positions are a
// constant table of the balancer's layout (7 tokens, head-tail, 2 ranks:
// padding spread over the chunks, as the runtime lays it out; the padding
// slot maps past the sequence: 7 + slot 7).
// CHECK-LABEL: func.func @schedule
// CHECK: %[[R:.+]] = call @cprt_c_rank() : () -> i64
// CHECK: %[[SEND:.+]] = memref.alloc() : memref<1x1x4x4xf32>
// CHECK: memref.copy %{{.+}}, %[[SEND]]
// CHECK: %[[RECV:.+]] = memref.alloc() : memref<1x1x4x4xf32>
// CHECK: %[[H:.+]] = call @cprt_c_shift_start_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xf32>, memref<*xf32>, i64, i64) -> i64
// CHECK: call @cprt_c_block_fwd_f32
// CHECK: call @cprt_c_shift_wait_f32(%[[H]], %{{.+}}) : (i64, memref<*xf32>) -> ()
// CHECK: bufferization.to_tensor %[[RECV]] restrict writable
// CHECK: call @cprt_c_merge_f32
// CHECK: arith.constant dense<[0, 1, 5, 6, 2, 3, 4, 14]> : tensor<8xindex>
// CHECK-NOT: shard.grid
func.func @schedule(%q: tensor<1x1x4x4xf32>, %i: index) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>, index) {
  %r = shard.process_linear_index on @grid : index
  %t = cp.shift_start %q on @grid offset = 1 : tensor<1x1x4x4xf32>
  %o0, %l0 = cp.block_attention %q, %q, %q {causal = #cp.causal<causal>} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>)
  %k1 = cp.shift_wait %t : tensor<1x1x4x4xf32>
  %o1, %l1 = cp.block_attention %q, %k1, %k1 {causal = #cp.causal<kv_head_half>} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>)
  %m, %ml = cp.merge_partial %o0, %l0, %o1, %l1 : (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>)
  %p = cp.global_position %i, %r on @grid balancer = <head_tail> seq_len = 7 {pad} : index
  return %m, %ml, %p : tensor<1x1x4x4xf32>, tensor<1x1x4xf32>, index
}

// -----

shard.grid @grid(shape = 4)

// Data movement and collectives.
// CHECK-LABEL: func.func @movement
// CHECK: call @cprt_c_shard_i32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xi32>, memref<*xi32>, i64, i32, i32) -> ()
// CHECK: call @cprt_c_unshard_f32
// CHECK: call @cprt_c_all_gather_f32
// CHECK: call @cprt_c_all_reduce_f32(%{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xf32>, memref<*xf32>, i32) -> ()
func.func @movement(%ids: tensor<64xi32>, %l: tensor<1x16x8xf32>, %s: tensor<4xf32>) -> (tensor<16xi32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<4xf32>) {
  %a = cp.shard %ids on @grid dim = 0 balancer = <head_tail> : tensor<64xi32> -> tensor<16xi32>
  %b = cp.unshard %l on @grid dim = 1 balancer = <striped> : tensor<1x16x8xf32> -> tensor<1x64x8xf32>
  %c = shard.all_gather %l on @grid grid_axes = [0] gather_axis = 1 : tensor<1x16x8xf32> -> tensor<1x64x8xf32>
  %d = shard.all_reduce %s on @grid grid_axes = [0] reduction = max : tensor<4xf32> -> tensor<4xf32>
  return %a, %b, %c, %d : tensor<16xi32>, tensor<1x64x8xf32>, tensor<1x64x8xf32>, tensor<4xf32>
}

// -----

// Flex attention is decomposed into linalg with the modifiers inlined.
// CHECK-LABEL: func.func @flex
// CHECK-NOT: cp.flex_attention
// CHECK: linalg.generic
// CHECK: linalg.index 2
// CHECK: linalg.index 3
// CHECK: arith.cmpi sge
// CHECK: arith.select
// CHECK: math.exp
func.func @flex(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = cp.flex_attention %q, %q, %q : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %keep = arith.cmpi sge, %qi, %ki : index
      cp.yield %keep : i1
    }
  return %o : tensor<1x2x8x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// Backward ops: gradients in fresh buffers; block steps write f32
// contributions and take positions (i64) and document ids (i32).
// CHECK-LABEL: func.func @backward
// CHECK: call @cprt_c_sdpa_bwd_bf16({{.+}}) : (memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xf32>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, f64, i32) -> ()
// CHECK: call @cprt_c_ring_bwd_bf16({{.+}}) : (memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xf32>, memref<*xi32>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, f64, i32, i32, i32, i64, i64) -> ()
// CHECK: %[[QP:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<8xindex>) outs(%{{.+}} : tensor<8xi64>)
// CHECK: %[[FLAGS:.+]] = arith.constant 16 : i32
// CHECK: call @cprt_c_block_bwd_bf16({{.+}}, %[[FLAGS]], {{.+}}) : (memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xf32>, memref<*xi64>, memref<*xi64>, memref<*xi32>, memref<*xi32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32, i32, i64) -> ()
// CHECK-NOT: cp.
func.func @backward(%do: tensor<1x2x8x4xbf16>, %q: tensor<1x2x8x4xbf16>, %o: tensor<1x2x8x4xbf16>, %l: tensor<1x2x8xf32>, %p: tensor<8xindex>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %l {is_causal} : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>)
  %rq, %rk, %rv = cp.ring_attention_backward %do, %q, %q, %q, %o, %l on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, seq_len = 16 : i64} : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>)
  %bq, %bk, %bv = cp.block_attention_backward %do, %q, %q, %q, %o, %l positions(%p, %p) {causal = #cp.causal<not_causal>, window = 4 : i64} : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>, tensor<8xindex>, tensor<8xindex>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
  return %dq, %rq, %bq : tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xf32>
}

// -----

// Rank-3 [B*H, S, D] flex attention is unfolded to [1, B*H, S, D] first;
// the LSE is folded back too.
// CHECK-LABEL: func.func @flex_rank3
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 8, 4] : tensor<2x8x4xf16> into tensor<1x2x8x4xf16>
// CHECK: math.exp
// CHECK: math.log
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2], [3]] : tensor<1x2x8x4xf16> into tensor<2x8x4xf16>
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<1x2x8xf32> into tensor<2x8xf32>
// CHECK-NOT: cp.flex_attention
func.func @flex_rank3(%q: tensor<2x8x4xf16>) -> (tensor<2x8x4xf16>, tensor<2x8xf32>) {
  %o, %l = cp.flex_attention %q, %q, %q : (tensor<2x8x4xf16>, tensor<2x8x4xf16>, tensor<2x8x4xf16>) -> (tensor<2x8x4xf16>, tensor<2x8xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      cp.yield %s : f32
    }
  return %o, %l : tensor<2x8x4xf16>, tensor<2x8xf32>
}

// -----

shard.grid @grid(shape = 2)

// A cp.global_position in a modifier is lowered after the modifier is
// inlined into the decomposition's linalg.generic.
// CHECK-LABEL: func.func @flex_positions
// CHECK: linalg.generic
// CHECK: arith.constant dense<[0, 3, 1, 2]> : tensor<4xindex>
// CHECK: tensor.extract
// CHECK-NOT: cp.
func.func @flex_positions(%q: tensor<1x1x2x4xf32>, %r: index) -> tensor<1x1x2x4xf32> {
  %o = cp.flex_attention %q, %q, %q : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %gi = cp.global_position %i, %r on @grid balancer = <head_tail> seq_len = 4 : index
      %keep = arith.cmpi sge, %gi, %j : index
      cp.yield %keep : i1
    }
  return %o : tensor<1x1x2x4xf32>
}

// -----

shard.grid @grid(shape = 3)

// Per-document positions: this rank's positions come from the runtime
// (cprt_c_document_positions, ceil(64 / 3) = 22 slots) right after the ids
// are defined, outside the linalg body that reads them; [1, S] i64 ids are
// collapsed and cast to i32.
// CHECK-LABEL: func.func @document_positions
// CHECK-SAME: (%[[D:.+]]: tensor<1x64xi64>
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[D]]
// CHECK: %[[P:.+]] = memref.alloc() : memref<22xi64>
// CHECK: call @cprt_c_document_positions(%{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xi32>, memref<*xi64>, i64) -> ()
// CHECK: %[[T:.+]] = bufferization.to_tensor %[[P]]
// CHECK: linalg.generic
// CHECK: %[[E:.+]] = tensor.extract %[[T]][%{{.+}}] : tensor<22xi64>
// CHECK: arith.index_cast %[[E]] : i64 to index
// CHECK-NOT: cp.global_position
func.func @document_positions(%d: tensor<1x64xi64>) -> tensor<22xi64> {
  %r = shard.process_linear_index on @grid : index
  %e = tensor.empty() : tensor<22xi64>
  %g = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]} outs(%e : tensor<22xi64>) {
  ^bb0(%o: i64):
    %i = linalg.index 0 : index
    %p = cp.global_position %i, %r documents %d : tensor<1x64xi64> on @grid balancer = <per_document_head_tail> seq_len = 64 {pad} : index
    %pi = arith.index_cast %p : index to i64
    linalg.yield %pi : i64
  } -> tensor<22xi64>
  return %g : tensor<22xi64>
}

// -----

shard.grid @grid(shape = 3)

// Per-document shard and unshard take the whole ids ([1, S] i64 collapsed
// and cast to i32).
// CHECK-LABEL: func.func @shard_documents
// CHECK: call @cprt_c_shard_docs_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xf32>, memref<*xf32>, i64, i32, i32, memref<*xi32>) -> ()
// CHECK: call @cprt_c_unshard_docs_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xf32>, memref<*xf32>, i64, i32, i32, memref<*xi32>) -> ()
func.func @shard_documents(%x: tensor<64x8xf32>, %d: tensor<1x64xi64>) -> tensor<64x8xf32> {
  %l = cp.shard %x documents %d : tensor<1x64xi64> on @grid dim = 0 balancer = <per_document_head_tail> {pad} : tensor<64x8xf32> -> tensor<22x8xf32>
  %g = cp.unshard %l documents %d : tensor<1x64xi64> on @grid dim = 0 balancer = <per_document_head_tail> {pad} : tensor<22x8xf32> -> tensor<64x8xf32>
  return %g : tensor<64x8xf32>
}
