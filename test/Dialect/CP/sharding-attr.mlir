// RUN: cp-opt %s | cp-opt | FileCheck %s
// RUN: cp-opt %s --mlir-print-op-generic | cp-opt | FileCheck %s
// RUN: cp-opt %s -emit-bytecode | cp-opt | FileCheck %s

// Round trip of #cp.sharding, the typed record of how a function argument or
// result is sharded along the sequence (written by --cp-context-parallel).
// Parameters may come in any order; `pad` is printed only when true.

shard.grid @cp_grid(shape = 4)

// CHECK-LABEL: func.func @f
// CHECK-SAME: (%{{.+}}: tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>}
// CHECK-SAME: %{{.+}}: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 12, balancer = striped, pad = true>}
// CHECK-SAME: %{{.+}}: tensor<32x32xf32>)
// CHECK-SAME: -> (tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = ptrr>}, tensor<2xf32>)
func.func @f(%x: tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>},
             %y: tensor<1x2x4x8xf32> {cp.sharding = #cp.sharding<balancer = striped, pad = true, seq_len = 12, dim = 2, grid = @cp_grid>},
             %w: tensor<32x32xf32>)
    -> (tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = ptrr, pad = false>}, tensor<2xf32>) {
  %c = arith.constant dense<0.0> : tensor<2xf32>
  return %x, %c : tensor<1x16x32xf32>, tensor<2xf32>
}

// Every balancer; an attribute alias.
// CHECK-LABEL: func.func @balancers
// CHECK-SAME: balancer = none
// CHECK-SAME: balancer = per_document_head_tail
#sh = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 1, balancer = none>
func.func @balancers(%a: tensor<4xf32> {cp.sharding = #sh},
                     %b: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 16, balancer = per_document_head_tail>}) {
  return
}
