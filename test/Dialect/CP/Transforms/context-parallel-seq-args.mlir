// RUN: cp-opt %s --cp-context-parallel="grid-size=2 seq-args=0,1" -verify-diagnostics

// seq-args must name exactly the arguments that carry the sequence.
// expected-error @+1 {{argument 1 is listed in seq-args but no attention op depends on its sequence dim}}
func.func @seq_args(%q: tensor<1x2x16x8xf32>, %w: tensor<8x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
