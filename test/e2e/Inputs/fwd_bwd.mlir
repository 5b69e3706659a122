// Forward and backward of causal GQA attention in one function (what a
// training step's attention looks like after detection): out, lse, then the
// gradients of q, k, v for a given dout.
func.func @fwd_bwd(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x48x16xf32>,
                   %v: tensor<1x2x48x16xf32>, %dout: tensor<1x4x48x16xf32>)
    -> (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
        tensor<1x2x48x16xf32>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>)
      -> (tensor<1x4x48x16xf32>, tensor<1x4x48xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %o, %l {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
         tensor<1x2x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48xf32>)
      -> (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>)
  return %o, %dq, %dk, %dv : tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>,
                              tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>
}
