// End to end: forward and backward with document ids (segment_ids) on 2-8
// ranks against the single-device module (whose sdpa entries get the ids'
// additive mask). --random-inputs draws ids in [0, 4): many short
// documents (maximal runs of equal ids), so every block mixes documents;
// with per_document_head_tail the runtime lays each one out over the ranks.

// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 7 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 3 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 8 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 4 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 9 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 3 --pipeline "load-balance=per_document_head_tail" --random-inputs --seed 10 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 4 --pipeline "rotate=alltoall load-balance=per_document_head_tail" --random-inputs --seed 11 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 8 --pipeline "load-balance=per_document_head_tail" --random-inputs --seed 12 --compare-single-device 2>&1 | FileCheck %s

// Ulysses: the local attention on head shards gets the ids gathered whole.
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 13 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd_docs.mlir --entry fwd_bwd_docs --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 14 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
// CHECK: result #1 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
// CHECK: result #2 vs single device f32(1, 2, 48, 16): max abs err {{.*}} ok
// CHECK: result #3 vs single device f32(1, 2, 48, 16): max abs err {{.*}} ok
