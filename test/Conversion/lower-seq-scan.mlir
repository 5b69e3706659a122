// RUN: cp-opt %s --cp-lower-to-runtime | FileCheck %s

// cp.seq_scan becomes one call of the runtime's sequence scan: input and a
// fresh output as unranked memrefs, then dim, balancer, seq_len and kind.

shard.grid @grid(shape = 4)

// CHECK-LABEL: func.func @scan
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x16xi64>
// CHECK: %[[IN:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x16xi64> to memref<1x16xi64>
// CHECK: %[[INU:.+]] = memref.cast %[[IN]] : memref<1x16xi64> to memref<*xi64>
// CHECK: %[[OUTU:.+]] = memref.cast %[[OUT]] : memref<1x16xi64> to memref<*xi64>
// CHECK: %[[DIM:.+]] = arith.constant 1 : i32
// CHECK: %[[BAL:.+]] = arith.constant 1 : i32
// CHECK: %[[S:.+]] = arith.constant 64 : i64
// CHECK: %[[KIND:.+]] = arith.constant 0 : i32
// CHECK: call @cprt_c_seq_scan_i64(%[[INU]], %[[OUTU]], %[[DIM]], %[[BAL]], %[[S]], %[[KIND]]) : (memref<*xi64>, memref<*xi64>, i32, i32, i64, i32) -> ()
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: call @cprt_c_seq_scan_f32({{.+}}) : (memref<*xf32>, memref<*xf32>, i32, i32, i64, i32) -> ()
// CHECK: func.func private @cprt_c_seq_scan_i64(memref<*xi64>, memref<*xi64>, i32, i32, i64, i32)
func.func @scan(%x: tensor<1x16xi64>, %y: tensor<2x16xf32>) -> (tensor<1x16xi64>, tensor<2x16xf32>) {
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
  %b = cp.seq_scan %y on @grid dim = 1 balancer = <striped> seq_len = 64 kind = <prod> : tensor<2x16xf32>
  return %a, %b : tensor<1x16xi64>, tensor<2x16xf32>
}
