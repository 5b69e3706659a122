// Packed documents with a position table built inside the function (a
// constant [64] of per-position factors, like a RoPE cos table) scaling q
// along the sequence, then causal GQA attention within documents. Under
// per_document_head_tail the constant is sharded by the ids at run time
// (cp.shard with documents -> cprt_c_shard_docs_f32).
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#seq = affine_map<(d0, d1, d2, d3) -> (d2)>
func.func @docs_table_f32(%q: tensor<1x4x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                          %v: tensor<1x2x64x16xf32>, %docs: tensor<64xi32>)
    -> tensor<1x4x64x16xf32> {
  %table = arith.constant dense<[1.000000e+00, 9.992026e-01, 9.968378e-01, 9.929542e-01, 9.875227e-01, 9.802743e-01, 9.704842e-01, 9.567241e-01, 9.366256e-01, 9.067264e-01, 8.624995e-01, 7.986893e-01, 7.100734e-01, 5.927163e-01, 4.456526e-01, 2.727325e-01, 8.409129e-02, -1.035378e-01, -2.685328e-01, -3.887075e-01, -4.480658e-01, -4.445219e-01, -3.956752e-01, -3.388449e-01, -3.222559e-01, -3.872989e-01, -5.469113e-01, -7.703723e-01, -9.864866e-01, -1.111512e+00, -1.094568e+00, -9.571516e-01, -7.963707e-01, -7.353632e-01, -8.394821e-01, -1.053799e+00, -1.222324e+00, -1.199477e+00, -9.808639e-01, -7.334812e-01, -6.645596e-01, -8.189285e-01, -1.005061e+00, -9.685524e-01, -6.745719e-01, -3.827009e-01, -3.682671e-01, -5.709844e-01, -6.309706e-01, -3.481858e-01, 1.017181e-02, 4.732091e-02, -1.724030e-01, -1.737729e-01, 1.989186e-01, 4.850022e-01, 3.399421e-01, 1.593746e-01, 4.241679e-01, 8.014964e-01, 7.142570e-01, 4.644031e-01, 6.904644e-01, 1.060696e+00]> : tensor<64xf32>
  %eq = tensor.empty() : tensor<1x4x64x16xf32>
  %qr = linalg.generic {indexing_maps = [#map, #seq, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q, %table : tensor<1x4x64x16xf32>, tensor<64xf32>) outs(%eq : tensor<1x4x64x16xf32>) {
  ^bb0(%x: f32, %f: f32, %o: f32):
    %y = arith.mulf %x, %f : f32
    linalg.yield %y : f32
  } -> tensor<1x4x64x16xf32>
  %out = cp.sdpa %qr, %k, %v segment_ids %docs {is_causal, enable_gqa}
      : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<64xi32>)
      -> tensor<1x4x64x16xf32>
  return %out : tensor<1x4x64x16xf32>
}
