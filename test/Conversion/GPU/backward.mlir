// REQUIRES: ptxas
// The backward on the GPU path: forward + backward of causal GQA attention
// (test/e2e/Inputs/fwd_bwd*.mlir) compiled with cp-lower-to-llvm{target=cuda}
// single-device (cp.sdpa / cp.sdpa_backward) and context parallel on 2 and 3
// (padded) ranks with the ring left to the runtime (expand=false): every
// attention is a call of a cprt_gpu_* twin on device buffers, nothing is
// malloc'ed or copied through the host, the kernels are an sm_90 binary.
// scripts/gpu-compiled.sh runs the same modules on the GPU (cases backward,
// backward_bf16).

// RUN: cp-opt %S/../../e2e/Inputs/fwd_bwd.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefixes=SINGLE,SINGLE-F32
// RUN: cp-opt %S/../../e2e/Inputs/fwd_bwd_bf16.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefixes=SINGLE,SINGLE-BF16
// RUN: cp-opt %S/../../e2e/Inputs/fwd_bwd.mlir --cp-pipeline="grid-size=2 rotate=ring load-balance=head_tail expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefixes=RING,RING-F32
// RUN: cp-opt %S/../../e2e/Inputs/fwd_bwd_bf16.mlir --cp-pipeline="grid-size=3 rotate=alltoall load-balance=head_tail pad=true expand=false" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefixes=RING,RING-BF16

// SINGLE-LABEL: llvm.func @fwd_bwd
// SINGLE-NOT: llvm.call @malloc
// SINGLE-NOT: llvm.call @mgpuMemcpy
// SINGLE-F32: llvm.call @cprt_gpu_sdpa_fwd_f32(
// SINGLE-BF16: llvm.call @cprt_gpu_sdpa_fwd_bf16(
// SINGLE-NOT: llvm.call @mgpuMemcpy
// SINGLE-F32: llvm.call @cprt_gpu_sdpa_bwd_f32(
// SINGLE-BF16: llvm.call @cprt_gpu_sdpa_bwd_bf16(
// SINGLE-NOT: llvm.call @malloc
// SINGLE: llvm.func @_mlir_ciface_fwd_bwd

// RING-LABEL: llvm.func @fwd_bwd
// RING-NOT: llvm.call @malloc
// RING-NOT: llvm.call @mgpuMemcpy
// RING-F32: llvm.call @cprt_gpu_ring_fwd_f32(
// RING-BF16: llvm.call @cprt_gpu_ring_fwd_bf16(
// RING-NOT: llvm.call @mgpuMemcpy
// RING-F32: llvm.call @cprt_gpu_ring_bwd_f32(
// RING-BF16: llvm.call @cprt_gpu_ring_bwd_bf16(
// RING-NOT: llvm.call @malloc
// RING-NOT: cprt_c_{{(sdpa|ring)}}
// RING: llvm.func @_mlir_ciface_fwd_bwd
// RING: gpu.binary
