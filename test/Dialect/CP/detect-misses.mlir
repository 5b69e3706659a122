// RUN: cp-opt %s --cp-detect-attention=report-misses -split-input-file -verify-diagnostics | FileCheck %s

// Near misses: each is left untouched, and report-misses explains why on the
// softmax candidate (the linalg.softmax, the generic with the exp, tosa.exp).


// The softmax normalises each column (over the queries).
// CHECK-LABEL: func.func @softmax_over_query_dim
// CHECK-NOT: cp.sdpa
// CHECK: linalg.softmax
func.func @softmax_over_query_dim(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                  %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the softmax normalises over dim 0 of the output (the query dim), not over the key dim that P·V contracts}}
  %p = linalg.softmax dimension(0) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// P·V contracts P's rows (Pᵀ·V): over the query dim of the softmax.
// CHECK-LABEL: func.func @pv_over_wrong_dim
// CHECK-NOT: cp.sdpa
func.func @pv_over_wrong_dim(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                             %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the softmax normalises over dim 0 of the output (the query dim), not over the key dim that P·V contracts}}
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %pt = linalg.transpose ins(%p : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) permutation = [1, 0]
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%pt, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// The scale multiplies the probabilities, not the scores.
// CHECK-LABEL: func.func @scale_after_softmax
// CHECK-NOT: cp.sdpa
func.func @scale_after_softmax(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                               %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: a scale is applied after the softmax}}
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %ps = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%ps, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// The mask keeps the positions where the score itself is positive: it
// depends on the data, not on positions or on a mask tensor.
// CHECK-LABEL: func.func @data_dependent_mask
// CHECK-NOT: cp.sdpa
func.func @data_dependent_mask(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                               %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %pos = arith.cmpf ogt, %in, %zero : f32
    %r = arith.select %pos, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the mask depends on data in an unsupported way}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A float mask read transposed ([key, query]).
// CHECK-LABEL: func.func @transposed_mask
// CHECK-NOT: cp.sdpa
func.func @transposed_mask(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                           %v: tensor<8x4xf32>, %m: tensor<8x8xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the mask is not read as [batch..., query, key] (transposed or sliced masks are not raised)}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// The max subtracted before the exp is taken over another tensor.
// CHECK-LABEL: func.func @max_of_other_tensor
// CHECK-NOT: cp.sdpa
func.func @max_of_other_tensor(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                               %v: tensor<8x4xf32>, %t: tensor<8x8xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e8 = tensor.empty() : tensor<8xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%t : tensor<8x8xf32>) outs(%fm : tensor<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the max subtracted before the exp is not taken over the same scores}}
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %mx : tensor<8x8xf32>, tensor<8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%ex : tensor<8x8xf32>) outs(%fs : tensor<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ex, %sum : tensor<8x8xf32>, tensor<8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%x: f32, %sm: f32, %out: f32):
    %r = arith.divf %x, %sm : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// P·V accumulates into a tensor that is not zero.
// CHECK-LABEL: func.func @accumulating_contraction
// CHECK-NOT: cp.sdpa
func.func @accumulating_contraction(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                    %v: tensor<8x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: contraction does not start from zero}}
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A position-dependent bias (a score_mod) together with a mask tensor.
// CHECK-LABEL: func.func @position_bias_and_tensor_mask
// CHECK-NOT: cp.sdpa
func.func @position_bias_and_tensor_mask(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                         %v: tensor<8x4xf32>, %m: tensor<8x8xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %mv: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %d = arith.subi %j, %i : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %a = arith.addf %in, %df : f32
    %r = arith.addf %a, %mv : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: a tensor mask combined with a position-dependent score bias}}
  %p = linalg.softmax dimension(1) ins(%sb : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A softmax whose result is never multiplied by V.
// CHECK-LABEL: func.func @softmax_without_pv
func.func @softmax_without_pv(%s: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e88 = tensor.empty() : tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: no P·V contraction consumes the softmax}}
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %p : tensor<8x8xf32>
}

// -----

// TOSA: the softmax reduces over axis 1 (the queries) of [BH, S, S].
// CHECK-LABEL: func.func @tosa_softmax_wrong_axis
// CHECK-NOT: cp.sdpa
// CHECK: tosa.exp
func.func @tosa_softmax_wrong_axis(%q: tensor<2x8x4xf32>, %kt: tensor<2x4x8xf32>,
                                   %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<2x8x4xf32>, tensor<2x4x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x8xf32>
  %mx = tosa.reduce_max %s {axis = 1 : i32} : (tensor<2x8x8xf32>) -> tensor<2x1x8xf32>
  %d = tosa.sub %s, %mx : (tensor<2x8x8xf32>, tensor<2x1x8xf32>) -> tensor<2x8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the softmax normalises over dim 1 of the output (the query dim), not over the key dim that P·V contracts}}
  %e = tosa.exp %d : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sum = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<2x8x8xf32>) -> tensor<2x1x8xf32>
  %r = tosa.reciprocal %sum : (tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x8x8xf32>, tensor<2x1x8xf32>, tensor<1xi8>) -> tensor<2x8x8xf32>
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<2x8x8xf32>, tensor<2x8x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// -----

// An exp that is never summed (SiLU) is not a softmax candidate: no remark.
// CHECK-LABEL: func.func @silu_is_not_a_candidate
// CHECK: math.exp
func.func @silu_is_not_a_candidate(%x: tensor<8x8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %x1 = math.exp %n : f32
    %d = arith.addf %x1, %one : f32
    %r = arith.divf %in, %d : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o = linalg.matmul ins(%s, %w : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %o : tensor<8x8xf32>
}

