// The cp pipeline on 4096 ranks: causal attention over 8192 tokens (two per
// rank) becomes a ring of one scf.for whatever the rank count, so the
// expansion and the canonicalization and CSE after it stay fast (the ring
// unrolled per rank took 19 s here).
// RUN: cp-opt %s --cp-pipeline="grid-size=4096 rotate=ring load-balance=head_tail" | FileCheck %s
// RUN: cp-opt %s --cp-pipeline="grid-size=4096 rotate=alltoall load-balance=striped" | FileCheck %s --check-prefix=STRIPED
// 8190 tokens, padded: each step passes the positions of its source rank
// (rank + W - i) mod W, computed in the loop (the pipeline took 60 s when
// the ring was unrolled).
// RUN: sed 's/8192/8190/g' %s | cp-opt --cp-pipeline="grid-size=4096 rotate=ring load-balance=head_tail pad=true" | FileCheck %s --check-prefix=PAD

// CHECK: shard.grid @cp_grid(shape = 4096)
// CHECK-LABEL: func.func @attn
// CHECK: cp.shift_start
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal>}
// CHECK: scf.for %{{.+}} = %c1{{.*}} to %c4095{{.*}} step %c1{{.*}} iter_args(
// CHECK: cp.shift_start
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<kv_head_half>}
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<q_tail_half>}
// CHECK: cp.shift_wait
// CHECK: scf.yield
// CHECK-NOT: cp.shift_start
// CHECK: arith.cmpi {{.+}}, %c4095
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<kv_head_half>}
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<q_tail_half>}
// CHECK-NOT: scf.for
// CHECK: return

// STRIPED-LABEL: func.func @attn
// STRIPED: scf.for %{{.+}} = %c1{{.*}} to %c4095{{.*}} step %c1{{.*}} iter_args(
// STRIPED: cp.block_attention {{.+}} {causal = #cp.causal<causal>}
// STRIPED: cp.block_attention {{.+}} {causal = #cp.causal<causal_strict>}
// STRIPED-NOT: scf.for
// PAD-LABEL: func.func @attn
// PAD: %[[W:.+]] = arith.constant 4096 : index
// PAD: scf.for %[[I:.+]] = %c1{{.*}} to %c4095{{.*}} step
// PAD: %[[BACK:.+]] = arith.subi %[[W]], %[[I]] : index
// PAD: %[[SUM:.+]] = arith.addi %{{.+}}, %[[BACK]] : index
// PAD: %[[SRC:.+]] = arith.remui %[[SUM]], %[[W]] : index
// PAD: tensor.generate
// PAD: cp.global_position %{{.+}}, %[[SRC]] on @cp_grid balancer = <head_tail> seq_len = 8190 {pad}
// PAD: scf.yield
// PAD-NOT: scf.for

func.func @attn(%q: tensor<1x2x8192x4xf32>, %k: tensor<1x2x8192x4xf32>, %v: tensor<1x2x8192x4xf32>) -> tensor<1x2x8192x4xf32> {
  %o = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x2x8192x4xf32>, tensor<1x2x8192x4xf32>, tensor<1x2x8192x4xf32>) -> tensor<1x2x8192x4xf32>
  return %o : tensor<1x2x8192x4xf32>
}
