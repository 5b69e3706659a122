// A module that is already per-rank (cp-run --emit-mlir, or cp-opt
// --cp-pipeline) runs as is: cp-run shards its inputs from the recorded
// cp.sharding attributes; --reference names the single-device module.

// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=striped" --random-inputs --quiet --emit-mlir %t.per-rank.mlir
// RUN: FileCheck %s --check-prefix=IR < %t.per-rank.mlir
// IR: func.func @sdpa_causal_f32(%{{.*}}: tensor<1x4x16x16xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = striped>}

// RUN: %cp-run %t.per-rank.mlir --entry sdpa_causal_f32 --ranks 4 --reference %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --random-inputs --seed 9 --compare-single-device 2>&1 | FileCheck %s
// CHECK-NOT: cp pipeline
// CHECK: run: compute {{.*}} 4 rank(s), threads
// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok

// The module's grid has 4 ranks.
// RUN: not %cp-run %t.per-rank.mlir --entry sdpa_causal_f32 --ranks 2 --random-inputs 2>&1 | FileCheck %s --check-prefix=RANKS
// RANKS: error: @sdpa_causal_f32 was built for 4 ranks (shard.grid @cp_grid) but --ranks is 2

// Whole-shape checks use seq_len, not the local type.
// RUN: not %cp-run %t.per-rank.mlir --entry sdpa_causal_f32 --ranks 4 --inputs %S/Inputs/a_f32.npy,%S/Inputs/a_f32.npy,%S/Inputs/a_f32.npy 2>&1 | FileCheck %s --check-prefix=WHOLE
// WHOLE: error: {{.*}}a_f32.npy: shape (2, 3) does not match argument #0 of @sdpa_causal_f32, whose whole shape is (1, 4, 64, 16) (the sequence dim 2 is sharded: local type tensor<1x4x16x16xf32>)

// cp.sharding is a typed #cp.sharding: the untyped dictionary of earlier
// versions is refused where it is written, as a compilation error (exit 2).
// RUN: sed -e 's/#cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = striped>/{balancer = #cp.balancer<striped>, dim = 2 : i64, grid = @cp_grid, seq_len = 64 : i64}/g' %t.per-rank.mlir > %t.dict.mlir
// RUN: sh -c '%cp-run %t.dict.mlir --entry sdpa_causal_f32 --ranks 4 --random-inputs; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=DICT
// DICT: dict.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'func.func' op argument #0: 'cp.sharding' must be a #cp.sharding attribute
// DICT: error: cannot parse {{.*}}dict.mlir
// DICT: exit=2

// A per-document sharding needs the ids (the attribute reads the balancer
// typed); no argument is marked cp.documents here.
// RUN: sed -e 's/balancer = striped>/balancer = per_document_head_tail>/g' %t.per-rank.mlir > %t.doc.mlir
// RUN: not %cp-run %t.doc.mlir --entry sdpa_causal_f32 --ranks 4 --random-inputs 2>&1 | FileCheck %s --check-prefix=DOC
// DOC: error: @sdpa_causal_f32: argument #0 is sharded per_document_head_tail, which needs the document ids: no argument is marked cp.documents
