// REQUIRES: ptxas
// Document ids and explicit masks on the GPU path: the hand-written per-rank
// ring over packed documents (test/e2e/Inputs/doc_ring.mlir.in on 3 ranks)
// shards the document ids on the device and passes them to the ring's GPU
// twin (flags: causal | segments = 9); its single-device form (doc_mask.mlir)
// builds the same-document mask with a kernel and passes it to the sdpa
// twin as an additive f32 buffer (flags: mask | lse = 6 plus causal).
// @doc_ring_bwd adds the backward (ring and sdpa). scripts/gpu-compiled.sh
// runs both on the GPU (cases documents, documents_bwd).

// RUN: sed -e 's/NRANKS/3/g' -e 's/LOCAL/16/g' %S/../../e2e/Inputs/doc_ring.mlir.in > %t.ring.mlir
// RUN: cp-opt %t.ring.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=RING
// RUN: cp-opt %S/../../e2e/Inputs/doc_mask.mlir --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=MASK

// RING-LABEL: llvm.func @doc_ring
// RING: %[[FLAGS:.+]] = llvm.mlir.constant(9 : i32) : i32
// RING-NOT: llvm.call @malloc
// RING: llvm.call @cprt_gpu_shard_i32(
// RING-NOT: llvm.call @mgpuMemcpy
// RING: llvm.call @cprt_gpu_ring_fwd_f32({{.*}}, %[[FLAGS]],
// RING: llvm.call @cprt_gpu_unshard_f32(
// RING-NOT: llvm.call @malloc
// RING: llvm.func @_mlir_ciface_doc_ring
// RING-LABEL: llvm.func @doc_ring_bwd
// RING: llvm.call @cprt_gpu_ring_fwd_f32(
// RING: llvm.call @cprt_gpu_ring_bwd_f32(
// RING-NOT: llvm.call @malloc
// RING: llvm.func @_mlir_ciface_doc_ring_bwd

// MASK-LABEL: llvm.func @doc_ring
// MASK-NOT: llvm.call @malloc
// MASK: gpu.launch_func
// MASK-NOT: llvm.call @mgpuMemcpy
// MASK: llvm.call @cprt_gpu_sdpa_fwd_f32(
// MASK-NOT: llvm.call @malloc
// MASK-LABEL: llvm.func @doc_ring_bwd
// MASK: llvm.call @cprt_gpu_sdpa_fwd_f32(
// MASK-NOT: llvm.call @mgpuMemcpy
// MASK: llvm.call @cprt_gpu_sdpa_bwd_f32(
// MASK-NOT: llvm.call @malloc
// MASK: gpu.binary
