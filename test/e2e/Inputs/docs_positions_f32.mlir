// Packed documents with position-dependent code before the attention: q and
// k are scaled by a rotary-like factor cos(0.07 * s * (d + 1)) + 0.3 * sin(
// 0.11 * s) of their original sequence position s (linalg.index 2) and
// feature d, then causal GQA attention within documents (segment_ids).
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @docs_positions_f32(%q: tensor<1x4x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                              %v: tensor<1x2x64x16xf32>, %docs: tensor<64xi32>)
    -> tensor<1x4x64x16xf32> {
  %eq = tensor.empty() : tensor<1x4x64x16xf32>
  %qr = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x4x64x16xf32>) outs(%eq : tensor<1x4x64x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = linalg.index 2 : index
    %d = linalg.index 3 : index
    %si = arith.index_cast %s : index to i32
    %di = arith.index_cast %d : index to i32
    %sf = arith.sitofp %si : i32 to f32
    %df = arith.sitofp %di : i32 to f32
    %one = arith.constant 1.0 : f32
    %a = arith.constant 0.07 : f32
    %b = arith.constant 0.11 : f32
    %w = arith.constant 0.3 : f32
    %d1 = arith.addf %df, %one : f32
    %t = arith.mulf %sf, %d1 : f32
    %ang = arith.mulf %t, %a : f32
    %c = math.cos %ang : f32
    %sb = arith.mulf %sf, %b : f32
    %sn = math.sin %sb : f32
    %sw = arith.mulf %sn, %w : f32
    %f = arith.addf %c, %sw : f32
    %y = arith.mulf %x, %f : f32
    linalg.yield %y : f32
  } -> tensor<1x4x64x16xf32>
  %ek = tensor.empty() : tensor<1x2x64x16xf32>
  %kr = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x64x16xf32>) outs(%ek : tensor<1x2x64x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = linalg.index 2 : index
    %d = linalg.index 3 : index
    %si = arith.index_cast %s : index to i32
    %di = arith.index_cast %d : index to i32
    %sf = arith.sitofp %si : i32 to f32
    %df = arith.sitofp %di : i32 to f32
    %one = arith.constant 1.0 : f32
    %a = arith.constant 0.07 : f32
    %b = arith.constant 0.11 : f32
    %w = arith.constant 0.3 : f32
    %d1 = arith.addf %df, %one : f32
    %t = arith.mulf %sf, %d1 : f32
    %ang = arith.mulf %t, %a : f32
    %c = math.cos %ang : f32
    %sb = arith.mulf %sf, %b : f32
    %sn = math.sin %sb : f32
    %sw = arith.mulf %sn, %w : f32
    %f = arith.addf %c, %sw : f32
    %y = arith.mulf %x, %f : f32
    linalg.yield %y : f32
  } -> tensor<1x2x64x16xf32>
  %out = cp.sdpa %qr, %kr, %v segment_ids %docs {is_causal, enable_gqa}
      : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<64xi32>)
      -> tensor<1x4x64x16xf32>
  return %out : tensor<1x4x64x16xf32>
}
