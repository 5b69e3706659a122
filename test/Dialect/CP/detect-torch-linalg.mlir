// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=PLAIN
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=CAUSAL
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_scale_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=SCALE
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=BF16
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f16.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=F16
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=BOOL
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=FLOAT
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=GQA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_window_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=WINDOW
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_b2_f32.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=B2

// torch-mlir's linalg-on-tensors output for F.scaled_dot_product_attention (generated
// by scripts/gen-fixtures.py, see test/Fixtures/README.md) raised to one
// cp.sdpa on the function arguments: scale folded from the two sqrt(scale)
// multiplies, causal masks recognised from the arange/compare/select mask,
// GQA on the un-repeated key/value, bf16/f16 without the extf/truncf, and
// nothing of the decomposition left.

// PLAIN-LABEL: func.func @sdpa_plain_f32
// PLAIN-NOT: linalg.batch_matmul
// PLAIN: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32>
// PLAIN-NOT: linalg.batch_matmul
// PLAIN-NOT: math.exp
// PLAIN: return %[[O]]

// CAUSAL-LABEL: func.func @sdpa_causal_f32
// CAUSAL-NOT: linalg.batch_matmul
// CAUSAL: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {is_causal, scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32>
// CAUSAL-NOT: linalg.batch_matmul
// CAUSAL-NOT: math.exp
// CAUSAL: return %[[O]]

// SCALE-LABEL: func.func @sdpa_scale_f32
// SCALE-NOT: linalg.batch_matmul
// SCALE: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {scale = 0.3000000{{[0-9]+}} : f64}
// SCALE-NOT: linalg.batch_matmul
// SCALE-NOT: math.exp
// SCALE: return %[[O]]

// BF16-LABEL: func.func @sdpa_causal_bf16
// BF16-NOT: linalg.batch_matmul
// BF16: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {is_causal, scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xbf16>, tensor<1x4x64x16xbf16>, tensor<1x4x64x16xbf16>) -> tensor<1x4x64x16xbf16>
// BF16-NOT: linalg.batch_matmul
// BF16-NOT: math.exp
// BF16: return %[[O]]

// F16-LABEL: func.func @sdpa_plain_f16
// F16-NOT: linalg.batch_matmul
// F16: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf16>, tensor<1x4x64x16xf16>, tensor<1x4x64x16xf16>) -> tensor<1x4x64x16xf16>
// F16-NOT: linalg.batch_matmul
// F16-NOT: math.exp
// F16: return %[[O]]

// BOOL-LABEL: func.func @sdpa_boolmask_f32
// BOOL-NOT: linalg.batch_matmul
// BOOL: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 mask %arg3 {scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x1x64x64xi1>) -> tensor<1x4x64x16xf32>
// BOOL-NOT: linalg.batch_matmul
// BOOL-NOT: math.exp
// BOOL: return %[[O]]

// FLOAT-LABEL: func.func @sdpa_floatmask_f32
// FLOAT-NOT: linalg.batch_matmul
// FLOAT: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 mask %arg3 {scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x64xf32>) -> tensor<1x4x64x16xf32>
// FLOAT-NOT: linalg.batch_matmul
// FLOAT-NOT: math.exp
// FLOAT: return %[[O]]

// GQA-LABEL: func.func @sdpa_gqa_causal_f32
// GQA-NOT: linalg.batch_matmul
// GQA: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {enable_gqa, is_causal, scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) -> tensor<1x4x64x16xf32>
// GQA-NOT: linalg.batch_matmul
// GQA-NOT: math.exp
// GQA: return %[[O]]

// A position mask that is not causal (causal and a 16-token window):
// cp.flex_attention with the predicate as mask_mod.
// WINDOW-LABEL: func.func @sdpa_window_f32
// WINDOW: %[[O:.+]] = cp.flex_attention %arg0, %arg1, %arg2 {scale = 2.500000e-01 : f64}
// WINDOW-SAME: mask_mod {
// WINDOW-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// WINDOW-DAG: arith.index_cast %[[QI]]
// WINDOW-DAG: arith.index_cast %[[KI]]
// WINDOW: arith.cmpi
// WINDOW: arith.andi
// WINDOW: cp.yield %{{.+}} : i1
// WINDOW-NOT: linalg.batch_matmul
// WINDOW: return %[[O]]

// Batch 2: the [B*H, S, D] collapse mixes the batch into the heads; the
// head index of the repeated key/value is recovered as h floordiv 2.
// B2-LABEL: func.func @sdpa_gqa_causal_b2_f32
// B2: %[[O:.+]] = cp.sdpa %arg0, %arg1, %arg2 {enable_gqa, is_causal, scale = 2.500000e-01 : f64} : (tensor<2x4x64x16xf32>, tensor<2x2x64x16xf32>, tensor<2x2x64x16xf32>) -> tensor<2x4x64x16xf32>
// B2-NOT: linalg.batch_matmul
// B2: return %[[O]]
