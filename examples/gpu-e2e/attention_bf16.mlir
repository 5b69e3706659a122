// A compiled module whose attention runs on the GPU (examples/gpu-e2e):
// host code scales the queries (a linalg.generic, compiled for the CPU),
// then causal GQA attention (cp.sdpa) goes through the runtime, which the
// host program points at the GPU (ring over virtual ranks of one H100).
func.func @attention_bf16(%q: tensor<1x16x4096x128xbf16>, %k: tensor<1x4x4096x128xbf16>,
                          %v: tensor<1x4x4096x128xbf16>) -> tensor<1x16x4096x128xbf16> {
  %half = arith.constant 5.000000e-01 : bf16
  %e = tensor.empty() : tensor<1x16x4096x128xbf16>
  %qs = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>,
                                         affine_map<(a, b, c, d) -> (a, b, c, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q : tensor<1x16x4096x128xbf16>) outs(%e : tensor<1x16x4096x128xbf16>) {
  ^bb0(%x: bf16, %o: bf16):
    %y = arith.mulf %x, %half : bf16
    linalg.yield %y : bf16
  } -> tensor<1x16x4096x128xbf16>
  %out = cp.sdpa %qs, %k, %v {is_causal, enable_gqa}
      : (tensor<1x16x4096x128xbf16>, tensor<1x4x4096x128xbf16>, tensor<1x4x4096x128xbf16>)
      -> tensor<1x16x4096x128xbf16>
  return %out : tensor<1x16x4096x128xbf16>
}
