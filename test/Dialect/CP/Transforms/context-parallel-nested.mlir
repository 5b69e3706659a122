// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=2" | FileCheck %s

// The grid goes in the nearest symbol table of the functions that use it:
// ops in a nested module resolve @cp_grid there, not in the outer module.

// CHECK-LABEL: module @outer {
// CHECK-NEXT: module @inner {
// CHECK-NEXT: shard.grid @cp_grid(shape = 2)
// CHECK: func.func @attn
// CHECK: cp.ring_attention {{.+}} on @cp_grid
// CHECK-NOT: shard.grid
module @outer {
  module @inner {
    func.func @attn(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
      %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
      return %o : tensor<1x2x16x8xf32>
    }
  }
}

// -----

// An op before the module (the parser wraps both in an implicit module):
// each module with attention gets its own grid, or keeps the one it has.
// CHECK-LABEL: module {
// CHECK-NEXT: func.func private @ext()
// CHECK-NEXT: module @a {
// CHECK-NEXT: shard.grid @cp_grid(shape = 2)
// CHECK: cp.ring_attention {{.+}} on @cp_grid
// CHECK: module @b {
// CHECK-NEXT: shard.grid @cp_grid(shape = 2)
// CHECK-NOT: shard.grid
// CHECK: cp.ring_attention {{.+}} on @cp_grid
func.func private @ext()
module @a {
  func.func @attn_a(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
    %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    return %o : tensor<1x2x16x8xf32>
  }
}
module @b {
  shard.grid @cp_grid(shape = 2)
  func.func @attn_b(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
    %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    return %o : tensor<1x2x16x8xf32>
  }
}
