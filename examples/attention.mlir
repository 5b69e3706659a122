// A single-device attention block, as an ML compiler would hand it to cp:
// a query/key/value projection of the hidden states, a head split, causal
// attention and the head merge. Try:
//   cp-opt examples/attention.mlir --cp-pipeline="grid-size=4 load-balance=head_tail"
func.func @attention_block(%x: tensor<1x256x64xf32>, %wq: tensor<64x64xf32>,
                           %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>)
    -> tensor<1x256x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x256x64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x256x64xf32>) -> tensor<1x256x64xf32>
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<1x256x64xf32> into tensor<256x64xf32>
  %z2 = tensor.collapse_shape %z [[0, 1], [2]] : tensor<1x256x64xf32> into tensor<256x64xf32>
  %q = linalg.matmul ins(%x2, %wq : tensor<256x64xf32>, tensor<64x64xf32>) outs(%z2 : tensor<256x64xf32>) -> tensor<256x64xf32>
  %k = linalg.matmul ins(%x2, %wk : tensor<256x64xf32>, tensor<64x64xf32>) outs(%z2 : tensor<256x64xf32>) -> tensor<256x64xf32>
  %v = linalg.matmul ins(%x2, %wv : tensor<256x64xf32>, tensor<64x64xf32>) outs(%z2 : tensor<256x64xf32>) -> tensor<256x64xf32>
  %q4 = tensor.expand_shape %q [[0, 1], [2, 3]] output_shape [1, 256, 4, 16] : tensor<256x64xf32> into tensor<1x256x4x16xf32>
  %k4 = tensor.expand_shape %k [[0, 1], [2, 3]] output_shape [1, 256, 4, 16] : tensor<256x64xf32> into tensor<1x256x4x16xf32>
  %v4 = tensor.expand_shape %v [[0, 1], [2, 3]] output_shape [1, 256, 4, 16] : tensor<256x64xf32> into tensor<1x256x4x16xf32>
  %t = tensor.empty() : tensor<1x4x256x16xf32>
  %qt = linalg.transpose ins(%q4 : tensor<1x256x4x16xf32>) outs(%t : tensor<1x4x256x16xf32>) permutation = [0, 2, 1, 3]
  %kt = linalg.transpose ins(%k4 : tensor<1x256x4x16xf32>) outs(%t : tensor<1x4x256x16xf32>) permutation = [0, 2, 1, 3]
  %vt = linalg.transpose ins(%v4 : tensor<1x256x4x16xf32>) outs(%t : tensor<1x4x256x16xf32>) permutation = [0, 2, 1, 3]
  %o = cp.sdpa %qt, %kt, %vt {is_causal}
      : (tensor<1x4x256x16xf32>, tensor<1x4x256x16xf32>, tensor<1x4x256x16xf32>) -> tensor<1x4x256x16xf32>
  %eo = tensor.empty() : tensor<1x256x4x16xf32>
  %ot = linalg.transpose ins(%o : tensor<1x4x256x16xf32>) outs(%eo : tensor<1x256x4x16xf32>) permutation = [0, 2, 1, 3]
  %out = tensor.collapse_shape %ot [[0], [1], [2, 3]] : tensor<1x256x4x16xf32> into tensor<1x256x64xf32>
  return %out : tensor<1x256x64xf32>
}
