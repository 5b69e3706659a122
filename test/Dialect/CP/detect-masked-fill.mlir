// RUN: cp-opt %s --cp-detect-attention=report-misses -split-input-file -verify-diagnostics | FileCheck %s

// Masks that fill masked scores with a large finite negative (Hugging Face's
// eager attention uses finfo(dtype).min, older models -1e4 or -1e9) are
// raised like -inf masks: wherever a row keeps a key the result is the
// same (exp underflows to 0). A row that keeps no key gets 0 from cp's
// runtime where the producer averages the values (docs/detection.md).

// masked_fill(scores, !keep, finfo(f32).min) with a data mask.
// CHECK-LABEL: func.func @finfo_min_select
// CHECK-SAME: (%[[Q:.+]]: tensor<8x4xf32>, %{{.+}}: tensor<4x8xf32>, %[[V:.+]]: tensor<8x4xf32>, %[[M:.+]]: tensor<8x8xi1>)
// CHECK: %[[KT:.+]] = linalg.transpose
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %[[KT]], %[[V]] mask %[[M]] {scale = 1.000000e+00 : f64}
// CHECK-NOT: linalg.softmax
// CHECK: return %[[O]]
func.func @finfo_min_select(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                            %v: tensor<8x4xf32>, %m: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %min = arith.constant -3.40282347E+38 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %r = arith.select %keep, %in, %min : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// The eager form: scores + mask, where the mask is select(j <= i, 0, -1e9)
// from positions: causal.
// CHECK-LABEL: func.func @additive_causal_fill
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} {is_causal, scale = 1.000000e+00 : f64}
// CHECK-NOT: linalg.softmax
func.func @additive_causal_fill(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %fill = arith.constant -1.0E+9 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %keep = arith.cmpi ule, %j, %i : index
    %b = arith.select %keep, %zero, %fill : f32
    linalg.yield %b : f32
  } -> tensor<8x8xf32>
  %sm = linalg.add ins(%s, %mask : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// Causal and a padding mask in one keep (HF's eager mask with
// attention_mask): select((j <= i) & pad[j], 0, finfo.min). Both parts are
// kept: is_causal plus the data mask.
// CHECK-LABEL: func.func @causal_and_padding_fill
// CHECK-SAME: %[[PAD:[^:]+]]: tensor<8x8xi1>
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %[[PAD]] {is_causal, scale = 1.000000e+00 : f64}
func.func @causal_and_padding_fill(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                   %v: tensor<8x4xf32>, %pad: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %min = arith.constant -3.40282347E+38 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%pad : tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%p: i1, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.cmpi ule, %j, %i : index
    %keep = arith.andi %c, %p : i1
    %b = arith.select %keep, %zero, %min : f32
    linalg.yield %b : f32
  } -> tensor<8x8xf32>
  %sm = linalg.add ins(%s, %mask : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A fill of -100 is not a mask (exp(-100) is not 0 in fp32 next to a score
// of the same row): a data-dependent score bias, left alone with a reason.
// CHECK-LABEL: func.func @small_fill_is_not_a_mask
// CHECK-NOT: cp.sdpa
func.func @small_fill_is_not_a_mask(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                    %v: tensor<8x4xf32>, %m: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %fill = arith.constant -100.0 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %r = arith.select %keep, %in, %fill : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: masked scores are filled with -1.000000e+02, which does not mask (a mask fills -inf or at most -1.000000e+04)}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// masked_fill written the other way round (as torch-mlir emits
// `scores.masked_fill(~keep, finfo.min)`): select(!keep, fill, scores).
// CHECK-LABEL: func.func @inverted_select_fill
// CHECK-SAME: %[[M:[^:]+]]: tensor<8x8xi1>
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %[[M]] {scale = 1.000000e+00 : f64}
func.func @inverted_select_fill(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                %v: tensor<8x4xf32>, %m: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %true = arith.constant true
  %min = arith.constant -3.40282347E+38 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %keep: i1, %out: f32):
    %masked = arith.xori %keep, %true : i1
    %r = arith.select %masked, %min, %in : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// select(m, fill, scores) with m a data tensor: m marks what is masked, and
// cp's masks say what is kept; not raised, with the reason.
// CHECK-LABEL: func.func @masked_tensor_select_fill
// CHECK-NOT: cp.sdpa
func.func @masked_tensor_select_fill(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                                     %v: tensor<8x4xf32>, %m: tensor<8x8xi1>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %min = arith.constant -3.40282347E+38 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<8x8xf32>, tensor<8x8xi1>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %masked: i1, %out: f32):
    %r = arith.select %masked, %min, %in : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @below {{softmax not raised to cp.sdpa: the mask keeps the positions where a data-dependent condition is false}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}
