// RUN: cp-opt %s --cp-pipeline="grid-size=2 expand=false" | FileCheck %s

// cp-pipeline inlines calls before making functions context-parallel: both
// calls of @attn become ring attention on local shards in @caller, and the
// private callee is gone.

// CHECK-NOT: func.func private @attn
// CHECK-LABEL: func.func @caller
// CHECK-SAME: (%{{.+}}: tensor<1x2x8x8xf32> {cp.sharding = #cp.sharding<{{.+}}>}) -> (tensor<1x2x8x8xf32> {cp.sharding = #cp.sharding<{{.+}}>})
// CHECK-NOT: call
// CHECK: cp.ring_attention
// CHECK-NOT: call
// CHECK: cp.ring_attention
// CHECK-NOT: call
// CHECK: return
func.func private @attn(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
func.func @caller(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = call @attn(%q) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %o2 = call @attn(%o) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o2 : tensor<1x2x16x8xf32>
}
