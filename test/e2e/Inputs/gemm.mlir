// Matrix products in the forms the CPU lowering hands to the BLAS
// (test/e2e/blas-gemm.mlir): x · Wᵀ through a linalg.transpose, a batched
// product, a generic contraction with a transposed left operand, a
// one-row product; odd sizes. gemm_f64.mlir is the same in float64.
func.func @gemm(%x: tensor<37x19xf32>, %w: tensor<23x19xf32>,
                %p: tensor<3x37x19xf32>, %q: tensor<3x19x23xf32>,
                %at: tensor<19x37xf32>, %r: tensor<1x19xf32>)
    -> (tensor<37x23xf32>, tensor<3x37x23xf32>, tensor<37x23xf32>, tensor<1x23xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<19x23xf32>
  %wt = linalg.transpose ins(%w : tensor<23x19xf32>) outs(%e : tensor<19x23xf32>) permutation = [1, 0]
  %o = tensor.empty() : tensor<37x23xf32>
  %f = linalg.fill ins(%zero : f32) outs(%o : tensor<37x23xf32>) -> tensor<37x23xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<37x19xf32>, tensor<19x23xf32>) outs(%f : tensor<37x23xf32>) -> tensor<37x23xf32>
  %ob = tensor.empty() : tensor<3x37x23xf32>
  %fb = linalg.fill ins(%zero : f32) outs(%ob : tensor<3x37x23xf32>) -> tensor<3x37x23xf32>
  %yb = linalg.batch_matmul ins(%p, %q : tensor<3x37x19xf32>, tensor<3x19x23xf32>) outs(%fb : tensor<3x37x23xf32>) -> tensor<3x37x23xf32>
  // Accumulates into %y (no zero fill): y + atᵀ · wᵀ.
  %ya = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                         affine_map<(m, n, k) -> (n, k)>,
                                         affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%at, %w : tensor<19x37xf32>, tensor<23x19xf32>) outs(%y : tensor<37x23xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<37x23xf32>
  %o1 = tensor.empty() : tensor<1x23xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%o1 : tensor<1x23xf32>) -> tensor<1x23xf32>
  %y1 = linalg.matmul ins(%r, %wt : tensor<1x19xf32>, tensor<19x23xf32>) outs(%f1 : tensor<1x23xf32>) -> tensor<1x23xf32>
  return %y, %yb, %ya, %y1 : tensor<37x23xf32>, tensor<3x37x23xf32>, tensor<37x23xf32>, tensor<1x23xf32>
}
