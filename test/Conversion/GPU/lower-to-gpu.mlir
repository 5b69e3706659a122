// REQUIRES: ptxas
// RUN: cp-opt %s --cp-lower-to-llvm="target=cuda chip=sm_90" | FileCheck %s

// target=cuda: the GEMM becomes a cuBLAS call of the runtime (B stored
// [N, K]: the transpose is folded into the call's flags), the softmax and
// the elementwise ops become kernels embedded as one gpu.binary (sm_90
// fatbin), every buffer is device memory (gpu.alloc -> mgpuMemAlloc), the
// constant is uploaded once at entry, and nothing is malloc'ed or touched
// on the host.

// CHECK-LABEL: llvm.func @block(
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @mgpuMemAlloc
// CHECK: llvm.call @mgpuMemcpy
// CHECK: gpu.launch_func @{{.+}}::@{{.+}} blocks in
// CHECK: llvm.call @cprt_gpu_gemm_f32_f32({{.+}}) : (i64, !llvm.ptr, i64, !llvm.ptr, i64, !llvm.ptr, i32) -> ()
// CHECK-NOT: llvm.call @mgpuMemcpy
// CHECK: gpu.launch_func
// CHECK: llvm.call @mgpuMemFree
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.func @_mlir_ciface_block
// CHECK: gpu.binary @{{.+}} [#gpu.object<#nvvm.target<chip = "sm_90"
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @block(%x: tensor<64x32xf32>, %w: tensor<16x32xf32>) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %bias = arith.constant dense<0.5> : tensor<16xf32>
  %e = tensor.empty() : tensor<64x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %y = linalg.matmul indexing_maps = [#mk, #nk, #mn] ins(%x, %w : tensor<64x32xf32>, tensor<16x32xf32>) outs(%z : tensor<64x16xf32>) -> tensor<64x16xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%y, %bias : tensor<64x16xf32>, tensor<16xf32>) outs(%e : tensor<64x16xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = math.exp %s : f32
    linalg.yield %t : f32
  } -> tensor<64x16xf32>
  %sm = linalg.softmax dimension(1) ins(%b : tensor<64x16xf32>) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %sm : tensor<64x16xf32>
}
