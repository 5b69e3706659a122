// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=hybrid ulysses-size=2" | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=hybrid" | FileCheck %s --check-prefix=BEST
// RUN: cp-opt %s --split-input-file --cp-pipeline="grid-size=8 strategy=hybrid ulysses-size=4" | FileCheck %s --check-prefix=PIPE

// strategy=hybrid: every attention becomes a ring attention with
// ulysses_size (Ulysses inside groups of U consecutive ranks, a ring of the
// groups); the function boundary keeps the balancer's 8-rank shards.

// CHECK-LABEL: func.func @fwd_bwd
// CHECK-SAME: (%{{[^:]*}}: tensor<1x8x16x32xf32> {cp.sharding
// CHECK-SAME: strategy = "hybrid"
// CHECK: cp.ring_attention %{{.*}}, %{{.*}}, %{{.*}} on @cp_grid {{{.*}}balancer = #cp.balancer<head_tail>, enable_gqa, is_causal, rotate = #cp.rotate<ring>, seq_len = 128 : i64, ulysses_size = 2 : i64}
// CHECK: cp.ring_attention_backward {{.*}}ulysses_size = 2 : i64}
// BEST-LABEL: func.func @fwd_bwd
// BEST: cp.ring_attention {{.*}}ulysses_size = {{2|4}} : i64}
// The pipeline does not expand the hybrid: the runtime runs it as one op.
// PIPE-LABEL: func.func @fwd_bwd
// PIPE-NOT: cp.block_attention
// PIPE: cp.ring_attention {{.*}}ulysses_size = 4 : i64}
// PIPE-NOT: cp.block_attention
// PIPE: cp.ring_attention_backward {{.*}}ulysses_size = 4 : i64}
func.func @fwd_bwd(%q: tensor<1x8x128x32xf32>, %k: tensor<1x2x128x32xf32>, %do: tensor<1x8x128x32xf32>)
    -> (tensor<1x8x128x32xf32>, tensor<1x8x128x32xf32>) {
  %o, %l = cp.sdpa %q, %k, %k {is_causal, enable_gqa, return_lse} : (tensor<1x8x128x32xf32>, tensor<1x2x128x32xf32>, tensor<1x2x128x32xf32>) -> (tensor<1x8x128x32xf32>, tensor<1x8x128xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %k, %o, %l {is_causal, enable_gqa}
      : (tensor<1x8x128x32xf32>, tensor<1x8x128x32xf32>, tensor<1x2x128x32xf32>,
         tensor<1x2x128x32xf32>, tensor<1x8x128x32xf32>, tensor<1x8x128xf32>)
      -> (tensor<1x8x128x32xf32>, tensor<1x2x128x32xf32>, tensor<1x2x128x32xf32>)
  return %o, %dq : tensor<1x8x128x32xf32>, tensor<1x8x128x32xf32>
}
