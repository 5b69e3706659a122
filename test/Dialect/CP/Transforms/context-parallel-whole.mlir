// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s

// Reads at data-dependent places: the indices are the original program's,
// so the tensor is read whole, in original order (one cp.unshard per
// tensor), and the scalar is the same on every rank.
// CHECK-LABEL: func.func @extract_at_computed_index
// CHECK: %[[O:.+]] = cp.ring_attention
// CHECK: %[[W:.+]] = cp.unshard %[[O]] on @cp_grid dim = 2 balancer = <head_tail> : tensor<1x2x4x8xf32> -> tensor<1x2x16x8xf32>
// CHECK: tensor.extract %[[W]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : tensor<1x2x16x8xf32>
func.func @extract_at_computed_index(%q: tensor<1x2x16x8xf32>, %i: index) -> f32 {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %c0 = arith.constant 0 : index
  %x = tensor.extract %o[%c0, %c0, %i, %c0] : tensor<1x2x16x8xf32>
  return %x : f32
}

// -----

// A gather whose table runs along the sequence (values [N, K, C], K the
// sequence) reads the table whole; its indices and output keep their own
// sharding.
// CHECK-LABEL: func.func @tosa_gather_table_on_sequence
// CHECK: %[[T:.+]] = tosa.reshape
// CHECK: %[[W:.+]] = cp.unshard %[[T]] on @cp_grid dim = 1 balancer = <head_tail> : tensor<1x4x16xf32> -> tensor<1x16x16xf32>
// CHECK: tosa.gather %[[W]], %{{.+}} : (tensor<1x16x16xf32>, tensor<1x3xi32>) -> tensor<1x3x16xf32>
func.func @tosa_gather_table_on_sequence(%q: tensor<1x2x16x8xf32>, %idx: tensor<1x3xi32>) -> tensor<1x3x16xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %p = tosa.transpose %o {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x2x16x8xf32>) -> tensor<1x16x2x8xf32>
  %shape = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %t = tosa.reshape %p, %shape : (tensor<1x16x2x8xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %g = tosa.gather %t, %idx : (tensor<1x16x16xf32>, tensor<1x3xi32>) -> tensor<1x3x16xf32>
  return %g : tensor<1x3x16xf32>
}

// -----

// What transformers builds to find packed sequences (no function argument
// involved): positions from an iota, shifted by one with a concat and two
// slices (torch.diff), document starts, then the mask same-document &
// causal. The shift cannot be sharded, so the pass computes every
// argument-free value whole on each rank and shards it where it meets
// sharded data: here the mask, at the attention (its local query rows).
// CHECK-LABEL: func.func @argument_free_document_mask
// CHECK: %[[C:.+]] = tensor.concat dim(0) %{{.+}}, %{{.+}} : (tensor<1xi64>, tensor<16xi64>) -> tensor<17xi64>
// CHECK: } -> tensor<1x1x16x16xi1>
// CHECK: %[[LM:.+]] = cp.shard %{{.+}} on @cp_grid dim = 2 balancer = <head_tail> : tensor<1x1x16x16xi1> -> tensor<1x1x4x16xi1>
// CHECK: cp.ring_attention %{{.+}}, %{{.+}}, %{{.+}} mask %[[LM]] on @cp_grid
func.func @argument_free_document_mask(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %e16 = tensor.empty() : tensor<16xi64>
  %pos = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]} outs(%e16 : tensor<16xi64>) {
  ^bb0(%out: i64):
    %i = linalg.index 0 : index
    %v = arith.index_cast %i : index to i64
    linalg.yield %v : i64
  } -> tensor<16xi64>
  %first = tensor.extract_slice %pos[0] [1] [1] : tensor<16xi64> to tensor<1xi64>
  %cat = tensor.concat dim(0) %first, %pos : (tensor<1xi64>, tensor<16xi64>) -> tensor<17xi64>
  %hi = tensor.extract_slice %cat[1] [16] [1] : tensor<17xi64> to tensor<16xi64>
  %lo = tensor.extract_slice %cat[0] [16] [1] : tensor<17xi64> to tensor<16xi64>
  %start = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%hi, %lo : tensor<16xi64>, tensor<16xi64>) outs(%e16 : tensor<16xi64>) {
  ^bb0(%a: i64, %b: i64, %out: i64):
    %d = arith.subi %a, %b : i64
    %one = arith.constant 1 : i64
    %ne = arith.cmpi ne, %d, %one : i64
    %s = arith.extui %ne : i1 to i64
    linalg.yield %s : i64
  } -> tensor<16xi64>
  %em = tensor.empty() : tensor<1x1x16x16xi1>
  %m = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (i)>, affine_map<(b, h, i, j) -> (j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%start, %start : tensor<16xi64>, tensor<16xi64>) outs(%em : tensor<1x1x16x16xi1>) {
  ^bb0(%di: i64, %dj: i64, %out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %same = arith.cmpi eq, %di, %dj : i64
    %causal = arith.cmpi ule, %j, %i : index
    %keep = arith.andi %same, %causal : i1
    linalg.yield %keep : i1
  } -> tensor<1x1x16x16xi1>
  %o = cp.sdpa %q, %q, %q mask %m : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x16x16xi1>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
