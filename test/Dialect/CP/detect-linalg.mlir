// RUN: cp-opt %s --cp-detect-attention | FileCheck %s

// Hand-written linalg forms of attention raised to cp.sdpa/cp.flex_attention.

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#red3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#bc3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#red4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#mask4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#none4 = affine_map<(d0, d1, d2, d3) -> ()>

// 2-D: linalg.matmul with kᵀ from linalg.transpose, the scale on the scores,
// linalg.softmax.
// CHECK-LABEL: func.func @matmul_softmax_2d
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xf32>, %[[K:.+]]: tensor<8x4xf32>, %[[V:.+]]: tensor<8x4xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {scale = 5.000000e-01 : f64} : (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @matmul_softmax_2d(%q: tensor<8x4xf32>, %k: tensor<8x4xf32>,
                             %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %e48 = tensor.empty() : tensor<4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<8x4xf32>) outs(%e48 : tensor<4x8xf32>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%ss : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// 3-D [B*H, S, D]: linalg.batch_matmul with kᵀ by indexing_maps, softmax
// spelled max/sub/exp/sum/div, the scale as a division of the scores.
// CHECK-LABEL: func.func @batch_matmul_explicit_softmax
// CHECK-SAME: (%[[Q:.+]]: tensor<2x8x4xf32>, %[[K:.+]]: tensor<2x8x4xf32>, %[[V:.+]]: tensor<2x8x4xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {scale = 5.000000e-01 : f64} : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
// CHECK-NOT: linalg.
// CHECK-NOT: math.exp
// CHECK: return %[[O]]
func.func @batch_matmul_explicit_softmax(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>,
                                         %v: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul
      indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                       affine_map<(b, m, n, k) -> (b, n, k)>,
                       affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q, %k : tensor<2x8x4xf32>, tensor<2x8x4xf32>) outs(%f : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x8x8xf32>) outs(%e : tensor<2x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %in, %two : f32
    linalg.yield %d : f32
  } -> tensor<2x8x8xf32>
  %er = tensor.empty() : tensor<2x8xf32>
  %fmax = linalg.fill ins(%ninf : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %max = linalg.generic {indexing_maps = [#id3, #red3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ss : tensor<2x8x8xf32>) outs(%fmax : tensor<2x8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %in, %acc : f32
    linalg.yield %m : f32
  } -> tensor<2x8xf32>
  %ex = linalg.generic {indexing_maps = [#id3, #red3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ss, %max : tensor<2x8x8xf32>, tensor<2x8xf32>) outs(%e : tensor<2x8x8xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<2x8x8xf32>
  %fsum = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8xf32>) -> tensor<2x8xf32>
  %sum = linalg.generic {indexing_maps = [#id3, #red3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ex : tensor<2x8x8xf32>) outs(%fsum : tensor<2x8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %in, %acc : f32
    linalg.yield %a : f32
  } -> tensor<2x8xf32>
  %p = linalg.generic {indexing_maps = [#id3, #red3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ex, %sum : tensor<2x8x8xf32>, tensor<2x8xf32>) outs(%e : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %sm: f32, %out: f32):
    %d = arith.divf %x, %sm : f32
    linalg.yield %d : f32
  } -> tensor<2x8x8xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  return %o : tensor<2x8x4xf32>
}

// 4-D with contraction linalg.generic ops (kᵀ in the indexing maps), the
// scale on q, a causal mask from linalg.index, normalisation by a reciprocal.
// CHECK-LABEL: func.func @generic_contractions_causal
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x8x4xf32>, %[[K:.+]]: tensor<1x2x8x4xf32>, %[[V:.+]]: tensor<1x2x8x4xf32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {is_causal, scale = 2.500000e-01 : f64}
// CHECK-NOT: linalg.generic
// CHECK: return %[[O]]
func.func @generic_contractions_causal(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>,
                                       %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %eq = tensor.empty() : tensor<1x2x8x4xf32>
  %qs = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q : tensor<1x2x8x4xf32>) outs(%eq : tensor<1x2x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x4xf32>
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, j, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qs, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x8xf32>
  %em = tensor.empty() : tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%em : tensor<8x8xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %keep = arith.cmpi ule, %j, %i : index
    %b = arith.select %keep, %zero, %ninf : f32
    linalg.yield %b : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id4, #mask4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s, %mask : tensor<1x2x8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %er = tensor.empty() : tensor<1x2x8xf32>
  %fmax = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %max = linalg.generic {indexing_maps = [#id4, #red4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%sm : tensor<1x2x8x8xf32>) outs(%fmax : tensor<1x2x8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8xf32>
  %ex = linalg.generic {indexing_maps = [#id4, #red4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sm, %max : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<1x2x8x8xf32>
  %fsum = linalg.fill ins(%zero : f32) outs(%er : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #red4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%ex : tensor<1x2x8x8xf32>) outs(%fsum : tensor<1x2x8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %in, %acc : f32
    linalg.yield %a : f32
  } -> tensor<1x2x8xf32>
  %rcp = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x2x8xf32>) outs(%er : tensor<1x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.divf %one, %in : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8xf32>
  %p = linalg.generic {indexing_maps = [#id4, #red4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ex, %rcp : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%x: f32, %r: f32, %out: f32):
    %m = arith.mulf %x, %r : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eq : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, j, e)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, i, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%fo : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// A bool mask applied with arith.select inside a generic (masked_fill).
// CHECK-LABEL: func.func @bool_mask_select
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xf32>, %[[K:.+]]: tensor<8x4xf32>, %[[V:.+]]: tensor<8x4xf32>, %[[M:.+]]: tensor<8x8xi1>)
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 1.000000e+00 : f64}
// CHECK: return %[[O]]
func.func @bool_mask_select(%q: tensor<8x4xf32>, %k: tensor<8x4xf32>,
                            %v: tensor<8x4xf32>, %mask: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e48 = tensor.empty() : tensor<4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<8x4xf32>) outs(%e48 : tensor<4x8xf32>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %mask : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %r = arith.select %keep, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// A dense causal constant (bool) is recognised as is_causal; an additive
// float mask that is a function argument stays a mask operand.
// CHECK-LABEL: func.func @dense_causal_constant
// CHECK-SAME: (%[[Q:.+]]: tensor<4x4xf32>, %[[K:.+]]: tensor<4x4xf32>, %[[V:.+]]: tensor<4x4xf32>, %[[F:.+]]: tensor<4x4xf32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] mask %[[F]] {is_causal, scale = 1.000000e+00 : f64}
// CHECK-NOT: arith.constant dense
// CHECK: return %[[O]]
func.func @dense_causal_constant(%q: tensor<4x4xf32>, %k: tensor<4x4xf32>,
                                 %v: tensor<4x4xf32>, %fm: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %causal = arith.constant dense<[[true, false, false, false], [true, true, false, false],
                                  [true, true, true, false], [true, true, true, true]]> : tensor<4x4xi1>
  %e = tensor.empty() : tensor<4x4xf32>
  %kt = linalg.transpose ins(%k : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) permutation = [1, 0]
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %causal, %fm : tensor<4x4xf32>, tensor<4x4xi1>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %keep: i1, %add: f32, %out: f32):
    %a = arith.addf %in, %add : f32
    %r = arith.select %keep, %a, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %o : tensor<4x4xf32>
}

// A mask computed from positions that is not causal (a sliding window of 3
// keys): cp.flex_attention with the predicate in terms of (q_idx, kv_idx).
// CHECK-LABEL: func.func @sliding_window_flex
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x8x4xf32>, %[[K:.+]]: tensor<1x2x8x4xf32>, %[[V:.+]]: tensor<1x2x8x4xf32>)
// CHECK: %[[O:.+]] = cp.flex_attention %[[Q]], %[[K]], %[[V]] {scale = 5.000000e-01 : f64}
// CHECK-SAME: mask_mod {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.cmpi ule, %[[KI]], %[[QI]] : index
// CHECK-NEXT: %[[D:.+]] = arith.subi %[[QI]], %[[KI]] : index
// CHECK-NEXT: %[[W:.+]] = arith.constant 3 : index
// CHECK-NEXT: %[[N:.+]] = arith.cmpi ult, %[[D]], %[[W]] : index
// CHECK-NEXT: %[[KEEP:.+]] = arith.andi %[[C]], %[[N]] : i1
// CHECK-NEXT: cp.yield %[[KEEP]] : i1
// CHECK: return %[[O]]
func.func @sliding_window_flex(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>,
                               %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c3 = arith.constant 3 : index
  %c = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, j, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %causal = arith.cmpi ule, %j, %i : index
    %dist = arith.subi %i, %j : index
    %near = arith.cmpi ult, %dist, %c3 : index
    %keep = arith.andi %causal, %near : i1
    %sc = arith.mulf %in, %c : f32
    %r = arith.select %keep, %sc, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %eo = tensor.empty() : tensor<1x2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, j, e)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, i, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%fo : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// GQA written with linalg.broadcast + collapse_shape of the key/value heads:
// cp.sdpa with enable_gqa on the un-repeated key/value.
// CHECK-LABEL: func.func @gqa_broadcast
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x8x4xf32>, %[[K:.+]]: tensor<1x2x8x4xf32>, %[[V:.+]]: tensor<1x2x8x4xf32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {enable_gqa, scale = 1.000000e+00 : f64} : (tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32>
// CHECK-NOT: linalg.broadcast
// CHECK: return %[[O]]
func.func @gqa_broadcast(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>,
                         %v: tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e5 = tensor.empty() : tensor<1x2x2x8x4xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x8x4xf32>) outs(%e5 : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x8x4xf32>) outs(%e5 : tensor<1x2x2x8x4xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %vr = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x4xf32> into tensor<1x4x8x4xf32>
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, j, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kr : tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>) outs(%f : tensor<1x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x4x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %eo = tensor.empty() : tensor<1x4x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x4x8x4xf32>) -> tensor<1x4x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, j, e)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, i, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vr : tensor<1x4x8x8xf32>, tensor<1x4x8x4xf32>) outs(%fo : tensor<1x4x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x4x8x4xf32>
  return %o : tensor<1x4x8x4xf32>
}

// bf16 inputs with f32 accumulation (extf inside the matmul bodies): raised
// at f32 on the inputs widened by a generic, the result keeps its f32 type.
// P is rounded to bf16 before P·V in the input; the raised op does not round
// it (as flash kernels, within bf16 precision of the original).
// CHECK-LABEL: func.func @bf16_inputs_f32_accumulation
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xbf16>, %[[K:.+]]: tensor<8x4xbf16>, %[[V:.+]]: tensor<8x4xbf16>)
// CHECK: %[[QW:.+]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<8x4xbf16>) outs(%{{.+}} : tensor<8x4xf32>)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[KW:.+]] = linalg.generic {{.*}} ins(%[[K]] : tensor<8x4xbf16>) outs(%{{.+}} : tensor<8x4xf32>)
// CHECK: %[[VW:.+]] = linalg.generic {{.*}} ins(%[[V]] : tensor<8x4xbf16>) outs(%{{.+}} : tensor<8x4xf32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[QW]], %[[KW]], %[[VW]] {scale = 1.000000e+00 : f64} : (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK: return %[[O]]
func.func @bf16_inputs_f32_accumulation(%q: tensor<8x4xbf16>, %k: tensor<8x4xbf16>,
                                        %v: tensor<8x4xbf16>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e48 = tensor.empty() : tensor<4x8xbf16>
  %kt = linalg.transpose ins(%k : tensor<8x4xbf16>) outs(%e48 : tensor<4x8xbf16>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xbf16>, tensor<4x8xbf16>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %pb = arith.truncf %p : tensor<8x8xf32> to tensor<8x8xbf16>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%pb, %v : tensor<8x8xbf16>, tensor<8x4xbf16>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// Dynamic batch, and two attentions sharing q·kᵀ where the second one's value
// is the first one's output: both raised, nothing of the old IR left.
// CHECK-LABEL: func.func @dyn
// CHECK-SAME: (%[[Q:.+]]: tensor<?x8x4xf32>, %[[K:.+]]: tensor<?x8x4xf32>, %[[V:.+]]: tensor<?x8x4xf32>)
// CHECK-NEXT: %[[O1:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f64} : (tensor<?x8x4xf32>, tensor<?x8x4xf32>, tensor<?x8x4xf32>) -> tensor<?x8x4xf32>
// CHECK-NEXT: %[[O2:.+]] = cp.sdpa %[[Q]], %[[K]], %[[O1]]
// CHECK-NEXT: return %[[O2]]
func.func @dyn(%q: tensor<?x8x4xf32>, %k: tensor<?x8x4xf32>, %v: tensor<?x8x4xf32>) -> tensor<?x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %b = tensor.dim %q, %c0 : tensor<?x8x4xf32>
  %e = tensor.empty(%b) : tensor<?x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %s = linalg.batch_matmul
      indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                       affine_map<(b, m, n, k) -> (b, n, k)>,
                       affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q, %k : tensor<?x8x4xf32>, tensor<?x8x4xf32>) outs(%f : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<?x8x8xf32>) outs(%e : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %eo = tensor.empty(%b) : tensor<?x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<?x8x4xf32>) -> tensor<?x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<?x8x8xf32>, tensor<?x8x4xf32>) outs(%fo : tensor<?x8x4xf32>) -> tensor<?x8x4xf32>
  %p2 = linalg.softmax dimension(2) ins(%s : tensor<?x8x8xf32>) outs(%e : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %o2 = linalg.batch_matmul ins(%p2, %o : tensor<?x8x8xf32>, tensor<?x8x4xf32>) outs(%fo : tensor<?x8x4xf32>) -> tensor<?x8x4xf32>
  return %o2 : tensor<?x8x4xf32>
}

// Causal written as an unsigned distance test, (i - j) <u 8: j > i wraps
// around and is masked. The evaluation compares at the operands' width.
// CHECK-LABEL: func.func @causal_unsigned_distance
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} {is_causal, scale = 1.000000e+00 : f64}
func.func @causal_unsigned_distance(%q: tensor<8x4xf32>, %k: tensor<8x4xf32>,
                                    %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c8 = arith.constant 8 : i32
  %e48 = tensor.empty() : tensor<4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<8x4xf32>) outs(%e48 : tensor<4x8xf32>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %ji = arith.index_cast %j : index to i32
    %d = arith.subi %ii, %ji : i32
    %keep = arith.cmpi ult, %d, %c8 : i32
    %r = arith.select %keep, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// Named ops only: linalg.reduce, linalg.broadcast, linalg.sub, linalg.exp,
// linalg.div (their bodies are read like a generic's).
// CHECK-LABEL: func.func @named_ops_softmax
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xf32>, %[[K:.+]]: tensor<8x4xf32>, %[[V:.+]]: tensor<8x4xf32>)
// CHECK-NEXT: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f64}
// CHECK-NEXT: return %[[O]]
func.func @named_ops_softmax(%q: tensor<8x4xf32>, %k: tensor<8x4xf32>, %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e48 = tensor.empty() : tensor<4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<8x4xf32>) outs(%e48 : tensor<4x8xf32>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e8 = tensor.empty() : tensor<8xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %mx = linalg.reduce ins(%s : tensor<8x8xf32>) outs(%fm : tensor<8xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %r = arith.maximumf %in, %init : f32
      linalg.yield %r : f32
    }
  %mxb = linalg.broadcast ins(%mx : tensor<8xf32>) outs(%e88 : tensor<8x8xf32>) dimensions = [1]
  %d = linalg.sub ins(%s, %mxb : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %ex = linalg.exp ins(%d : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %sum = linalg.reduce ins(%ex : tensor<8x8xf32>) outs(%fs : tensor<8xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %r = arith.addf %in, %init : f32
      linalg.yield %r : f32
    }
  %sb = linalg.broadcast ins(%sum : tensor<8xf32>) outs(%e88 : tensor<8x8xf32>) dimensions = [1]
  %p = linalg.div ins(%ex, %sb : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// Output in [B, S, H, D] (contraction generics with that layout): q/k/v are
// transposed to [B, H, S, D] for the op and its result back.
// CHECK-LABEL: func.func @bshd_layout
// CHECK-SAME: (%[[Q:.+]]: tensor<1x8x2x4xf32>, %[[K:.+]]: tensor<1x8x2x4xf32>, %[[V:.+]]: tensor<1x8x2x4xf32>)
// CHECK: %[[QT:.+]] = linalg.transpose ins(%[[Q]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[KT:.+]] = linalg.transpose ins(%[[K]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[VT:.+]] = linalg.transpose ins(%[[V]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[O:.+]] = cp.sdpa %[[QT]], %[[KT]], %[[VT]] {scale = 1.000000e+00 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
// CHECK: %[[OT:.+]] = linalg.transpose ins(%[[O]] : tensor<1x2x8x4xf32>) outs(%{{.+}} : tensor<1x8x2x4xf32>) permutation = [0, 2, 1, 3]
// CHECK: return %[[OT]]
func.func @bshd_layout(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>,
                       %v: tensor<1x8x2x4xf32>) -> tensor<1x8x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, i, h, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, j, h, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %eo = tensor.empty() : tensor<1x8x2x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x8x2x4xf32>) -> tensor<1x8x2x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, h, e, j) -> (b, h, i, j)>,
                                        affine_map<(b, i, h, e, j) -> (b, j, h, e)>,
                                        affine_map<(b, i, h, e, j) -> (b, i, h, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x8x2x4xf32>) outs(%fo : tensor<1x8x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x8x2x4xf32>
  return %o : tensor<1x8x2x4xf32>
}

// A dense constant mask that is not causal (a band) cannot be written as a
// mask_mod: the constant becomes the mask operand.
// CHECK-LABEL: func.func @dense_band_constant
// CHECK: %[[M:.+]] = arith.constant dense<{{\[\[}}true, false, false, false], [true, true, false, false], [false, true, true, false], [false, false, true, true]]> : tensor<4x4xi1>
// CHECK: %[[O:.+]] = cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %[[M]] {scale = 1.000000e+00 : f64}
// CHECK: return %[[O]]
func.func @dense_band_constant(%q: tensor<4x4xf32>, %k: tensor<4x4xf32>,
                               %v: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %band = arith.constant dense<[[true, false, false, false], [true, true, false, false],
                                [false, true, true, false], [false, false, true, true]]> : tensor<4x4xi1>
  %e = tensor.empty() : tensor<4x4xf32>
  %kt = linalg.transpose ins(%k : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) permutation = [1, 0]
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %band : tensor<4x4xf32>, tensor<4x4xi1>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %r = arith.select %keep, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %o : tensor<4x4xf32>
}

// A 3-D [B*H, S, D] output whose q/k/v are collapsed from 4-D: raised on the
// 3-D collapsed tensors (the verifier accepts rank >= 2).
// CHECK-LABEL: func.func @r3
// CHECK: %[[Q:.+]] = tensor.collapse_shape %arg0
// CHECK: %[[K:.+]] = tensor.collapse_shape %arg1
// CHECK: %[[V:.+]] = tensor.collapse_shape %arg2
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f64} : (tensor<8x8x4xf32>, tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
// CHECK-NEXT: return %[[O]]
func.func @r3(%q: tensor<2x4x8x4xf32>, %k: tensor<2x4x8x4xf32>, %v: tensor<2x4x8x4xf32>) -> tensor<8x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %e = tensor.empty() : tensor<8x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %s = linalg.batch_matmul
      indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                       affine_map<(b, m, n, k) -> (b, n, k)>,
                       affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q3, %k3 : tensor<8x8x4xf32>, tensor<8x8x4xf32>) outs(%f : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<8x8x8xf32>) outs(%e : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %eo = tensor.empty() : tensor<8x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<8x8x8xf32>, tensor<8x8x4xf32>) outs(%fo : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  return %o : tensor<8x8x4xf32>
}

// A bias computed from positions (ALiBi-like, kv_idx - q_idx): cp.flex_attention
// with score_mod = score + bias.
// CHECK-LABEL: func.func @position_bias
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xf32>, %[[KT:.+]]: tensor<4x8xf32>, %[[V:.+]]: tensor<8x4xf32>)
// CHECK: %[[K:.+]] = linalg.transpose ins(%[[KT]]
// CHECK: %[[O:.+]] = cp.flex_attention %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f64}
// CHECK-SAME: score_mod {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK-NEXT: %[[D:.+]] = arith.subi %[[KI]], %[[QI]] : index
// CHECK-NEXT: %[[DI:.+]] = arith.index_cast %[[D]] : index to i64
// CHECK-NEXT: %[[DF:.+]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK-NEXT: %[[R:.+]] = arith.addf %[[S]], %[[DF]] : f32
// CHECK-NEXT: cp.yield %[[R]] : f32
// CHECK: return %[[O]]
func.func @position_bias(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                         %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sb = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %d = arith.subi %j, %i : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %r = arith.addf %in, %df : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sb : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// Causal plus an ALiBi-like bias (0.25 · (kv_idx - q_idx)) on 4-D tensors:
// both modifiers.
// CHECK-LABEL: func.func @bias4
// CHECK: cp.flex_attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 5.000000e-01 : f64}
// CHECK-SAME: mask_mod {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.cmpi ule, %[[KI]], %[[QI]] : index
// CHECK-NEXT: cp.yield %[[C]] : i1
// CHECK: score_mod {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %[[QI2:.+]]: index, %[[KI2:.+]]: index):
// CHECK-NEXT: arith.subi %[[KI2]], %[[QI2]] : index
// CHECK: %[[B:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: %[[R:.+]] = arith.addf %[[S]], %[[B]] : f32
// CHECK-NEXT: cp.yield %[[R]] : f32
func.func @bias4(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>,
                               %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c3 = arith.constant 3 : index
  %c = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, j, d)>,
                                        affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %causal = arith.cmpi ule, %j, %i : index
    %dist = arith.subi %j, %i : index
    %di = arith.index_cast %dist : index to i64
    %df = arith.sitofp %di : i64 to f32
    %slope = arith.constant 0.25 : f32
    %bias = arith.mulf %df, %slope : f32
    %sc = arith.mulf %in, %c : f32
    %a = arith.addf %sc, %bias : f32
    %r = arith.select %causal, %a, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %eo = tensor.empty() : tensor<1x2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, j, e)>,
                                        affine_map<(b, h, i, e, j) -> (b, h, i, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%fo : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s2 = arith.addf %acc, %m : f32
    linalg.yield %s2 : f32
  } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// OPT (Hugging Face): the query projection [S, H*D] is scaled before the head
// split, so the scale cannot be peeled off a tensor laid out as [B, H, S, D]:
// the scaled, transposed tensor is the query and the scale stays 1.
// CHECK-LABEL: func.func @prescaled_query_before_head_split
// CHECK-SAME: (%[[XQ:[^:]+]]: tensor<8x8xf32>, %[[K:[^:]+]]: tensor<1x2x8x4xf32>, %[[V:[^:]+]]: tensor<1x2x8x4xf32>)
// CHECK: %[[QS:.+]] = linalg.generic
// CHECK: arith.mulf
// CHECK: %[[Q4:.+]] = tensor.expand_shape %[[QS]]
// CHECK: %[[QT:.+]] = linalg.transpose ins(%[[Q4]] : tensor<1x8x2x4xf32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[QT]], %[[K]], %[[V]] {scale = 1.000000e+00 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
// CHECK-NOT: linalg.softmax
// CHECK: return %[[O]]
func.func @prescaled_query_before_head_split(%xq: tensor<8x8xf32>, %k: tensor<1x2x8x4xf32>,
                                             %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %q3 = tensor.expand_shape %xq [[0, 1], [2]] output_shape [1, 8, 8] : tensor<8x8xf32> into tensor<1x8x8xf32>
  %e3 = tensor.empty() : tensor<1x8x8xf32>
  %qs = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q3 : tensor<1x8x8xf32>) outs(%e3 : tensor<1x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8xf32>
  %q4 = tensor.expand_shape %qs [[0], [1], [2, 3]] output_shape [1, 8, 2, 4] : tensor<1x8x8xf32> into tensor<1x8x2x4xf32>
  %eq = tensor.empty() : tensor<1x2x8x4xf32>
  %qt = linalg.transpose ins(%q4 : tensor<1x8x2x4xf32>) outs(%eq : tensor<1x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<1x2x4x8xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x8x4xf32>) outs(%ek : tensor<1x2x4x8xf32>) permutation = [0, 1, 3, 2]
  %qc = tensor.collapse_shape %qt [[0, 1], [2], [3]] : tensor<1x2x8x4xf32> into tensor<2x8x4xf32>
  %kc = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %es = tensor.empty() : tensor<2x8x8xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%qc, %kc : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%fs : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s4 = tensor.expand_shape %s [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %ep = tensor.empty() : tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%s4 : tensor<1x2x8x8xf32>) outs(%ep : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %pc = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %vc = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x4xf32> into tensor<2x8x4xf32>
  %eo = tensor.empty() : tensor<2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o = linalg.batch_matmul ins(%pc, %vc : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%fo : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [1, 2, 8, 4] : tensor<2x8x4xf32> into tensor<1x2x8x4xf32>
  return %o4 : tensor<1x2x8x4xf32>
}
