// RUN: cp-opt %s -split-input-file --cp-context-parallel="grid-size=3 load-balance=per_document_head_tail" -verify-diagnostics | FileCheck %s

// load-balance=per_document_head_tail: the runtime lays every document out
// head-tail over the ranks from the ids, so the ids stay whole (marked
// cp.documents) and go whole to the ring; every rank holds ceil(S / W)
// slots (loads differ by at most one token; the runtime pads to the most
// loaded rank).

// CHECK-LABEL: func.func @docs
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x22x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = per_document_head_tail, pad = true>}
// CHECK-SAME: %[[D:[^:]+]]: tensor<64xi32> {cp.documents})
// CHECK-SAME: -> (tensor<1x4x22x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = per_document_head_tail, pad = true>})
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%[[Q]] : tensor<1x4x22x8xf32>)
// CHECK: cp.ring_attention %[[S]], %{{.+}}, %{{.+}} segment_ids %[[D]] on @cp_grid {balancer = #cp.balancer<per_document_head_tail>, enable_gqa, is_causal, pad, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x4x22x8xf32>, tensor<1x2x22x8xf32>, tensor<1x2x22x8xf32>, tensor<64xi32>) -> tensor<1x4x22x8xf32>
func.func @docs(%q: tensor<1x4x64x8xf32>, %k: tensor<1x2x64x8xf32>,
                %v: tensor<1x2x64x8xf32>, %d: tensor<64xi32>) -> tensor<1x4x64x8xf32> {
  %e = tensor.empty() : tensor<1x4x64x8xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x4x64x8xf32>) outs(%e : tensor<1x4x64x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %c = arith.constant 2.0 : f32
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x4x64x8xf32>
  %o = cp.sdpa %qs, %k, %v segment_ids %d {is_causal, enable_gqa}
      : (tensor<1x4x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<64xi32>)
      -> tensor<1x4x64x8xf32>
  return %o : tensor<1x4x64x8xf32>
}

// -----

// Positions of local tokens are known only at run time: linalg.index
// along the sequence becomes cp.global_position with the whole ids.
// CHECK-LABEL: func.func @positions
// CHECK-SAME: %[[D:[^:]+]]: tensor<64xi32> {cp.documents}
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid
// CHECK: linalg.generic
// CHECK: %[[I:.+]] = linalg.index 2 : index
// CHECK: cp.global_position %[[I]], %[[R]] documents %[[D]] : tensor<64xi32> on @cp_grid balancer = <per_document_head_tail> seq_len = 64 {pad} : index
// CHECK: cp.ring_attention
func.func @positions(%q: tensor<1x4x64x8xf32>, %d: tensor<64xi32>) -> tensor<1x4x64x8xf32> {
  %e = tensor.empty() : tensor<1x4x64x8xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x4x64x8xf32>) outs(%e : tensor<1x4x64x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 2 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %y = arith.addf %x, %f : f32
    linalg.yield %y : f32
  } -> tensor<1x4x64x8xf32>
  %o = cp.sdpa %qs, %qs, %qs segment_ids %d
      : (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<64xi32>)
      -> tensor<1x4x64x8xf32>
  return %o : tensor<1x4x64x8xf32>
}

// -----

func.func @no_docs(%q: tensor<1x4x64x8xf32>) -> tensor<1x4x64x8xf32> {
  // expected-error @+1 {{load-balance=per_document_head_tail needs document ids (segment_ids) on every attention}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>) -> tensor<1x4x64x8xf32>
  return %o : tensor<1x4x64x8xf32>
}

// -----

func.func @docs_used_elsewhere(%q: tensor<1x4x64x8xf32>, %d: tensor<64xi32>) -> (tensor<1x4x64x8xf32>, tensor<64xi32>) {
  %o = cp.sdpa %q, %q, %q segment_ids %d : (tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<1x4x64x8xf32>, tensor<64xi32>) -> tensor<1x4x64x8xf32>
  // expected-error @+1 {{uses the document ids; with load-balance=per_document_head_tail they may only be attention's segment_ids (they stay whole on every rank)}}
  return %o, %d : tensor<1x4x64x8xf32>, tensor<64xi32>
}
