// RUN: cp-opt %s --cp-lower-to-runtime | FileCheck %s

// Runtime declarations go in the nearest symbol table of their calls: the
// inner module's calls resolve there (the outer module gets none), and the
// grids of every module are dropped.

// CHECK-LABEL: module @outer {
// CHECK-NEXT: module @inner {
// CHECK-NOT: shard.grid
// CHECK: func.func @ring
// CHECK: call @cprt_c_rank()
// CHECK: call @cprt_c_ring_fwd_f32(
// CHECK-DAG: func.func private @cprt_c_rank() -> i64
// CHECK-DAG: func.func private @cprt_c_ring_fwd_f32(
// CHECK: }
// CHECK-NEXT: func.func @outer_sdpa
// CHECK: call @cprt_c_sdpa_fwd_f32(
// CHECK: func.func private @cprt_c_sdpa_fwd_f32(
// CHECK-NOT: func.func private @cprt_c_rank
module @outer {
  module @inner {
    shard.grid @grid(shape = 2)
    func.func @ring(%q: tensor<1x2x8x4xf32>, %x: tensor<8xindex>) -> (tensor<1x2x8x4xf32>, index) {
      %r = shard.process_linear_index on @grid : index
      %o = cp.ring_attention %q, %q, %q on @grid {balancer = #cp.balancer<head_tail>, is_causal, rotate = #cp.rotate<ring>, seq_len = 16 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
      return %o, %r : tensor<1x2x8x4xf32>, index
    }
  }
  func.func @outer_sdpa(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
    %o = cp.sdpa %q, %q, %q : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
    return %o : tensor<1x2x8x4xf32>
  }
}
