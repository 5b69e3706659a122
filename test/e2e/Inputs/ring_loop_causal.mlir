// Causal GQA attention over 60 tokens (4 query heads, 2 key/value heads):
// 60 splits evenly over 3 and 5 ranks for head_tail (2W chunks) and striped.
func.func @causal60(%q: tensor<1x4x60x8xf32>, %k: tensor<1x2x60x8xf32>, %v: tensor<1x2x60x8xf32>) -> tensor<1x4x60x8xf32> {
  %o = cp.sdpa %q, %k, %v {is_causal, enable_gqa} : (tensor<1x4x60x8xf32>, tensor<1x2x60x8xf32>, tensor<1x2x60x8xf32>) -> tensor<1x4x60x8xf32>
  return %o : tensor<1x4x60x8xf32>
}
