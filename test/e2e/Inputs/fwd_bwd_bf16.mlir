// Forward and backward of causal GQA attention in one function, bf16 with
// head dim 64 (the shapes the CUDA runtime's flash kernels take, forward
// and backward; fwd_bwd.mlir is the fp32 / D = 16 form): out, then the
// gradients of q, k, v for a given dout. S = 64 splits evenly for 1, 2 and
// 4 ranks with head_tail; 3 ranks pad.
func.func @fwd_bwd_bf16(%q: tensor<1x4x64x64xbf16>, %k: tensor<1x2x64x64xbf16>,
                        %v: tensor<1x2x64x64xbf16>, %dout: tensor<1x4x64x64xbf16>)
    -> (tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>,
        tensor<1x2x64x64xbf16>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal, enable_gqa}
      : (tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>)
      -> (tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %o, %l {is_causal, enable_gqa}
      : (tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>,
         tensor<1x2x64x64xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>)
      -> (tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>)
  return %o, %dq, %dk, %dv : tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16>,
                              tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
}
