// RUN: cp-opt %s | cp-opt | FileCheck %s
// RUN: cp-opt %s --mlir-print-op-generic | cp-opt | FileCheck %s
// RUN: cp-opt %s -emit-bytecode | cp-opt | FileCheck %s
// RUN: cp-opt %s --canonicalize | FileCheck %s --check-prefix=FOLD

// Round trip of cp.seq_to_heads / cp.heads_to_seq (Ulysses), and the fold
// of seq_to_heads(heads_to_seq(x)).

shard.grid @grid(shape = 4)
shard.grid @grid2d(shape = 2x4)

// CHECK-LABEL: func.func @ulysses
// CHECK: cp.seq_to_heads %{{.+}} on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
// CHECK: cp.heads_to_seq %{{.+}} on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x2x64x32xf32> -> tensor<1x8x16x32xf32>
// CHECK: cp.seq_to_heads %{{.+}} on @grid head_dim = 1 seq_dim = 2 balancer = <striped> seq_len = 50 {pad} : tensor<2x4x13xf32> -> tensor<2x1x50xf32>
// CHECK: cp.heads_to_seq %{{.+}} on @grid2d grid_axes = [1] head_dim = 2 seq_dim = 1 balancer = <none> seq_len = 8 : tensor<1x8x1x4xbf16> -> tensor<1x2x4x4xbf16>
func.func @ulysses(%q: tensor<1x8x16x32xf32>, %l: tensor<2x4x13xf32>,
                   %h: tensor<1x8x1x4xbf16>)
    -> (tensor<1x8x16x32xf32>, tensor<2x1x50xf32>, tensor<1x2x4x4xbf16>) {
  %a = cp.seq_to_heads %q on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  %b = cp.heads_to_seq %a on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x2x64x32xf32> -> tensor<1x8x16x32xf32>
  %c = cp.seq_to_heads %l on @grid head_dim = 1 seq_dim = 2 balancer = <striped> seq_len = 50 {pad} : tensor<2x4x13xf32> -> tensor<2x1x50xf32>
  %d = cp.heads_to_seq %h on @grid2d grid_axes = [1] head_dim = 2 seq_dim = 1 balancer = <none> seq_len = 8 : tensor<1x8x1x4xbf16> -> tensor<1x2x4x4xbf16>
  return %b, %c, %d : tensor<1x8x16x32xf32>, tensor<2x1x50xf32>, tensor<1x2x4x4xbf16>
}

// FOLD-LABEL: func.func @round_trip
// FOLD-SAME: (%[[X:.+]]: tensor<1x2x64x32xf32>)
// FOLD: %[[S:.+]] = cp.heads_to_seq %[[X]]
// FOLD-NEXT: %[[H2:.+]] = cp.seq_to_heads %[[S]] {{.*}} balancer = <none>
// FOLD-NEXT: return %[[X]], %[[H2]] :
func.func @round_trip(%x: tensor<1x2x64x32xf32>)
    -> (tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) {
  %s = cp.heads_to_seq %x on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x2x64x32xf32> -> tensor<1x8x16x32xf32>
  %h = cp.seq_to_heads %s on @grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  // Another balancer is not the inverse: kept.
  %h2 = cp.seq_to_heads %s on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return %h, %h2 : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>
}
