// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=ulysses" | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=2 strategy=ulysses load-balance=striped pad=true" | FileCheck %s --check-prefix=TWO

// strategy=ulysses: sequence shards at the function boundary (as the ring),
// all-to-all to head shards of the whole sequence around plain attention.

// GQA with Hkv = 2: 4 ranks replicate each key/value head twice (never 8
// query heads); 2 ranks split them.
// CHECK-LABEL: func.func @gqa
// CHECK-SAME: cp.context_parallel = {{{.*}}strategy = "ulysses", world_size = 4 : i64}
// CHECK: %[[Q:.+]] = cp.seq_to_heads %arg0 on @cp_grid head_dim = 1 seq_dim = 2 balancer = <head_tail> seq_len = 64 : tensor<1x8x16x16xf32> -> tensor<1x2x64x16xf32>
// CHECK: %[[KB:.+]] = linalg.broadcast ins(%arg1 : tensor<1x2x16x16xf32>) outs(%{{.+}} : tensor<1x2x2x16x16xf32>) dimensions = [2]
// CHECK: %[[KC:.+]] = tensor.collapse_shape %[[KB]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x16x16xf32> into tensor<1x4x16x16xf32>
// CHECK: %[[K:.+]] = cp.seq_to_heads %[[KC]] {{.*}} : tensor<1x4x16x16xf32> -> tensor<1x1x64x16xf32>
// CHECK: %[[V:.+]] = cp.seq_to_heads
// CHECK: %[[O:.+]], %[[L:.+]] = cp.sdpa %[[Q]], %[[K]], %[[V]] {enable_gqa, is_causal} : (tensor<1x2x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>) -> (tensor<1x2x64x16xf32>, tensor<1x2x64xf32>)
// CHECK: cp.heads_to_seq %[[O]] {{.*}} : tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
// CHECK: cp.heads_to_seq %[[L]] on @cp_grid head_dim = 1 seq_dim = 2 {{.*}} : tensor<1x2x64xf32> -> tensor<1x8x16xf32>
// CHECK-NOT: cp.ring_attention
// TWO-LABEL: func.func @gqa
// TWO-NOT: linalg.broadcast
// TWO: cp.seq_to_heads %arg0 on @cp_grid head_dim = 1 seq_dim = 2 balancer = <striped> seq_len = 64 {pad} : tensor<1x8x32x16xf32> -> tensor<1x4x64x16xf32>
// TWO: cp.seq_to_heads %arg1 {{.*}} : tensor<1x2x32x16xf32> -> tensor<1x1x64x16xf32>
// TWO: cp.sdpa {{.*}} : (tensor<1x4x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>)
func.func @gqa(%q: tensor<1x8x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>)
    -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal, enable_gqa}
      : (tensor<1x8x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
      -> (tensor<1x8x64x16xf32>, tensor<1x8x64xf32>)
  return %o, %l : tensor<1x8x64x16xf32>, tensor<1x8x64xf32>
}

// -----

// Backward with replicated key/value heads: their gradients come back as 4
// replica heads and are summed to 2.
// CHECK-LABEL: func.func @backward
// CHECK: %[[DQ:.+]], %[[DK:.+]], %[[DV:.+]] = cp.sdpa_backward {{.*}} -> (tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>)
// CHECK: cp.heads_to_seq %[[DQ]] {{.*}} -> tensor<1x4x16x16xf32>
// CHECK: %[[DK4:.+]] = cp.heads_to_seq %[[DK]] {{.*}} -> tensor<1x4x16x16xf32>
// CHECK: %[[DKE:.+]] = tensor.expand_shape %[[DK4]] {{\[\[}}0], [1, 2], [3], [4]] {{.*}} into tensor<1x2x2x16x16xf32>
// CHECK: linalg.reduce ins(%[[DKE]] : tensor<1x2x2x16x16xf32>) outs(%{{.+}} : tensor<1x2x16x16xf32>) dimensions = [2]
// CHECK: arith.addf
// CHECK: cp.heads_to_seq %[[DV]]
// CHECK: linalg.reduce
// TWO-LABEL: func.func @backward
// TWO-NOT: linalg.reduce
// TWO: cp.sdpa_backward {{.*}} -> (tensor<1x2x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>)
// TWO-NOT: linalg.reduce
// TWO: return
func.func @backward(%do: tensor<1x4x64x16xf32>, %q: tensor<1x4x64x16xf32>,
                    %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>,
                    %o: tensor<1x4x64x16xf32>, %l: tensor<1x4x64xf32>)
    -> (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l {is_causal, enable_gqa}
      : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>,
         tensor<1x2x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64xf32>)
      -> (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
  return %dq, %dk, %dv : tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>
}

// -----

// A per-head mask: its query rows are gathered back (cp.unshard, original
// order) and this rank's heads sliced out.
// CHECK-LABEL: func.func @per_head_mask
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid
// CHECK: %[[M:.+]] = cp.unshard %arg3 on @cp_grid dim = 2 balancer = <head_tail> : tensor<1x4x16x64xf32> -> tensor<1x4x64x64xf32>
// CHECK: %[[OFF:.+]] = arith.muli %[[R]], %c1
// CHECK: %[[MS:.+]] = tensor.extract_slice %[[M]][0, %[[OFF]], 0, 0] [1, 1, 64, 64] [1, 1, 1, 1]
// CHECK: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %[[MS]]
func.func @per_head_mask(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                         %v: tensor<1x4x64x16xf32>, %m: tensor<1x4x64x64xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = cp.sdpa %q, %k, %v mask %m
      : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x64xf32>)
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// Flex attention: positions are already original after seq_to_heads (no
// cp.global_position); the head index becomes the global head.
// CHECK-LABEL: func.func @flex
// CHECK-NOT: cp.global_position
// CHECK: %[[R:.+]] = shard.process_linear_index on @cp_grid
// CHECK: cp.flex_attention
// CHECK: ^bb0(%{{.+}}: index, %[[H:.+]]: index, %[[QI:.+]]: index, %[[KI:.+]]: index):
// CHECK: %[[OFF:.+]] = arith.muli %[[R]], %c1
// CHECK: %[[G:.+]] = arith.addi %[[H]], %[[OFF]]
// CHECK: arith.cmpi slt, %[[KI]], %[[G]]
// CHECK-NOT: cp.global_position
func.func @flex(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>)
    -> tensor<1x4x64x16xf32> {
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %keep = arith.cmpi slt, %ki, %h : index
      cp.yield %keep : i1
    }
  return %o : tensor<1x4x64x16xf32>
}
