// RUN: cp-opt %s --split-input-file --cp-lower-to-runtime | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-gpu-lower-to-runtime | FileCheck %s --check-prefix=GPU

// cp.ring_attention(_backward) with ulysses_size (the hybrid strategy) ->
// cprt_c_hybrid_{fwd,bwd}_<T>: the runtime runs Ulysses in groups of U and
// the ring of W/U groups. Arguments after the buffers: scale, flags
// (causal=1 | lse=4), rotate (ring=2), balancer (head_tail=1), seq_len,
// window, ulysses_size, ring_size = W/U.

shard.grid @grid(shape = 8)
// CHECK-LABEL: func.func @hybrid_fwd
// CHECK: call @cprt_c_hybrid_fwd_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c5_i32, %c2_i32, %c1_i32, %c128_i64, %c0_i64, %c4_i64, %c2_i64)
// CHECK-NOT: cprt_c_ring_fwd
// CHECK: func.func private @cprt_c_hybrid_fwd_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, f64, i32, i32, i32, i64, i64, i64, i64)
// The GPU target calls the device twins with the same arguments.
// GPU-LABEL: func.func @hybrid_fwd
// GPU: call @cprt_gpu_hybrid_fwd_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c5_i32, %c2_i32, %c1_i32, %c128_i64, %c0_i64, %c4_i64, %c2_i64)
// GPU-NOT: cprt_c_hybrid
func.func @hybrid_fwd(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x16x32xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x8x16xf32>) {
  %o, %lse = cp.ring_attention %q, %k, %k on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, enable_gqa, seq_len = 128 : i64, ulysses_size = 4 : i64} : (tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>) -> (tensor<1x8x16x32xf32>, tensor<1x8x16xf32>)
  return %o, %lse : tensor<1x8x16x32xf32>, tensor<1x8x16xf32>
}

// -----

shard.grid @grid(shape = 6)
// CHECK-LABEL: func.func @hybrid_bwd
// CHECK: call @cprt_c_hybrid_bwd_bf16({{.*}}, %c0_i32, %c2_i32, %c2_i32{{.*}}, %c96_i64, %c0_i64, %c3_i64, %c2_i64)
// GPU-LABEL: func.func @hybrid_bwd
// GPU: call @cprt_gpu_hybrid_bwd_bf16({{.*}}, %c96_i64, %c0_i64, %c3_i64, %c2_i64)
// CHECK: func.func private @cprt_c_hybrid_bwd_bf16(memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, memref<*xf32>, memref<*xbf16>, memref<*xbf16>, memref<*xbf16>, f64, i32, i32, i32, i64, i64, i64, i64)
func.func @hybrid_bwd(%do: tensor<1x6x16x8xbf16>, %q: tensor<1x6x16x8xbf16>, %k: tensor<1x3x16x8xbf16>, %o: tensor<1x6x16x8xbf16>, %l: tensor<1x6x16xf32>) -> tensor<1x6x16x8xbf16> {
  %dq, %dk, %dv = cp.ring_attention_backward %do, %q, %k, %k, %o, %l on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<striped>, enable_gqa, seq_len = 96 : i64, ulysses_size = 3 : i64} : (tensor<1x6x16x8xbf16>, tensor<1x6x16x8xbf16>, tensor<1x3x16x8xbf16>, tensor<1x3x16x8xbf16>, tensor<1x6x16x8xbf16>, tensor<1x6x16xf32>) -> (tensor<1x6x16x8xbf16>, tensor<1x3x16x8xbf16>, tensor<1x3x16x8xbf16>)
  return %dq : tensor<1x6x16x8xbf16>
}
