// The expanded ring's size does not depend on the rank count W: the same
// ops for 2 ranks (the loop over steps 1 .. W-2 runs no iteration) and for
// 4096 (the same loop, 4094 iterations). One rank is step 0 alone.
// RUN: cp-opt %s --cp-expand-ring --print-op-stats -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: sed -e 's/shape = 2)/shape = 4096)/' -e 's/seq_len = 16 /seq_len = 32768 /' %s | cp-opt --cp-expand-ring --print-op-stats -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: sed -e 's/shape = 2)/shape = 4096)/' -e 's/seq_len = 16 /seq_len = 32768 /' %s | cp-opt --cp-expand-ring | FileCheck %s --check-prefix=BIG
// RUN: sed -e 's/shape = 2)/shape = 1)/' -e 's/seq_len = 16 /seq_len = 8 /' %s | cp-opt --cp-expand-ring | FileCheck %s --check-prefix=ONE

// Step 0 and the last step outside the loop, one step inside it: two
// shifts, two waits, five block attentions (step 0's and the two branches
// of the two other steps), four merges.
// STATS:      arith.cmpi                 , 2
// STATS-NEXT: arith.constant             , 2
// STATS-NEXT: builtin.module             , 1
// STATS-NEXT: cp.block_attention         , 5
// STATS-NEXT: cp.merge_partial           , 4
// STATS-NEXT: cp.shift_start             , 2
// STATS-NEXT: cp.shift_wait              , 2
// STATS-NEXT: func.func                  , 1
// STATS-NEXT: func.return                , 1
// STATS-NEXT: scf.for                    , 1
// STATS-NEXT: scf.if                     , 2
// STATS-NEXT: scf.yield                  , 5
// STATS-NEXT: shard.grid                 , 1
// STATS-NEXT: shard.process_linear_index , 1

// BIG: %[[C1:.+]] = arith.constant 1 : index
// BIG: %[[LAST:.+]] = arith.constant 4095 : index
// BIG: scf.for %{{.+}} = %[[C1]] to %[[LAST]] step %[[C1]]
// BIG: arith.cmpi ule, %[[LAST]], %{{.+}} : index

// ONE-LABEL: func.func @head_tail
// ONE-NOT: cp.shift_start
// ONE-NOT: scf.for
// ONE: %[[O:.+]], %{{.+}} = cp.block_attention {{.+}} {causal = #cp.causal<causal>, enable_gqa}
// ONE-NOT: cp.block_attention
// ONE-NOT: cp.merge_partial
// ONE: return %[[O]]

shard.grid @grid(shape = 2)
func.func @head_tail(%q: tensor<1x2x8x4xf32>, %k: tensor<1x1x8x4xf32>, %v: tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = cp.ring_attention %q, %k, %v on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, is_causal, enable_gqa, seq_len = 16 : i64} : (tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
