// REQUIRES: ptxas
// load-balance=per_document_head_tail on the GPU path: the ring over the
// runtime's per-document layout lowers to the GPU twins
// cprt_gpu_ring_docs_{fwd,bwd}_<T> (the whole sequence's document ids in the
// segment-id buffer, flags: causal | segments = 9, or segments = 8), never
// to the host entries cprt_c_ring_docs_*. The module's inputs stay sharded
// outside it (cprt-gpu-run shards them by the ids of the input the AOT
// header names); scripts/gpu-compiled.sh runs it (case documents_perdoc).

// RUN: cp-opt %S/../../e2e/Inputs/docs_gqa_causal_f32.linalg.mlir --cp-pipeline="grid-size=3 load-balance=per_document_head_tail" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=FWD
// RUN: cp-opt %S/../../e2e/Inputs/docs_f32.linalg.mlir --cp-pipeline="grid-size=4 rotate=alltoall load-balance=per_document_head_tail" --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=NONCAUSAL
// RUN: cp-opt %s --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s --check-prefix=BWD

// FWD-LABEL: llvm.func @docs_gqa_causal_f32
// FWD: %[[FLAGS:.+]] = llvm.mlir.constant(9 : i32) : i32
// FWD-NOT: llvm.call @cprt_c_
// FWD-NOT: llvm.call @cprt_gpu_shard
// FWD: llvm.call @cprt_gpu_ring_docs_fwd_f32({{.*}}, %[[FLAGS]],
// FWD-NOT: llvm.call @cprt_gpu_unshard
// FWD: llvm.func @_mlir_ciface_docs_gqa_causal_f32
// FWD: llvm.func @cprt_gpu_ring_docs_fwd_f32(i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, f64, i32, i32, i32, i64, i64)

// NONCAUSAL-LABEL: llvm.func @docs_f32
// NONCAUSAL-NOT: llvm.call @cprt_c_
// NONCAUSAL: llvm.call @cprt_gpu_ring_docs_fwd_f32(
// NONCAUSAL-NOT: llvm.call @cprt_c_

// BWD-LABEL: llvm.func @ring_docs_bf16
// BWD: llvm.call @cprt_gpu_ring_docs_fwd_bf16(
// BWD: llvm.call @cprt_gpu_ring_docs_bwd_bf16(
// BWD-NOT: llvm.call @cprt_c_
module {
  shard.grid @grid(shape = 2)
  func.func @ring_docs_bf16(%q: tensor<1x2x32x8xbf16>, %d: tensor<64xi32>, %lse: tensor<1x2x32xf32>) -> (tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>) {
    %o = cp.ring_attention %q, %q, %q segment_ids %d on @grid {balancer = #cp.balancer<per_document_head_tail>, rotate = #cp.rotate<ring>, is_causal, seq_len = 64 : i64} : (tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<64xi32>) -> tensor<1x2x32x8xbf16>
    %dq, %dk, %dv = cp.ring_attention_backward %q, %q, %q, %q, %o, %lse segment_ids %d on @grid {balancer = #cp.balancer<per_document_head_tail>, rotate = #cp.rotate<ring>, is_causal, seq_len = 64 : i64} : (tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32xf32>, tensor<64xi32>) -> (tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>)
    return %o, %dq : tensor<1x2x32x8xbf16>, tensor<1x2x32x8xbf16>
  }
}
