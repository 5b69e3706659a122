// Float64 reference of gemm.mlir (test/e2e/blas-gemm.mlir): inputs
// widened, products in f64 (left to loops by the BLAS lowering, which takes
// f32 only), results narrowed.
func.func @gemm(%x: tensor<37x19xf32>, %w: tensor<23x19xf32>,
                %p: tensor<3x37x19xf32>, %q: tensor<3x19x23xf32>,
                %at: tensor<19x37xf32>, %r: tensor<1x19xf32>)
    -> (tensor<37x23xf32>, tensor<3x37x23xf32>, tensor<37x23xf32>, tensor<1x23xf32>) {
  %x_e = tensor.empty() : tensor<37x19xf64>
  %x64 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<37x19xf32>) outs(%x_e : tensor<37x19xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<37x19xf64>
  %w_e = tensor.empty() : tensor<23x19xf64>
  %w64 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<23x19xf32>) outs(%w_e : tensor<23x19xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<23x19xf64>
  %p_e = tensor.empty() : tensor<3x37x19xf64>
  %p64 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p : tensor<3x37x19xf32>) outs(%p_e : tensor<3x37x19xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<3x37x19xf64>
  %q_e = tensor.empty() : tensor<3x19x23xf64>
  %q64 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<3x19x23xf32>) outs(%q_e : tensor<3x19x23xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<3x19x23xf64>
  %at_e = tensor.empty() : tensor<19x37xf64>
  %at64 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%at : tensor<19x37xf32>) outs(%at_e : tensor<19x37xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<19x37xf64>
  %r_e = tensor.empty() : tensor<1x19xf64>
  %r64 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<1x19xf32>) outs(%r_e : tensor<1x19xf64>) {
  ^bb0(%v: f32, %u: f64):
    %d = arith.extf %v : f32 to f64
    linalg.yield %d : f64
  } -> tensor<1x19xf64>
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<19x23xf64>
  %wt = linalg.transpose ins(%w64 : tensor<23x19xf64>) outs(%e : tensor<19x23xf64>) permutation = [1, 0]
  %o = tensor.empty() : tensor<37x23xf64>
  %f = linalg.fill ins(%zero : f64) outs(%o : tensor<37x23xf64>) -> tensor<37x23xf64>
  %y = linalg.matmul ins(%x64, %wt : tensor<37x19xf64>, tensor<19x23xf64>) outs(%f : tensor<37x23xf64>) -> tensor<37x23xf64>
  %ob = tensor.empty() : tensor<3x37x23xf64>
  %fb = linalg.fill ins(%zero : f64) outs(%ob : tensor<3x37x23xf64>) -> tensor<3x37x23xf64>
  %yb = linalg.batch_matmul ins(%p64, %q64 : tensor<3x37x19xf64>, tensor<3x19x23xf64>) outs(%fb : tensor<3x37x23xf64>) -> tensor<3x37x23xf64>
  // Accumulates into %y (no zero fill): y + atᵀ · wᵀ.
  %ya = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                         affine_map<(m, n, k) -> (n, k)>,
                                         affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%at64, %w64 : tensor<19x37xf64>, tensor<23x19xf64>) outs(%y : tensor<37x23xf64>) {
  ^bb0(%a: f64, %b: f64, %acc: f64):
    %m = arith.mulf %a, %b : f64
    %s = arith.addf %acc, %m : f64
    linalg.yield %s : f64
  } -> tensor<37x23xf64>
  %o1 = tensor.empty() : tensor<1x23xf64>
  %f1 = linalg.fill ins(%zero : f64) outs(%o1 : tensor<1x23xf64>) -> tensor<1x23xf64>
  %y1 = linalg.matmul ins(%r64, %wt : tensor<1x19xf64>, tensor<19x23xf64>) outs(%f1 : tensor<1x23xf64>) -> tensor<1x23xf64>
  %y_n = tensor.empty() : tensor<37x23xf32>
  %y32 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<37x23xf64>) outs(%y_n : tensor<37x23xf32>) {
  ^bb0(%v: f64, %u: f32):
    %d = arith.truncf %v : f64 to f32
    linalg.yield %d : f32
  } -> tensor<37x23xf32>
  %yb_n = tensor.empty() : tensor<3x37x23xf32>
  %yb32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%yb : tensor<3x37x23xf64>) outs(%yb_n : tensor<3x37x23xf32>) {
  ^bb0(%v: f64, %u: f32):
    %d = arith.truncf %v : f64 to f32
    linalg.yield %d : f32
  } -> tensor<3x37x23xf32>
  %ya_n = tensor.empty() : tensor<37x23xf32>
  %ya32 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ya : tensor<37x23xf64>) outs(%ya_n : tensor<37x23xf32>) {
  ^bb0(%v: f64, %u: f32):
    %d = arith.truncf %v : f64 to f32
    linalg.yield %d : f32
  } -> tensor<37x23xf32>
  %y1_n = tensor.empty() : tensor<1x23xf32>
  %y132 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%y1 : tensor<1x23xf64>) outs(%y1_n : tensor<1x23xf32>) {
  ^bb0(%v: f64, %u: f32):
    %d = arith.truncf %v : f64 to f32
    linalg.yield %d : f32
  } -> tensor<1x23xf32>
  return %y32, %yb32, %ya32, %y132 : tensor<37x23xf32>, tensor<3x37x23xf32>, tensor<37x23xf32>, tensor<1x23xf32>
}
