// Forward and backward of causal GQA attention over packed documents
// (segment_ids, i32 [S]): out, then the gradients of q, k, v for dout.
func.func @fwd_bwd_docs(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x48x16xf32>,
                        %v: tensor<1x2x48x16xf32>, %dout: tensor<1x4x48x16xf32>,
                        %docs: tensor<48xi32>)
    -> (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
        tensor<1x2x48x16xf32>) {
  %o, %l = cp.sdpa %q, %k, %v segment_ids %docs {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<48xi32>)
      -> (tensor<1x4x48x16xf32>, tensor<1x4x48xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %o, %l segment_ids %docs {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
         tensor<1x2x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48xf32>, tensor<48xi32>)
      -> (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>)
  return %o, %dq, %dk, %dv : tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>,
                              tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>
}
