// End to end: packed documents. Inputs/packed_docs.py writes random q/k/v,
// the document id of every token (documents of uneven lengths that do not
// divide the sequence or the rank count) and the float64 reference; the
// document mask doc[q] == doc[k] is detected as cp.sdpa's segment_ids and
// runs on 1-4 ranks against the reference and the single-device module.

// linalg, non-causal, [1, S] i32 ids from a bool mask made with where().
// RUN: python3 %S/Inputs/packed_docs.py %t.a --q 1,4,64,16 --kv 4 --docs 5,17,1,30,11 --doc-shape 1,64 --scale 0.25 --seed 1
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 1 --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy 2>&1 | FileCheck %s --check-prefix=WANT
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE

// linalg, causal AND documents, GQA 4 / 2, [S] i64 ids.
// RUN: python3 %S/Inputs/packed_docs.py %t.g --q 1,4,64,16 --kv 2 --docs 9,23,3,29 --doc-dtype i64 --causal --scale 0.25 --seed 2
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 1 --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy 2>&1 | FileCheck %s --check-prefix=WANT
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=none" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 4 --pipeline "strategy=ulysses" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE

// TOSA (reshape + tosa.equal of [1, S] ids).
// RUN: python3 %S/Inputs/packed_docs.py %t.t --q 1,4,64,16 --kv 4 --docs 2,40,5,17 --doc-shape 1,64 --scale 0.25 --seed 4
// RUN: %cp-run %S/Inputs/docs_f32.tosa.mlir --entry docs_tosa_f32 --ranks 2 --pipeline "load-balance=striped" --inputs %t.t.q.npy,%t.t.k.npy,%t.t.v.npy,%t.t.doc.npy --expect %t.t.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_f32.tosa.mlir --entry docs_tosa_f32 --ranks 3 --pipeline "load-balance=head_tail pad=true" --inputs %t.t.q.npy,%t.t.k.npy,%t.t.v.npy,%t.t.doc.npy --expect %t.t.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE

// flex_attention with a document (and causal) mask_mod, GQA.
// RUN: python3 %S/Inputs/packed_docs.py %t.f --q 1,4,64,16 --kv 2 --docs 9,23,3,29 --causal --scale 0.25 --seed 3
// RUN: %cp-run %S/Inputs/docs_flex.mlir --entry docs_flex --ranks 1 --inputs %t.f.q.npy,%t.f.k.npy,%t.f.v.npy,%t.f.doc.npy --expect %t.f.want.npy 2>&1 | FileCheck %s --check-prefix=WANT
// RUN: %cp-run %S/Inputs/docs_flex.mlir --entry docs_flex --ranks 3 --pipeline "load-balance=head_tail pad=true" --inputs %t.f.q.npy,%t.f.k.npy,%t.f.v.npy,%t.f.doc.npy --expect %t.f.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE
// RUN: %cp-run %S/Inputs/docs_flex.mlir --entry docs_flex --ranks 4 --pipeline "load-balance=striped" --inputs %t.f.q.npy,%t.f.k.npy,%t.f.v.npy,%t.f.doc.npy --expect %t.f.want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=WANT,SINGLE

// The per-rank module passes the ids along the ring (no dense mask).
// RUN: cp-opt %S/Inputs/docs_gqa_causal_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s --check-prefix=IR
// IR: func.func @docs_gqa_causal_f32({{.+}}%[[D:[^:]+]]: tensor<32xi64> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 0, seq_len = 64, balancer = head_tail>})
// IR: cp.block_attention {{.+}} segment_ids(%[[D]], %[[D]]) {causal = #cp.causal<causal>

// WANT: result #0 vs {{.+}}want.npy f32(1, 4, 64, 16): max abs err {{.*}} ok
// SINGLE: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
