// Forward + backward of causal GQA attention with Hq = 6, Hkv = 3 on S = 48
// tokens: under strategy=ulysses 3 ranks split the key/value heads, 6 ranks
// replicate each twice; 2 ranks (3 key/value heads) and 4 ranks (6 query
// heads) are refused.
func.func @h6(%q: tensor<1x6x48x8xf32>, %k: tensor<1x3x48x8xf32>,
              %v: tensor<1x3x48x8xf32>, %dout: tensor<1x6x48x8xf32>)
    -> (tensor<1x6x48x8xf32>, tensor<1x6x48x8xf32>, tensor<1x3x48x8xf32>,
        tensor<1x3x48x8xf32>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal, enable_gqa}
      : (tensor<1x6x48x8xf32>, tensor<1x3x48x8xf32>, tensor<1x3x48x8xf32>)
      -> (tensor<1x6x48x8xf32>, tensor<1x6x48xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %o, %l {is_causal, enable_gqa}
      : (tensor<1x6x48x8xf32>, tensor<1x6x48x8xf32>, tensor<1x3x48x8xf32>,
         tensor<1x3x48x8xf32>, tensor<1x6x48x8xf32>, tensor<1x6x48xf32>)
      -> (tensor<1x6x48x8xf32>, tensor<1x3x48x8xf32>, tensor<1x3x48x8xf32>)
  return %o, %dq, %dk, %dv : tensor<1x6x48x8xf32>, tensor<1x6x48x8xf32>,
                              tensor<1x3x48x8xf32>, tensor<1x3x48x8xf32>
}
