// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.linalg.mlir --cp-detect-attention=report-misses | FileCheck %s --check-prefix=LINALG
// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.tosa.mlir --cp-detect-attention=report-misses | FileCheck %s --check-prefix=TOSA

// A Llama-style block from torch-mlir (RMSNorm, RoPE from a cos/sin table
// gathered by a position buffer, GQA causal attention, SwiGLU MLP). The
// attention becomes one cp.sdpa whose query/key are the RoPE outputs (the
// key collapsed from RoPE's [.., D/2, 2] stack, not head-repeated) and whose
// value is the projection's [B, S, Hkv, D] view transposed to [B, Hkv, S, D].
// The rest of the block (norms, RoPE, the SiLU's exp, projections) stays, and
// the SiLU is not reported as a softmax candidate (no remark).

// LINALG-LABEL: func.func @llama_block_f32
// LINALG: math.rsqrt
// LINALG: %[[K:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x64x8x2xf32> into tensor<1x2x64x16xf32>
// LINALG: %[[O:.+]] = cp.sdpa %[[Q:.+]], %[[K]], %[[V:.+]] {enable_gqa, is_causal, scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) -> tensor<1x4x64x16xf32>
// LINALG: linalg.transpose ins(%[[O]]
// LINALG: math.exp
// LINALG-NOT: math.exp
// LINALG-NOT: cp.sdpa
// LINALG: return

// TOSA-LABEL: func.func @llama_block_f32
// TOSA: tosa.rsqrt
// TOSA: %[[O:.+]] = cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} {enable_gqa, is_causal, scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) -> tensor<1x4x64x16xf32>
// TOSA-NOT: tosa.exp
// TOSA-NOT: tosa.reduce_max
// TOSA: tosa.sigmoid
// TOSA: return
