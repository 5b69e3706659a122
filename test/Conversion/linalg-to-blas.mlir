// RUN: cp-opt %s --split-input-file --cp-linalg-to-blas | FileCheck %s

// fp32 matrix products on buffers become cprt_c_matmul_f32 calls; the order
// of the (m, k) / (k, n) dims in the operands' maps becomes the transpose
// flags (1 = A, 2 = B), and a zero fill of the result right before the
// product becomes beta = 0 (no ACCUMULATE = 4).

// CHECK-LABEL: func.func @plain
// CHECK-SAME: (%[[A:.+]]: memref<64x32xf32>, %[[B:.+]]: memref<32x16xf32>, %[[C:.+]]: memref<64x16xf32>)
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[UA:.+]] = memref.cast %[[A]] : memref<64x32xf32> to memref<*xf32>
// CHECK-DAG: %[[UB:.+]] = memref.cast %[[B]] : memref<32x16xf32> to memref<*xf32>
// CHECK-DAG: %[[UC:.+]] = memref.cast %[[C]] : memref<64x16xf32> to memref<*xf32>
// CHECK-DAG: %[[F:.+]] = arith.constant 0 : i32
// CHECK: call @cprt_c_matmul_f32(%[[UA]], %[[UB]], %[[UC]], %[[F]])
// CHECK-NOT: linalg.matmul
// CHECK: func.func private @cprt_c_matmul_f32(memref<*xf32>, memref<*xf32>, memref<*xf32>, i32)
func.func @plain(%a: memref<64x32xf32>, %b: memref<32x16xf32>, %c: memref<64x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x16xf32>)
  linalg.matmul ins(%a, %b : memref<64x32xf32>, memref<32x16xf32>)
                outs(%c : memref<64x16xf32>)
  return
}

// -----

// A transposed weight (as nn.Linear's x · Wᵀ after cp-fuse-elementwise), and
// an output that is accumulated into (no fill): TRANS_B | ACCUMULATE = 6.
// CHECK-LABEL: func.func @transposed_b
// CHECK: %[[F:.+]] = arith.constant 6 : i32
// CHECK: call @cprt_c_matmul_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[F]])
// CHECK-NOT: linalg.matmul
func.func @transposed_b(%a: memref<64x32xf32>, %w: memref<16x32xf32>, %c: memref<64x16xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %w : memref<64x32xf32>, memref<16x32xf32>)
      outs(%c : memref<64x16xf32>)
  return
}

// -----

// A generic contraction with a transposed left operand: TRANS_A | ACCUMULATE.
// CHECK-LABEL: func.func @generic_transposed_a
// CHECK: %[[F:.+]] = arith.constant 5 : i32
// CHECK: call @cprt_c_matmul_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[F]])
// CHECK-NOT: linalg.generic
func.func @generic_transposed_a(%a: memref<32x64xf32>, %b: memref<32x16xf32>, %c: memref<64x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                   affine_map<(m, n, k) -> (k, n)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<32x64xf32>, memref<32x16xf32>) outs(%c : memref<64x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Batched, and a strided view (a subview with unit inner stride) is fine.
// CHECK-LABEL: func.func @batched
// CHECK: memref.cast %{{.+}} : memref<4x8x16xf32, strided<[256, 32, 1]>> to memref<*xf32>
// CHECK: %[[F:.+]] = arith.constant 4 : i32
// CHECK: call @cprt_c_matmul_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[F]])
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<4x8x32xf32>, %b: memref<4x16x32xf32>, %c: memref<4x8x16xf32>) {
  %bv = memref.subview %b[0, 0, 0] [4, 16, 16] [1, 1, 1]
      : memref<4x16x32xf32> to memref<4x16x16xf32, strided<[512, 32, 1]>>
  %av = memref.subview %a[0, 0, 0] [4, 8, 16] [1, 1, 1]
      : memref<4x8x32xf32> to memref<4x8x16xf32, strided<[256, 32, 1]>>
  linalg.batch_matmul ins(%av, %bv : memref<4x8x16xf32, strided<[256, 32, 1]>>, memref<4x16x16xf32, strided<[512, 32, 1]>>)
                      outs(%c : memref<4x8x16xf32>)
  return
}

// -----

// Left to the loops: other element types, a non-unit inner stride, a body
// that is not a plain multiply-add, a non-zero fill (kept, accumulated into).
// CHECK-LABEL: func.func @not_blas
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<8x8xbf16>, memref<8x8xbf16>)
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<8x8xf32, strided<[16, 2]>>, memref<8x8xf32>)
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.fill ins(%{{.+}} : f32)
// CHECK: %[[F:.+]] = arith.constant 4 : i32
// CHECK: call @cprt_c_matmul_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[F]])
// CHECK-NOT: call
func.func @not_blas(%h: memref<8x8xbf16>, %s: memref<16x16xf32>, %a: memref<8x8xf32>,
                    %c: memref<8x8xf32>, %hc: memref<8x8xbf16>) {
  linalg.matmul ins(%h, %h : memref<8x8xbf16>, memref<8x8xbf16>) outs(%hc : memref<8x8xbf16>)
  %sv = memref.subview %s[0, 0] [8, 8] [1, 2] : memref<16x16xf32> to memref<8x8xf32, strided<[16, 2]>>
  linalg.matmul ins(%sv, %a : memref<8x8xf32, strided<[16, 2]>>, memref<8x8xf32>) outs(%c : memref<8x8xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (k, n)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %a : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %e = math.exp %x : f32
    %p = arith.mulf %e, %y : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<8x8xf32>)
  linalg.matmul ins(%a, %a : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>)
  return
}
