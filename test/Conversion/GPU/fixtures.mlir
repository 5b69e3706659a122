// REQUIRES: ptxas
// Every torch-mlir fixture (linalg and TOSA) through the GPU lowering:
// context parallel on 2 ranks with the ring left to the runtime
// (expand=false), then cp-lower-to-llvm{target=cuda chip=sm_90}. What must
// hold: the non-attention ops are outlined kernels embedded as gpu.binary
// (sm_90), the attention is one runtime call on device buffers, the GEMMs
// are cuBLAS calls, and the host code never mallocs or copies through the
// host (the only mgpuMemcpy calls are the constant uploads at entry, before
// the first kernel). Fixtures with explicit masks are refused (unsupported.mlir
// and MASK below).

// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_causal_bf16.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f16.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_plain_f16.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_scale_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_scale_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_b2_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_gqa_causal_b2_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SDPA
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_window_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=WINDOW
// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.linalg.mlir --cp-pipeline="grid-size=4 rotate=ring load-balance=head_tail expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=LLAMA
// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.linalg.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SINGLE
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=MASK
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=MASK
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_window_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=WINDOW
// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.tosa.mlir --cp-pipeline="grid-size=4 rotate=ring load-balance=head_tail expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=LLAMA
// RUN: cp-opt %S/../../Fixtures/Inputs/llama_block_f32.tosa.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=SINGLE
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_boolmask_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=MASK
// RUN: cp-opt %S/../../Fixtures/Inputs/sdpa_floatmask_f32.tosa.mlir --cp-pipeline="grid-size=2 expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=MASK

// SDPA-LABEL: llvm.func @sdpa_
// SDPA-NOT: llvm.call @malloc
// SDPA-NOT: llvm.call @mgpuMemcpy
// SDPA: llvm.call @cprt_gpu_ring_fwd_{{f32|bf16|f16}}(
// SDPA-NOT: llvm.call @mgpuMemcpy
// SDPA: gpu.launch_func
// SDPA-NOT: llvm.call @mgpuMemcpy
// SDPA-NOT: llvm.call @malloc
// SDPA: llvm.func @_mlir_ciface_sdpa_
// SDPA: gpu.binary @{{.+}} [#gpu.object<#nvvm.target<chip = "sm_90"

// WINDOW-LABEL: llvm.func @sdpa_window_f32
// WINDOW: llvm.call @cprt_c_rank()
// WINDOW: gpu.launch_func
// WINDOW-NOT: llvm.call @malloc
// WINDOW: gpu.binary

// The Llama block on 4 ranks: positions sharded on the device, projections
// and MLP as cuBLAS GEMMs (fp32), the GQA causal attention as the runtime's
// ring, RMSNorm / RoPE / SwiGLU / residuals as kernels.
// LLAMA-LABEL: llvm.func @llama_block_f32
// LLAMA-NOT: llvm.call @malloc
// LLAMA: llvm.call @cprt_gpu_shard_i64(
// LLAMA: gpu.launch_func
// LLAMA-NOT: llvm.call @mgpuMemcpy
// LLAMA-COUNT-3: llvm.call @cprt_gpu_gemm_f32_f32(
// LLAMA: llvm.call @cprt_gpu_ring_fwd_f32(
// LLAMA-COUNT-4: llvm.call @cprt_gpu_gemm_f32_f32(
// LLAMA-NOT: llvm.call @mgpuMemcpy
// LLAMA-NOT: llvm.call @cprt_gpu_gemm
// LLAMA: llvm.call @mgpuMemFree
// LLAMA-NOT: llvm.call @malloc
// LLAMA: llvm.func @_mlir_ciface_llama_block_f32
// LLAMA: gpu.binary

// Without the cp pipeline the whole block (its decomposed attention too)
// is kernels and GEMMs: no runtime attention call.
// SINGLE-LABEL: llvm.func @llama_block_f32
// SINGLE-NOT: cprt_gpu_ring
// SINGLE: llvm.call @cprt_gpu_gemm_f32_f32(
// SINGLE-NOT: cprt_gpu_ring
// SINGLE: llvm.func @_mlir_ciface_llama_block_f32

// MASK-LABEL: llvm.func @sdpa_
// MASK-NOT: llvm.call @malloc
// MASK-NOT: llvm.call @mgpuMemcpy
// MASK: llvm.call @cprt_gpu_ring_fwd_f32(
// MASK-NOT: llvm.call @malloc
// MASK-NOT: llvm.call @mgpuMemcpy
// MASK: llvm.func @_mlir_ciface_sdpa_
// MASK: gpu.binary
