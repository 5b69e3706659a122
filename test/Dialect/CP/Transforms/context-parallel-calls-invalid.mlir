// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=2" -verify-diagnostics

// A called function with attention would get local shards while its call
// sites keep passing whole tensors (invalid IR): refused at the call, with
// a note at the callee. --cp-pipeline inlines calls first
// (pipeline-calls.mlir).

// expected-note @+1 {{the called function}}
func.func private @attn(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
func.func @caller(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'func.call' op calls @attn, which has attention: cannot make a called function context-parallel; inline it first (e.g. --inline)}}
  %o = call @attn(%q) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// Also when the caller has attention itself, and from a nested module.
module @m {
  // expected-note @+1 {{the called function}}
  func.func @attn(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
    %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    return %o : tensor<1x2x16x8xf32>
  }
  func.func @caller(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
    %p = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    // expected-error @+1 {{'func.call' op calls @attn, which has attention}}
    %o = call @attn(%p) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
    return %o : tensor<1x2x16x8xf32>
  }
}
