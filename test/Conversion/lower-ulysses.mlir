// RUN: cp-opt %s --cp-lower-to-runtime | FileCheck %s
// RUN: cp-opt %s --cp-lower-to-llvm | FileCheck %s --check-prefix=LLVM

// cp.seq_to_heads / cp.heads_to_seq become calls of the runtime's Ulysses
// all-to-all: (in, out, elem_bytes, head_dim, seq_dim, balancer, seq_len),
// named by the element type.

shard.grid @cp_grid(shape = 4)

// CHECK-LABEL: func.func @ulysses
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x2x50x16xbf16>
// CHECK: call @cprt_c_seq_to_heads_bf16(%{{.+}}, %{{.+}}, %c2_i64, %c1_i32, %c2_i32, %c2_i32_{{.*}}, %c50_i64)
// CHECK: memref.alloc() : memref<1x8x14xf32>
// CHECK: call @cprt_c_heads_to_seq_f32(%{{.+}}, %{{.+}}, %c4_i64, %c1_i32{{.*}}, %c2_i32{{.*}}, %c1_i32{{.*}}, %c50_i64{{.*}})
// CHECK-NOT: cp.seq_to_heads
// CHECK-NOT: cp.heads_to_seq
// CHECK-DAG: func.func private @cprt_c_seq_to_heads_bf16(memref<*xbf16>, memref<*xbf16>, i64, i32, i32, i32, i64)
// CHECK-DAG: func.func private @cprt_c_heads_to_seq_f32(memref<*xf32>, memref<*xf32>, i64, i32, i32, i32, i64)
// LLVM: llvm.call @cprt_c_seq_to_heads_bf16
// LLVM: llvm.call @cprt_c_heads_to_seq_f32
func.func @ulysses(%x: tensor<1x8x13x16xbf16>, %l: tensor<1x2x50xf32>)
    -> (tensor<1x2x50x16xbf16>, tensor<1x8x14xf32>) {
  %h = cp.seq_to_heads %x on @cp_grid head_dim = 1 seq_dim = 2 balancer = <striped> seq_len = 50 {pad} : tensor<1x8x13x16xbf16> -> tensor<1x2x50x16xbf16>
  %s = cp.heads_to_seq %l on @cp_grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 50 {pad} : tensor<1x2x50xf32> -> tensor<1x8x14xf32>
  return %h, %s : tensor<1x2x50x16xbf16>, tensor<1x8x14xf32>
}
