// A function that returns one value twice (as CSE leaves two identical
// projections): attention output, and a matrix product with a shared fill.
func.func @twice(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>,
                 %v: tensor<1x2x16x8xf32>, %x: tensor<8x8xf32>)
    -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<8x8xf32>,
        tensor<8x8xf32>) {
  %o = cp.sdpa %q, %k, %v {is_causal}
      : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
      -> tensor<1x2x16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %a = linalg.matmul ins(%x, %x : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %b = linalg.matmul ins(%x, %x : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %o, %o, %a, %b : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>,
                          tensor<8x8xf32>, tensor<8x8xf32>
}
