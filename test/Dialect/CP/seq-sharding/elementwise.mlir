// RUN: cp-opt %s --cp-context-parallel="grid-size=2" | FileCheck %s

// arith and math ops act element by element: the same dim on all operands
// and results. A constant along the sequence is sharded (cp.shard); a splat
// gets a local copy.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x4x2xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 8, balancer = head_tail>}, %[[Y:[^:]+]]: tensor<1x4x2xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 8, balancer = head_tail>})
// CHECK-SAME: -> (tensor<1x4x2xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 8, balancer = head_tail>})
// CHECK: %[[C:.+]] = arith.constant dense<{{.+}}> : tensor<1x8x2xf32>
// CHECK: %[[CS:.+]] = cp.shard %[[C]] on @cp_grid dim = 1 balancer = <head_tail> : tensor<1x8x2xf32> -> tensor<1x4x2xf32>
// CHECK: %[[A:.+]] = arith.addf %[[X]], %[[Y]] : tensor<1x4x2xf32>
// CHECK: %[[E:.+]] = math.exp %[[A]] : tensor<1x4x2xf32>
// CHECK: %[[M:.+]] = arith.mulf %[[E]], %[[CS]] : tensor<1x4x2xf32>
// CHECK: %[[K:.+]] = arith.constant dense<2.000000e+00> : tensor<1x4x2xf32>
// CHECK: arith.subf %[[M]], %[[K]] : tensor<1x4x2xf32>
func.func @elementwise(%x: tensor<1x8x2xf32>, %y: tensor<1x8x2xf32>) -> tensor<1x8x2xf32> {
  %c = arith.constant dense<[[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]]> : tensor<1x8x2xf32>
  %k = arith.constant dense<2.0> : tensor<1x8x2xf32>
  %a = arith.addf %x, %y : tensor<1x8x2xf32>
  %e = math.exp %a : tensor<1x8x2xf32>
  %m = arith.mulf %e, %c : tensor<1x8x2xf32>
  %s = arith.subf %m, %k : tensor<1x8x2xf32>
  %o = cp.sdpa %s, %s, %s : (tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>) -> tensor<1x8x2xf32>
  return %o : tensor<1x8x2xf32>
}
