// Forward + backward of causal GQA attention with Hq = 8, Hkv = 2 (ratio 4)
// on S = 50 tokens (pads under every balancer on 2 and 4 ranks): under
// strategy=ulysses key/value heads split on 2 ranks and are replicated
// (2x, 4x) on 4 and 8 ranks.
func.func @gqa4(%q: tensor<1x8x50x16xf32>, %k: tensor<1x2x50x16xf32>,
                %v: tensor<1x2x50x16xf32>, %dout: tensor<1x8x50x16xf32>)
    -> (tensor<1x8x50x16xf32>, tensor<1x8x50x16xf32>, tensor<1x2x50x16xf32>,
        tensor<1x2x50x16xf32>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal, enable_gqa}
      : (tensor<1x8x50x16xf32>, tensor<1x2x50x16xf32>, tensor<1x2x50x16xf32>)
      -> (tensor<1x8x50x16xf32>, tensor<1x8x50xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %o, %l {is_causal, enable_gqa}
      : (tensor<1x8x50x16xf32>, tensor<1x8x50x16xf32>, tensor<1x2x50x16xf32>,
         tensor<1x2x50x16xf32>, tensor<1x8x50x16xf32>, tensor<1x8x50xf32>)
      -> (tensor<1x8x50x16xf32>, tensor<1x2x50x16xf32>, tensor<1x2x50x16xf32>)
  return %o, %dq, %dk, %dv : tensor<1x8x50x16xf32>, tensor<1x8x50x16xf32>,
                              tensor<1x2x50x16xf32>, tensor<1x2x50x16xf32>
}
