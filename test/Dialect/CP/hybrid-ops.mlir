// RUN: cp-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: cp-opt %s -split-input-file -verify-diagnostics -mlir-print-op-generic | cp-opt -split-input-file | FileCheck %s

// The hybrid strategy is a ring attention with ulysses_size: round trip,
// and one case per verifier branch of the attribute.

shard.grid @grid(shape = 8)
// CHECK-LABEL: func.func @hybrid
func.func @hybrid(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x16x32xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>) {
  // CHECK: cp.ring_attention {{.*}} on @grid {{{.*}}ulysses_size = 4 : i64}
  %o, %lse = cp.ring_attention %q, %k, %k on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, enable_gqa, seq_len = 128 : i64, ulysses_size = 4 : i64} : (tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x8x16xf32>)
  // CHECK: cp.ring_attention_backward {{.*}} on @grid {{{.*}}ulysses_size = 2 : i64}
  %dq, %dk, %dv = cp.ring_attention_backward %o, %q, %k, %k, %o, %lse on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, enable_gqa, seq_len = 128 : i64, ulysses_size = 2 : i64} : (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>)
  return %o, %dq : tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>
}

// -----

shard.grid @grid(shape = 8)
func.func @f(%q: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{expected ulysses_size >= 2 (omit it for a plain ring), got 1}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 128 : i64, ulysses_size = 1 : i64} : (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32>
  return
}

// -----

shard.grid @grid(shape = 8)
func.func @f(%q: tensor<1x6x16x32xf32>) {
  // expected-error @+1 {{ulysses_size 4 does not divide the 6 query heads}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 128 : i64, ulysses_size = 4 : i64} : (tensor<1x6x16x32xf32>, tensor<1x6x16x32xf32>, tensor<1x6x16x32xf32>) -> tensor<1x6x16x32xf32>
  return
}

// -----

shard.grid @grid(shape = 8)
func.func @f(%q: tensor<1x12x16x32xf32>, %k: tensor<1x3x16x32xf32>) {
  // expected-error @+1 {{ulysses_size 2: the 3 key/value heads neither divide over it nor divide it}}
  %o = cp.ring_attention %q, %k, %k on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 128 : i64, enable_gqa, ulysses_size = 2 : i64} : (tensor<1x12x16x32xf32>, tensor<1x3x16x32xf32>, tensor<1x3x16x32xf32>) -> tensor<1x12x16x32xf32>
  return
}

// -----

shard.grid @grid(shape = 8)
func.func @f(%q: tensor<1x8x16x32xf32>, %m: tensor<16x128xi1>) {
  // expected-error @+1 {{ulysses_size (the hybrid strategy) does not support a mask or segment_ids yet}}
  %o = cp.ring_attention %q, %q, %q mask %m on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 128 : i64, ulysses_size = 2 : i64} : (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>, tensor<16x128xi1>) -> tensor<1x8x16x32xf32>
  return
}

// -----

shard.grid @grid(shape = 6)
func.func @f(%q: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{ulysses_size 4 does not divide the 6 ranks of the grid into groups}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 96 : i64, ulysses_size = 4 : i64} : (tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32>
  return
}

// -----

func.func @f(%q: tensor<16x32xf32>) {
  // expected-error @+1 {{ulysses_size needs a heads dim ([.., H, L, D])}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 32 : i64, ulysses_size = 2 : i64} : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return
}
