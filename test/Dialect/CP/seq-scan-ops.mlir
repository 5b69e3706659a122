// RUN: cp-opt %s | cp-opt | FileCheck %s
// RUN: cp-opt %s --mlir-print-op-generic | cp-opt | FileCheck %s

shard.grid @grid(shape = 4)
shard.grid @grid2d(shape = 2x4)

// CHECK-LABEL: func.func @seq_scan
// CHECK: cp.seq_scan %{{.+}} on @grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
// CHECK: cp.seq_scan %{{.+}} on @grid dim = 2 balancer = <striped> seq_len = 14 kind = <prod> {pad} : tensor<2x3x4x8xf32>
// CHECK: cp.seq_scan %{{.+}} on @grid2d grid_axes = [1] dim = 0 balancer = <none> seq_len = 8 kind = <sum> : tensor<2xf64>
func.func @seq_scan(%m: tensor<1x16xi64>, %x: tensor<2x3x4x8xf32>, %y: tensor<2xf64>)
    -> (tensor<1x16xi64>, tensor<2x3x4x8xf32>, tensor<2xf64>) {
  %a = cp.seq_scan %m on @grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
  %b = cp.seq_scan %x on @grid dim = 2 balancer = <striped> seq_len = 14 kind = <prod> {pad} : tensor<2x3x4x8xf32>
  %c = cp.seq_scan %y on @grid2d grid_axes = [1] dim = 0 balancer = <none> seq_len = 8 kind = <sum> : tensor<2xf64>
  return %a, %b, %c : tensor<1x16xi64>, tensor<2x3x4x8xf32>, tensor<2xf64>
}
