// RUN: cp-opt %s --cp-detect-attention=report-misses -split-input-file -verify-diagnostics | FileCheck %s

// Logit soft-capping (Gemma2: scores = tanh(q·kᵀ·scale / c) · c before the
// mask) is a score_mod: raised to cp.flex_attention, causal as its mask_mod.

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @softcap_causal
// CHECK: cp.flex_attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 2.500000e-01 : f64}
// CHECK-SAME: mask_mod
// CHECK: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK: %[[C:.+]] = arith.cmpi ule, %[[KI]], %[[QI]] : index
// CHECK: cp.yield %[[C]] : i1
// CHECK: score_mod
// CHECK: ^bb0(%[[S:.+]]: f32,
// CHECK: %[[CAP:.+]] = arith.constant 5.000000e+01 : f32
// CHECK: %[[D:.+]] = arith.divf %[[S]], %[[CAP]] : f32
// CHECK: %[[T:.+]] = math.tanh %[[D]] : f32
// CHECK: %[[M:.+]] = arith.mulf %[[T]], %[[CAP]] : f32
// CHECK: cp.yield %[[M]] : f32
// CHECK-NOT: linalg.softmax
func.func @softcap_causal(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                          %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.25 : f32
  %cap = arith.constant 50.0 : f32
  %min = arith.constant -3.40282347E+38 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.mulf %in, %scale : f32
    %b = arith.divf %a, %cap : f32
    %t = math.tanh %b : f32
    %c = arith.mulf %t, %cap : f32
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %keep = arith.cmpi ule, %j, %i : index
    %m = arith.select %keep, %zero, %min : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// A cap with a tensor mask: flex has no mask operand; left alone.
// CHECK-LABEL: func.func @softcap_tensor_mask
// CHECK-NOT: cp.flex_attention
func.func @softcap_tensor_mask(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                               %v: tensor<8x4xf32>, %mk: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %cap = arith.constant 30.0 : f32
  %rcap = arith.constant 0.0333333351 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %mk : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %b = arith.mulf %in, %rcap : f32
    %t = math.tanh %b : f32
    %c = arith.mulf %cap, %t : f32
    %r = arith.select %keep, %c, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: a tensor mask together with a mask_mod or score_mod on attention that is not [B, H, S, D]}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// [B, H, S, D] attention with soft-capping and an additive tensor mask
// [B, 1, S, S] (Gemma2's default export): flex has no mask operand, so the
// score_mod adds the mask, read at the scores' position (b, 0, q, kv).
// CHECK-LABEL: func.func @softcap_additive_mask_4d
// CHECK-SAME: (%{{[^:]+}}: tensor<1x2x8x4xf32>, %{{[^:]+}}: tensor<1x2x4x8xf32>, %{{[^:]+}}: tensor<1x2x8x4xf32>, %[[M:[^:]+]]: tensor<1x1x8x8xf32>)
// CHECK: cp.flex_attention
// CHECK: score_mod {
// CHECK-NEXT: ^bb0(%{{.+}}: f32, %{{.+}}: index, %{{.+}}: index, %[[Q:.+]]: index, %[[K:.+]]: index):
// CHECK: math.tanh
// CHECK: %[[CAPPED:.+]] = arith.mulf
// CHECK: %[[X:.+]] = tensor.extract %[[M]][%{{.+}}, %{{.+}}, %[[Q]], %[[K]]] : tensor<1x1x8x8xf32>
// CHECK: %[[R:.+]] = arith.addf %[[CAPPED]], %[[X]] : f32
// CHECK: cp.yield %[[R]] : f32
func.func @softcap_additive_mask_4d(%q: tensor<1x2x8x4xf32>, %kt: tensor<1x2x4x8xf32>,
                                    %v: tensor<1x2x8x4xf32>, %m: tensor<1x1x8x8xf32>) -> tensor<1x2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %cap = arith.constant 30.0 : f32
  %rcap = arith.constant 0.0333333351 : f32
  %e = tensor.empty() : tensor<1x2x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, d, j)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x8x4xf32>, tensor<1x2x4x8xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, 0, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s, %m : tensor<1x2x8x8xf32>, tensor<1x1x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) {
  ^bb0(%in: f32, %mv: f32, %out: f32):
    %b = arith.mulf %in, %rcap : f32
    %t = math.tanh %b : f32
    %c = arith.mulf %cap, %t : f32
    %r = arith.addf %c, %mv : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x8x8xf32>) outs(%e : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %eo = tensor.empty() : tensor<1x2x8x4xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, j)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]}
      ins(%p, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x4xf32>) outs(%fo : tensor<1x2x8x4xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %pr = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %pr : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
