// RUN: cp-opt %s --cp-detect-attention=report-misses -split-input-file -verify-diagnostics | FileCheck %s

// Packed sequences: the document mask doc[q] == doc[k] becomes cp.sdpa's
// segment_ids (docs/detection.md, "Document masks"), alone or with a
// causal mask, as a keep (select) or an additive 0 / -inf mask; flex
// attention whose mask_mod is such a mask is raised to cp.sdpa too.

// keep = doc[i] == doc[j] && j <= i, select(keep, s, -inf): causal plus
// document ids.
// CHECK-LABEL: func.func @doc_causal_select
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<8x4xf32>, %{{[^:]+}}: tensor<4x8xf32>, %[[V:[^:]+]]: tensor<8x4xf32>, %[[DOC:[^:]+]]: tensor<8xi32>)
// CHECK: %[[O:.+]] = cp.sdpa %[[Q]], %{{.+}}, %[[V]] segment_ids %[[DOC]] {is_causal, scale = 1.000000e+00 : f64}
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.generic
// CHECK: return %[[O]]
func.func @doc_causal_select(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                             %v: tensor<8x4xf32>, %doc: tensor<8xi32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %doc, %doc : tensor<8x8xf32>, tensor<8xi32>, tensor<8xi32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %dq: i32, %dk: i32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %causal = arith.cmpi ule, %j, %i : index
    %same = arith.cmpi eq, %dq, %dk : i32
    %keep = arith.andi %same, %causal : i1
    %r = arith.select %keep, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// An additive mask select(doc[i] != doc[j], -1e9, 0) on i64 ids widened
// from i32, materialised as its own tensor: no causal mask.
// CHECK-LABEL: func.func @doc_additive_ne
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<8xi32>)
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[DOC]] {scale = 1.000000e+00 : f64}
// CHECK-NOT: is_causal
// CHECK-NOT: linalg.softmax
func.func @doc_additive_ne(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                           %v: tensor<8x4xf32>, %doc: tensor<8xi32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %fill = arith.constant -1.0E+9 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%doc, %doc : tensor<8xi32>, tensor<8xi32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%dq: i32, %dk: i32, %out: f32):
    %wq = arith.extsi %dq : i32 to i64
    %wk = arith.extsi %dk : i32 to i64
    %other = arith.cmpi ne, %wq, %wk : i64
    %b = arith.select %other, %fill, %zero : f32
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

// Truncated ids could make two documents equal: not a document mask, and
// the mask is not a tensor either.
// CHECK-LABEL: func.func @doc_truncated_ids
// CHECK-NOT: cp.sdpa
func.func @doc_truncated_ids(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                             %v: tensor<8x4xf32>, %doc: tensor<8xi32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %doc, %doc : tensor<8x8xf32>, tensor<8xi32>, tensor<8xi32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %dq: i32, %dk: i32, %out: f32):
    %tq = arith.trunci %dq : i32 to i8
    %tk = arith.trunci %dk : i32 to i8
    %same = arith.cmpi eq, %tq, %tk : i8
    %r = arith.select %same, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  // expected-remark @+1 {{softmax not raised to cp.sdpa: the mask depends on data in an unsupported way}}
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A sliding window with documents: the window stays a mask_mod, the
// document ids are read inside it.
// CHECK-LABEL: func.func @doc_window
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<8xi32>)
// CHECK: cp.flex_attention
// CHECK: mask_mod
// CHECK: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK-DAG: %[[A:.+]] = tensor.extract %[[DOC]][%[[QI]]] : tensor<8xi32>
// CHECK-DAG: %[[B:.+]] = tensor.extract %[[DOC]][%[[KI]]] : tensor<8xi32>
// CHECK: %[[SAME:.+]] = arith.cmpi eq, %[[A]], %[[B]] : i32
// CHECK: %[[K:.+]] = arith.andi %{{.+}}, %[[SAME]] : i1
// CHECK: cp.yield %[[K]] : i1
func.func @doc_window(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                      %v: tensor<8x4xf32>, %doc: tensor<8xi32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c3 = arith.constant 3 : index
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %doc, %doc : tensor<8x8xf32>, tensor<8xi32>, tensor<8xi32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %dq: i32, %dk: i32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %causal = arith.cmpi ule, %j, %i : index
    %j3 = arith.addi %j, %c3 : index
    %near = arith.cmpi ugt, %j3, %i : index
    %win = arith.andi %causal, %near : i1
    %same = arith.cmpi eq, %dq, %dk : i32
    %keep = arith.andi %win, %same : i1
    %r = arith.select %keep, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// flex_attention with a mask_mod doc[q_idx] == doc[kv_idx] && q_idx >= kv_idx
// on [1, S] ids.
// CHECK-LABEL: func.func @flex_doc_causal
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<1x16xi64>)
// CHECK: %[[O:.+]], %[[L:.+]] = cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[DOC]] {enable_gqa, is_causal, scale = 2.500000e-01 : f64}
// CHECK-NOT: cp.flex_attention
// CHECK: return %[[O]], %[[L]]
func.func @flex_doc_causal(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>,
                           %v: tensor<1x2x16x8xf32>, %doc: tensor<1x16xi64>)
    -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>) {
  %o, %lse = cp.flex_attention %q, %k, %v {enable_gqa, scale = 0.25 : f64}
      : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
      -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>)
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %c0 = arith.constant 0 : index
      %dq = tensor.extract %doc[%c0, %qi] : tensor<1x16xi64>
      %dk = tensor.extract %doc[%c0, %ki] : tensor<1x16xi64>
      %same = arith.cmpi eq, %dq, %dk : i64
      %causal = arith.cmpi sge, %qi, %ki : index
      %keep = arith.andi %causal, %same : i1
      cp.yield %keep : i1
    }
  return %o, %lse : tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
}

// -----

// Batched ids [B, S] read at the batch argument; no causal part.
// CHECK-LABEL: func.func @flex_doc_batched
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<2x16xi32>)
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[DOC]] :
// CHECK-NOT: cp.flex_attention
func.func @flex_doc_batched(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>,
                            %v: tensor<2x4x16x8xf32>, %doc: tensor<2x16xi32>)
    -> tensor<2x4x16x8xf32> {
  %o = cp.flex_attention %q, %k, %v
      : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>)
      -> tensor<2x4x16x8xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %dq = tensor.extract %doc[%b, %qi] : tensor<2x16xi32>
      %dk = tensor.extract %doc[%b, %ki] : tensor<2x16xi32>
      %same = arith.cmpi eq, %dk, %dq : i32
      cp.yield %same : i1
    }
  return %o : tensor<2x4x16x8xf32>
}

// -----

// Not a document mask (the key is read at the query position): the flex
// stays.
// CHECK-LABEL: func.func @flex_not_doc
// CHECK: cp.flex_attention
// CHECK-NOT: cp.sdpa
func.func @flex_not_doc(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>,
                        %v: tensor<1x4x16x8xf32>, %doc: tensor<16xi32>)
    -> tensor<1x4x16x8xf32> {
  %o = cp.flex_attention %q, %k, %v
      : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>)
      -> tensor<1x4x16x8xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %dq = tensor.extract %doc[%qi] : tensor<16xi32>
      %c1 = arith.constant 1 : i32
      %dk = tensor.extract %doc[%ki] : tensor<16xi32>
      %dk1 = arith.addi %dk, %c1 : i32
      %same = arith.cmpi eq, %dq, %dk1 : i32
      cp.yield %same : i1
    }
  return %o : tensor<1x4x16x8xf32>
}

// -----

// TOSA (torch-mlir's form of an additive mask made with where()): the ids
// [1, S] reshaped to [1, 1, S, 1] and [1, 1, 1, S], tosa.equal, select(eq,
// 0, -inf) added to the scores.
// CHECK-LABEL: func.func @tosa_doc
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<1x64xi32>)
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[DOC]] {scale = 2.500000e-01 : f64}
// CHECK-NOT: tosa.equal
// CHECK-NOT: tosa.exp
func.func @tosa_doc(%arg0: tensor<1x4x64x16xf32>, %arg1: tensor<1x4x64x16xf32>, %arg2: tensor<1x4x64x16xf32>, %arg3: tensor<1x64xi32>) -> tensor<1x4x64x16xf32> {
  %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x4x64x64xf32>}> : () -> tensor<1x4x64x64xf32>
  %1 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %2 = tosa.const_shape  {values = dense<[4, 64, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %3 = tosa.const_shape  {values = dense<[4, 16, 64]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %5 = tosa.const_shape  {values = dense<[1, 4, 64, 64]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %6 = tosa.const_shape  {values = dense<[4, 64, 64]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %7 = tosa.const_shape  {values = dense<[1, 4, 64, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %8 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %9 = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %10 = "tosa.const"() <{values = dense<5.000000e-01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = "tosa.const"() <{values = dense<0xFFF0000000000000> : tensor<1x1x1x1xf64>}> : () -> tensor<1x1x1x1xf64>
  %dshape_q = tosa.const_shape  {values = dense<[1, 1, 64, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %dshape_k = tosa.const_shape  {values = dense<[1, 1, 1, 64]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %dq = tosa.reshape %arg3, %dshape_q : (tensor<1x64xi32>, !tosa.shape<4>) -> tensor<1x1x64x1xi32>
  %dk = tosa.reshape %arg3, %dshape_k : (tensor<1x64xi32>, !tosa.shape<4>) -> tensor<1x1x1x64xi32>
  %same = tosa.equal %dq, %dk : (tensor<1x1x64x1xi32>, tensor<1x1x1x64xi32>) -> tensor<1x1x64x64xi1>
  %12 = tosa.select %same, %8, %9 : (tensor<1x1x64x64xi1>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x64x64xf32>
  %13 = tosa.mul %arg0, %10, %1 : (tensor<1x4x64x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x64x16xf32>
  %14 = tosa.transpose %arg1 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x4x64x16xf32>) -> tensor<1x4x16x64xf32>
  %15 = tosa.mul %14, %10, %1 : (tensor<1x4x16x64xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x16x64xf32>
  %16 = tosa.reshape %13, %2 : (tensor<1x4x64x16xf32>, !tosa.shape<3>) -> tensor<4x64x16xf32>
  %17 = tosa.reshape %15, %3 : (tensor<1x4x16x64xf32>, !tosa.shape<3>) -> tensor<4x16x64xf32>
  %18 = tosa.matmul %16, %17, %4, %4 : (tensor<4x64x16xf32>, tensor<4x16x64xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x64x64xf32>
  %19 = tosa.reshape %18, %5 : (tensor<4x64x64xf32>, !tosa.shape<4>) -> tensor<1x4x64x64xf32>
  %20 = tosa.add %19, %12 : (tensor<1x4x64x64xf32>, tensor<1x1x64x64xf32>) -> tensor<1x4x64x64xf32>
  %21 = tosa.reduce_max %20 {axis = 3 : i32} : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x1xf32>
  %22 = tosa.sub %20, %21 : (tensor<1x4x64x64xf32>, tensor<1x4x64x1xf32>) -> tensor<1x4x64x64xf32>
  %23 = tosa.exp %22 : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf32>
  %24 = tosa.reduce_sum %23 {axis = 3 : i32} : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x1xf32>
  %25 = tosa.reciprocal %24 : (tensor<1x4x64x1xf32>) -> tensor<1x4x64x1xf32>
  %26 = tosa.mul %23, %25, %1 : (tensor<1x4x64x64xf32>, tensor<1x4x64x1xf32>, tensor<1xi8>) -> tensor<1x4x64x64xf32>
  %27 = tosa.cast %20 : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf64>
  %28 = tosa.equal %27, %11 : (tensor<1x4x64x64xf64>, tensor<1x1x1x1xf64>) -> tensor<1x4x64x64xi1>
  %29 = tosa.reduce_all %28 {axis = 3 : i32} : (tensor<1x4x64x64xi1>) -> tensor<1x4x64x1xi1>
  %30 = tosa.select %29, %0, %26 : (tensor<1x4x64x1xi1>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf32>
  %31 = tosa.reshape %30, %6 : (tensor<1x4x64x64xf32>, !tosa.shape<3>) -> tensor<4x64x64xf32>
  %32 = tosa.reshape %arg2, %2 : (tensor<1x4x64x16xf32>, !tosa.shape<3>) -> tensor<4x64x16xf32>
  %33 = tosa.matmul %31, %32, %4, %4 : (tensor<4x64x64xf32>, tensor<4x64x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x64x16xf32>
  %34 = tosa.reshape %33, %7 : (tensor<4x64x16xf32>, !tosa.shape<4>) -> tensor<1x4x64x16xf32>
  return %34 : tensor<1x4x64x16xf32>
}

// -----

// [1, S] ids on attention without a batch dim: collapsed to [S].
// CHECK-LABEL: func.func @doc_1xs_rank2
// CHECK-SAME: %[[DOC:[^:]+]]: tensor<1x8xi32>)
// CHECK: %[[IDS:.+]] = tensor.collapse_shape %[[DOC]] {{\[}}[0, 1]] : tensor<1x8xi32> into tensor<8xi32>
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} segment_ids %[[IDS]] {scale = 1.000000e+00 : f64}
func.func @doc_1xs_rank2(%q: tensor<8x4xf32>, %kt: tensor<4x8xf32>,
                         %v: tensor<8x4xf32>, %doc: tensor<1x8xi32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e88 = tensor.empty() : tensor<8x8xf32>
  %f88 = linalg.fill ins(%zero : f32) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d0)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %doc, %doc : tensor<8x8xf32>, tensor<1x8xi32>, tensor<1x8xi32>) outs(%e88 : tensor<8x8xf32>) {
  ^bb0(%in: f32, %dq: i32, %dk: i32, %out: f32):
    %same = arith.cmpi eq, %dq, %dk : i32
    %r = arith.select %same, %in, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<8x8xf32>) outs(%e88 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e84 = tensor.empty() : tensor<8x4xf32>
  %f84 = linalg.fill ins(%zero : f32) outs(%e84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f84 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}
