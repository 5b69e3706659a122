// RUN: cp-opt %s --split-input-file --cp-lower-to-runtime -verify-diagnostics

// A shift that is never waited on used to stay behind after the lowering,
// naming the grid the lowering removes (invalid IR; found by
// test/fuzz/fuzz.py).
shard.grid @grid(shape = 2)
func.func @no_wait(%k: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{'cp.shift_start' op expected its token to be used by cp.shift_wait only (a shift never waited on stays pending)}}
  %t = cp.shift_start %k on @grid offset = 1 : tensor<1x4x16x16xf32>
  return
}

// -----

// Every diagnostic of the lowering, one case each: what the runtime does not
// take is refused with the op named, never lowered to a wrong call.

func.func @f64_attention(%q: tensor<1x2x8x4xf64>) -> tensor<1x2x8x4xf64> {
  // expected-error @+1 {{'cp.sdpa' op the runtime computes attention in f32, bf16 or f16, got 'f64'}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>) -> tensor<1x2x8x4xf64>
  return %o : tensor<1x2x8x4xf64>
}

// -----

shard.grid @grid(shape = 2)
func.func @i16_shard(%x: tensor<8x4xi16>) -> tensor<4x4xi16> {
  // expected-error @+1 {{'cp.shard' op has element type 'i16' which the runtime does not take}}
  %l = cp.shard %x on @grid dim = 0 balancer = <none> : tensor<8x4xi16> -> tensor<4x4xi16>
  return %l : tensor<4x4xi16>
}

// -----

shard.grid @grid(shape = 2)
func.func @ptrr_ring(%q: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{'cp.ring_attention' op ptrr balancing needs a block mask, which the lowering does not pass yet}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<ptrr>, is_causal, seq_len = 8 : i64, block_size = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

// -----

shard.grid @grid(shape = 2)
func.func @segments_2d(%q: tensor<2x2x4x4xf32>, %s: tensor<2x4xi32>) -> tensor<2x2x4x4xf32> {
  // expected-error @+1 {{'cp.ring_attention' op the lowering takes 1-D segment ids}}
  %o = cp.ring_attention %q, %q, %q segment_ids %s on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 8 : i64} : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>, tensor<2x4xi32>) -> tensor<2x2x4x4xf32>
  return %o : tensor<2x2x4x4xf32>
}

// -----

func.func @bf16_partial(%q: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>) {
  // expected-error @+1 {{'cp.block_attention' op lowering needs an f32 partial output}}
  %o, %l = cp.block_attention %q, %q, %q {causal = #cp.causal<causal>} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>)
  return %o, %l : tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>
}

// -----

func.func @bf16_merge(%o: tensor<1x1x4x4xbf16>, %l: tensor<1x1x4xf32>) -> (tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>) {
  // expected-error @+1 {{'cp.merge_partial' op lowering merges f32 partial results}}
  %m, %ml = cp.merge_partial %o, %l, %o, %l : (tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>, tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>)
  return %m, %ml : tensor<1x1x4x4xbf16>, tensor<1x1x4xf32>
}

// -----

shard.grid @grid(shape = 2)
func.func @striped_blocks(%x: tensor<8x4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'cp.shard' op the runtime's striped balancing uses blocks of 1}}
  %l = cp.shard %x on @grid dim = 0 balancer = <striped> {block_size = 2 : i64} : tensor<8x4xf32> -> tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

// -----

shard.grid @grid(shape = 2)
func.func @reduce_widen(%x: tensor<4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'shard.all_reduce' op the lowering reduces in the input's element type}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] reduction = sum : tensor<4xf32> -> tensor<4xf64>
  return %r : tensor<4xf64>
}

// -----

shard.grid @grid(shape = 2)
func.func @reduce_product(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'shard.all_reduce' op the runtime all-reduces with sum, max or min}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] reduction = product : tensor<4xf32> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @dynamic_shape(%q: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  // expected-error @+1 {{'cp.sdpa' op the lowering needs static shapes}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

shard.grid @grid(shape = 2)
func.func @reduce_i16(%x: tensor<4xi16>) -> tensor<4xi16> {
  // expected-error @+1 {{'shard.all_reduce' op has element type 'i16' which the runtime does not take}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] reduction = sum : tensor<4xi16> -> tensor<4xi16>
  return %r : tensor<4xi16>
}

// -----

shard.grid @grid(shape = ?)
func.func @dynamic_grid_gather(%x: tensor<4x4xf32>, %i: index) -> index {
  %r = shard.process_linear_index on @grid : index
  // expected-error @+1 {{'cp.global_position' op needs a grid of static size}}
  %p = cp.global_position %i, %r on @grid balancer = <head_tail> seq_len = 8 : index
  return %p : index
}

// -----

func.func @bwd_types(%do: tensor<1x2x8x4xbf16>, %q: tensor<1x2x8x4xbf16>, %o: tensor<1x2x8x4xf32>, %l: tensor<1x2x8xf32>) -> tensor<1x2x8x4xbf16> {
  // expected-error @+1 {{'cp.sdpa_backward' op lowering needs gradients and outputs in the query's element type}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %l : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>)
  return %dq : tensor<1x2x8x4xbf16>
}

// -----

shard.grid @grid(shape = 2)
func.func @ring_bwd_types(%do: tensor<1x2x4x4xbf16>, %q: tensor<1x2x4x4xbf16>, %o: tensor<1x2x4x4xbf16>, %l: tensor<1x2x4xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{'cp.ring_attention_backward' op lowering needs gradients and outputs in the query's element type}}
  %dq, %dk, %dv = cp.ring_attention_backward %do, %q, %q, %q, %o, %l on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 8 : i64} : (tensor<1x2x4x4xbf16>, tensor<1x2x4x4xbf16>, tensor<1x2x4x4xbf16>, tensor<1x2x4x4xbf16>, tensor<1x2x4x4xbf16>, tensor<1x2x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
  return %dq : tensor<1x2x4x4xf32>
}

// -----

func.func @block_bwd_f16(%do: tensor<1x1x4x4xf32>, %q: tensor<1x1x4x4xf32>, %l: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf16> {
  // expected-error @+1 {{'cp.block_attention_backward' op lowering needs f32 gradient contributions}}
  %dq, %dk, %dv = cp.block_attention_backward %do, %q, %q, %q, %do, %l {causal = #cp.causal<causal>} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xf16>, tensor<1x1x4x4xf16>, tensor<1x1x4x4xf16>)
  return %dq : tensor<1x1x4x4xf16>
}

// -----

func.func @block_bwd_dout(%do: tensor<1x1x4x4xf16>, %q: tensor<1x1x4x4xf32>, %l: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'cp.block_attention_backward' op lowering needs grad_output and output in the query's element type}}
  %dq, %dk, %dv = cp.block_attention_backward %do, %q, %q, %q, %q, %l {causal = #cp.causal<causal>} : (tensor<1x1x4x4xf16>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)
  return %dq : tensor<1x1x4x4xf32>
}

// -----

func.func @flex_3d_head_index(%q: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{'cp.flex_attention' op reads the batch or head index in a modifier of rank-3 [B*H, S, D] attention; the lowering takes [B, H, S, D]}}
  %o = cp.flex_attention %q, %q, %q : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32> mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi uge, %h, %j : index
    cp.yield %c : i1
  }
  return %o : tensor<2x8x4xf32>
}

// -----

func.func @flex_5d(%q: tensor<1x2x2x8x4xf32>) -> tensor<1x2x2x8x4xf32> {
  // expected-error @+1 {{'cp.flex_attention' op the lowering decomposes flex attention on static [B, H, S, D] tensors}}
  %o = cp.flex_attention %q, %q, %q : (tensor<1x2x2x8x4xf32>, tensor<1x2x2x8x4xf32>, tensor<1x2x2x8x4xf32>) -> tensor<1x2x2x8x4xf32>
  return %o : tensor<1x2x2x8x4xf32>
}

// -----

shard.grid @grid(shape = 2)
func.func @reduce_bf16(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  // expected-error @+1 {{'shard.all_reduce' op the runtime all-reduces f32, f64, i32 or i64}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] reduction = sum : tensor<4xbf16> -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// -----

// A token carried through a loop's iter_args: the start's token is not used
// by a cp.shift_wait, and the wait's token is a block argument. Both are
// reported.
shard.grid @grid(shape = 2)
func.func @token_through_loop(%k: tensor<4xf32>, %n: index) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'cp.shift_start' op expected its token to be used by cp.shift_wait only (a shift never waited on stays pending)}}
  %t0 = cp.shift_start %k on @grid offset = 1 : tensor<4xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%t = %t0, %x = %k) -> (!cp.shift_token, tensor<4xf32>) {
    // expected-error @+1 {{'cp.shift_wait' op expected the token of a cp.shift_start, not one passed through a block argument or region result}}
    %y = cp.shift_wait %t : tensor<4xf32>
    // expected-error @+1 {{'cp.shift_start' op expected its token to be used by cp.shift_wait only}}
    %t1 = cp.shift_start %y on @grid offset = 1 : tensor<4xf32>
    scf.yield %t1, %y : !cp.shift_token, tensor<4xf32>
  }
  return %r#1 : tensor<4xf32>
}

// -----

// A refused cp.shift_start is reported once: its cp.shift_wait says nothing.
shard.grid @grid(shape = 2)
func.func @refused_start(%k: tensor<4xi16>) -> tensor<4xi16> {
  // expected-error @+1 {{'cp.shift_start' op has element type 'i16' which the runtime does not take}}
  %t = cp.shift_start %k on @grid offset = 1 : tensor<4xi16>
  %y = cp.shift_wait %t : tensor<4xi16>
  return %y : tensor<4xi16>
}

// -----

// Every refused op of a function is reported, not just the first.
shard.grid @grid(shape = 2)
func.func @two_refusals(%x: tensor<4xbf16>, %q: tensor<1x2x8x4xf64>) -> (tensor<4xbf16>, tensor<1x2x8x4xf64>) {
  // expected-error @+1 {{'shard.all_reduce' op the runtime all-reduces f32, f64, i32 or i64}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] reduction = sum : tensor<4xbf16> -> tensor<4xbf16>
  // expected-error @+1 {{'cp.sdpa' op the runtime computes attention in f32, bf16 or f16, got 'f64'}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>) -> tensor<1x2x8x4xf64>
  return %r, %o : tensor<4xbf16>, tensor<1x2x8x4xf64>
}

// -----

// A module that declares a runtime entry with another signature: refused
// at the op instead of calling it with the wrong arguments.
func.func private @cprt_c_sdpa_fwd_f32(memref<*xf32>)
func.func @wrong_declaration(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'cp.sdpa' op calls runtime entry 'cprt_c_sdpa_fwd_f32' as '(memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32) -> ()', but the module declares it as '(memref<*xf32>) -> ()'}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// A symbol of a runtime entry's name that is not a function.
shard.grid @grid(shape = 2)
memref.global "private" @cprt_c_rank : memref<1xi64>
func.func @taken_name() -> index {
  // expected-error @+1 {{'shard.process_linear_index' op calls runtime entry 'cprt_c_rank', but the module has another symbol of that name}}
  %r = shard.process_linear_index on @grid : index
  return %r : index
}

// -----

shard.grid @grid(shape = 2)
func.func @document_shard(%x: tensor<8x4xf32>, %d: tensor<8xi32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'cp.shard' op the lowering takes document ids only with per_document_head_tail balancing}}
  %l = cp.shard %x documents %d : tensor<8xi32> on @grid dim = 0 balancer = <head_tail> : tensor<8x4xf32> -> tensor<4x4xf32>
  return %l : tensor<4x4xf32>
}

// -----

shard.grid @cp_grid(shape = 2)
func.func @ulysses_i16(%x: tensor<1x4x8x8xi16>) -> tensor<1x2x16x8xi16> {
  // expected-error @+1 {{'cp.seq_to_heads' op has element type 'i16' which the runtime does not take}}
  %h = cp.seq_to_heads %x on @cp_grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 16 : tensor<1x4x8x8xi16> -> tensor<1x2x16x8xi16>
  return %h : tensor<1x2x16x8xi16>
}

// -----

// A shard op without a runtime lowering is reported (it would otherwise be
// left naming the grid the lowering removes), also next to a refused op.
shard.grid @grid(shape = 2)
func.func @no_pattern(%x: tensor<4x8xf32>, %q: tensor<1x2x8x4xf64>) -> (tensor<2x8xf32>, tensor<1x2x8x4xf64>) {
  // expected-error @+1 {{'shard.all_slice' op has no lowering to the runtime}}
  %y = shard.all_slice %x on @grid grid_axes = [0] slice_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
  // expected-error @+1 {{'cp.sdpa' op the runtime computes attention in f32, bf16 or f16, got 'f64'}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>, tensor<1x2x8x4xf64>) -> tensor<1x2x8x4xf64>
  return %y, %o : tensor<2x8xf32>, tensor<1x2x8x4xf64>
}
