// RUN: cp-opt %s --cp-context-parallel="grid-size=4" | FileCheck %s
// RUN: cp-opt %s --cp-context-parallel="grid-size=3 load-balance=striped pad=true" | FileCheck %s --check-prefix=STRIPED

// Scans as torch-mlir emits them (tm_tensor.scan). Along the sequence they
// become cp.seq_scan of the local shard; over another dim they run
// unchanged on local shards.

// OPT's positions: cumsum(mask) * mask - 1, as sin features added to q.
// CHECK-LABEL: func.func @positions
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x16x8xf32> {cp.sharding = #cp.sharding<{{.+}}>}, %[[M:[^:]+]]: tensor<1x16xi64> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>})
// CHECK-NOT: tm_tensor.scan
// CHECK: %[[C:.+]] = cp.seq_scan %[[M]] on @cp_grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
// CHECK: linalg.generic {{.+}} ins(%[[C]], %[[M]] : tensor<1x16xi64>, tensor<1x16xi64>) outs(%{{.+}} : tensor<1x16xi64>)
// CHECK: cp.ring_attention {{.+}} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>

// STRIPED-LABEL: func.func @positions
// STRIPED: cp.seq_scan %{{.+}} on @cp_grid dim = 1 balancer = <striped> seq_len = 64 kind = <sum> {pad} : tensor<1x22xi64>
#map = affine_map<(d0, d1) -> (d0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#mapb = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
func.func @positions(%q: tensor<1x2x64x8xf32>, %mask: tensor<1x64xi64>) -> tensor<1x2x64x8xf32> {
  %c0_i64 = arith.constant 0 : i64
  %c1_i64 = arith.constant 1 : i64
  %0 = tensor.empty() : tensor<1x64xi64>
  %1 = linalg.fill ins(%c0_i64 : i64) outs(%0 : tensor<1x64xi64>) -> tensor<1x64xi64>
  %2 = tensor.empty() : tensor<1xi64>
  %3 = linalg.fill ins(%c0_i64 : i64) outs(%2 : tensor<1xi64>) -> tensor<1xi64>
  %4:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%mask : tensor<1x64xi64>) outs(%1, %3 : tensor<1x64xi64>, tensor<1xi64>) {
  ^bb0(%a: i64, %b: i64):
    %s = arith.addi %a, %b : i64
    tm_tensor.yield %s : i64
  } -> tensor<1x64xi64>, tensor<1xi64>
  %5 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%4#0, %mask : tensor<1x64xi64>, tensor<1x64xi64>) outs(%0 : tensor<1x64xi64>) {
  ^bb0(%in: i64, %m: i64, %out: i64):
    %p = arith.muli %in, %m : i64
    %r = arith.subi %p, %c1_i64 : i64
    linalg.yield %r : i64
  } -> tensor<1x64xi64>
  %e = tensor.empty() : tensor<1x2x64x8xf32>
  %6 = linalg.generic {indexing_maps = [#map4, #mapb, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q, %5 : tensor<1x2x64x8xf32>, tensor<1x64xi64>) outs(%e : tensor<1x2x64x8xf32>) {
  ^bb0(%x: f32, %p: i64, %out: f32):
    %f = arith.sitofp %p : i64 to f32
    %sn = math.sin %f : f32
    %y = arith.addf %x, %sn : f32
    linalg.yield %y : f32
  } -> tensor<1x2x64x8xf32>
  %o = cp.sdpa %6, %6, %6 {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// A cumsum over the head dim (dim 3) is not along the sequence: it stays a
// tm_tensor.scan, on local shards (accumulator included).
// CHECK-LABEL: func.func @head_dim
// CHECK-NOT: cp.seq_scan
// CHECK: %[[S:[^ ]+]], %{{.+}} = tm_tensor.scan dimension(3) inclusive(true) ins(%{{.+}} : tensor<1x2x16x8xf32>) outs(%{{.+}}, %{{.+}} : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
// CHECK: cp.ring_attention %[[S]],
func.func @head_dim(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %cst = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<1x2x64x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %2 = tensor.empty() : tensor<1x2x64xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x2x64xf32>) -> tensor<1x2x64xf32>
  %4:2 = tm_tensor.scan dimension(3) inclusive(true) ins(%q : tensor<1x2x64x8xf32>) outs(%1, %3 : tensor<1x2x64x8xf32>, tensor<1x2x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<1x2x64x8xf32>, tensor<1x2x64xf32>
  %o = cp.sdpa %4#0, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// A float cumprod along the sequence of a 4-D tensor (dim 2).
// CHECK-LABEL: func.func @cumprod
// CHECK: cp.seq_scan %{{.+}} on @cp_grid dim = 2 balancer = <head_tail> seq_len = 64 kind = <prod> : tensor<1x2x16x8xf32>
func.func @cumprod(%k: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %cst = arith.constant 1.0 : f32
  %0 = tensor.empty() : tensor<1x2x64x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %2 = tensor.empty() : tensor<1x2x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %4:2 = tm_tensor.scan dimension(2) inclusive(true) ins(%k : tensor<1x2x64x8xf32>) outs(%1, %3 : tensor<1x2x64x8xf32>, tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.mulf %b, %a : f32
    tm_tensor.yield %s : f32
  } -> tensor<1x2x64x8xf32>, tensor<1x2x8xf32>
  %o = cp.sdpa %k, %4#0, %k {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}
