// RUN: cp-opt %s --split-input-file --cp-gpu-lower-to-runtime -verify-diagnostics | FileCheck %s

// target=cuda's runtime lowering: the patterns of cp-lower-to-runtime with
// the CUDA target. Entries with a GPU twin are called as `cprt_gpu_*` (same
// signature, device pointers); the rank stays a host call; flex attention
// is decomposed as on the CPU. No ptxas needed: this stops before codegen.

shard.grid @grid(shape = 2)

// CHECK-LABEL: func.func @per_rank
// CHECK: call @cprt_c_rank() : () -> i64
// CHECK: call @cprt_gpu_shard_f32(
// CHECK: call @cprt_gpu_ring_fwd_f32(
// CHECK: call @cprt_gpu_all_gather_f32(
// CHECK: call @cprt_gpu_unshard_f32(
// CHECK: call @cprt_gpu_sdpa_fwd_f32(
// CHECK-NOT: cprt_c_{{[a-z]}}
// CHECK-DAG: func.func private @cprt_gpu_ring_fwd_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xi32>, memref<*xf32>, memref<*xf32>, f64, i32, i32, i32, i64, i64)
// CHECK-DAG: func.func private @cprt_c_rank() -> i64
// CHECK-NOT: shard.grid
func.func @per_rank(%x: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, index) {
  %r = shard.process_linear_index on @grid : index
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail> : tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %o = cp.ring_attention %l, %l, %l on @grid {balancer = #cp.balancer<head_tail>, is_causal, rotate = #cp.rotate<ring>, seq_len = 8 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %g = shard.all_gather %o on @grid grid_axes = [0] gather_axis = 2 : tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  %u = cp.unshard %o on @grid dim = 2 balancer = <head_tail> : tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  %s = cp.sdpa %x, %x, %x {is_causal} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %g, %u, %s, %r : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, index
}

// -----

// Ops without a runtime entry lower the same on every target: flex
// attention is decomposed (its kernels are generated), positions are a
// constant table.
shard.grid @grid(shape = 2)
// CHECK-LABEL: func.func @no_entry
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK: arith.constant dense<[0, 3, 1, 2]> : tensor<4xindex>
// CHECK: math.exp
// CHECK-NOT: cp.
func.func @no_entry(%q: tensor<1x1x2x4xf32>, %r: index) -> tensor<1x1x2x4xf32> {
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

// A hand-written call of a host entry that has a GPU twin is pointed at
// the twin.
// CHECK-LABEL: func.func @handwritten
// CHECK: call @cprt_gpu_shard_i64(
// CHECK: func.func private @cprt_gpu_shard_i64(memref<*xi64>, memref<*xi64>, i64, i32, i32)
func.func private @cprt_c_shard_i64(memref<*xi64>, memref<*xi64>, i64, i32, i32)
func.func @handwritten(%a: memref<*xi64>, %b: memref<*xi64>) {
  %e = arith.constant 8 : i64
  %d = arith.constant 0 : i32
  call @cprt_c_shard_i64(%a, %b, %e, %d, %d) : (memref<*xi64>, memref<*xi64>, i64, i32, i32) -> ()
  return
}

// -----

// Every op without a GPU entry is reported, not just the first.
func.func @two_refusals(%q: tensor<1x2x16x8xf32>, %o: tensor<1x2x16x8xf32>, %l: tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'cp.merge_partial' op has no lowering on the GPU path (target=cuda): the runtime has no CUDA entry point for it; use target=cpu or the unexpanded ring}}
  %m, %ml = cp.merge_partial %o, %l, %o, %l : (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
  // expected-error @+1 {{'cp.block_attention' op has no lowering on the GPU path (target=cuda)}}
  %bo, %bl = cp.block_attention %q, %q, %q {causal = #cp.causal<causal>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
  return %m, %bo : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// The backward, single-device and ring, calls its GPU twins (same
// signatures as the host entries: dout, q, k, v, out, lse, mask[, seg],
// dq, dk, dv, ...).
shard.grid @grid(shape = 2)
// CHECK-LABEL: func.func @backward
// CHECK: call @cprt_gpu_sdpa_bwd_bf16(
// CHECK: call @cprt_gpu_ring_bwd_f32(
// CHECK-NOT: cprt_c_
// CHECK-DAG: func.func private @cprt_gpu_sdpa_bwd_bf16(memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xf32>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, f64, i32)
// CHECK-DAG: func.func private @cprt_gpu_ring_bwd_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xi32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32, i32, i32, i64, i64)
func.func @backward(%do: tensor<1x2x16x64xbf16>, %l: tensor<1x2x16xf32>, %rdo: tensor<1x2x4x8xf32>, %rl: tensor<1x2x4xf32>) -> (tensor<1x2x16x64xbf16>, tensor<1x2x4x8xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %do, %do, %do, %do, %l {is_causal} : (tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16xf32>) -> (tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x16x64xbf16>)
  %rq, %rk, %rv = cp.ring_attention_backward %rdo, %rdo, %rdo, %rdo, %rdo, %rl on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, seq_len = 8 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  return %dq, %rk : tensor<1x2x16x64xbf16>, tensor<1x2x4x8xf32>
}

// -----

// Document ids and explicit masks reach the GPU twins: the ring's segment
// ids as an i32 buffer, the mask as an additive f32 buffer (a bool mask is
// converted on the device first), the flags say which are present
// (CPRT_C_HAS_SEGMENTS = 8, CPRT_C_HAS_MASK = 2).
shard.grid @grid(shape = 2)
// CHECK-LABEL: func.func @segments
// CHECK: %[[SEG:.+]] = memref.cast %{{.+}} : memref<4xi32> to memref<*xi32>
// CHECK: call @cprt_gpu_ring_fwd_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[SEG]], %{{.+}}, %{{.+}}, %{{.+}}, %c8_i32,
// CHECK-LABEL: func.func @masked
// CHECK: linalg.generic
// CHECK: call @cprt_gpu_sdpa_fwd_bf16(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c6_i32)
func.func @segments(%q: tensor<1x2x4x4xf32>, %s: tensor<4xi32>) -> tensor<1x2x4x4xf32> {
  %o = cp.ring_attention %q, %q, %q segment_ids %s on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 8 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<4xi32>) -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}
func.func @masked(%q: tensor<1x2x8x4xbf16>, %m: tensor<8x8xi1>) -> tensor<1x2x8x4xbf16> {
  %o, %l = cp.sdpa %q, %q, %q mask %m : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<8x8xi1>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>)
  return %o : tensor<1x2x8x4xbf16>
}

// -----

// A hand-written attention call with flags only known at run time is
// pointed at the twin like any other (the twin takes every flag).
// CHECK-LABEL: func.func @handwritten_mask
// CHECK: call @cprt_gpu_sdpa_fwd_f32(
func.func private @cprt_c_sdpa_fwd_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32)
func.func @handwritten_mask(%a: memref<*xf32>, %flags: i32) {
  %s = arith.constant 0.5 : f64
  call @cprt_c_sdpa_fwd_f32(%a, %a, %a, %a, %a, %a, %s, %flags) : (memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32) -> ()
  return
}

// -----

func.func private @cprt_c_shard_f32(memref<*xf32>, memref<*xf32>)
func.func @handwritten_arity(%a: memref<*xf32>) {
  // expected-error @+1 {{runtime entry 'cprt_c_shard_f32' takes 5 arguments}}
  call @cprt_c_shard_f32(%a, %a) : (memref<*xf32>, memref<*xf32>) -> ()
  return
}

// -----

// Host-only helpers of the runtime that compiled code has no GPU use for.
func.func private @cprt_c_failed() -> i32
func.func @handwritten_unknown() -> i32 {
  // expected-error @+1 {{runtime entry 'cprt_c_failed' has no GPU twin (target=cuda)}}
  %f = call @cprt_c_failed() : () -> i32
  return %f : i32
}

// -----

shard.grid @grid(shape = 2)
func.func @all_slice(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'shard.all_slice' op has no lowering on the GPU path (target=cuda)}}
  %y = shard.all_slice %x on @grid grid_axes = [0] slice_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Ulysses' all-to-alls and shard.all_reduce call their GPU twins (the
// all-to-all on device buffers over the rank's communicator; the reduction
// as an all-gather and one kernel).
shard.grid @cp_grid(shape = 2)
// CHECK-LABEL: func.func @ulysses
// CHECK: call @cprt_gpu_seq_to_heads_f32(
// CHECK: call @cprt_gpu_heads_to_seq_f32(
// CHECK: call @cprt_gpu_all_reduce_f32(
// CHECK-DAG: func.func private @cprt_gpu_seq_to_heads_f32(memref<*xf32>, memref<*xf32>, i64, i32, i32, i32, i64)
// CHECK-DAG: func.func private @cprt_gpu_all_reduce_f32(memref<*xf32>, memref<*xf32>, i32)
func.func @ulysses(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<4xf32>) {
  %h = cp.seq_to_heads %x on @cp_grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 16 : tensor<1x4x8x8xf32> -> tensor<1x2x16x8xf32>
  %s = cp.heads_to_seq %h on @cp_grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 16 : tensor<1x2x16x8xf32> -> tensor<1x4x8x8xf32>
  %c = arith.constant dense<1.0> : tensor<4xf32>
  %r = shard.all_reduce %c on @cp_grid grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %s, %r : tensor<1x4x8x8xf32>, tensor<4xf32>
}
