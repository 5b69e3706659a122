// End to end: load-balance=per_document_head_tail. The runtime lays every
// document out head-tail over the ranks from the ids at run time; the
// compiled function keeps the ids whole (cp.documents), cp-run shards and
// unshards q/k/v and the output with them. Documents of uneven lengths
// (some shorter than 2W, so some ranks get none of their tokens), S = 64
// on 2, 3 (padded: ceil(64/3) = 22 slots), 4 and 8 ranks, against the
// float64 reference and the single-device module.

// RUN: python3 %S/Inputs/packed_docs.py %t.g --q 1,4,64,16 --kv 2 --docs 9,23,3,29 --doc-dtype i64 --causal --scale 0.25 --seed 12
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 2 --pipeline "load-balance=per_document_head_tail" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 3 --pipeline "load-balance=per_document_head_tail" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=per_document_head_tail" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_gqa_causal_f32.linalg.mlir --entry docs_gqa_causal_f32 --ranks 8 --pipeline "load-balance=per_document_head_tail" --inputs %t.g.q.npy,%t.g.k.npy,%t.g.v.npy,%t.g.doc.npy --expect %t.g.want.npy --compare-single-device 2>&1 | FileCheck %s

// Non-causal, [1, S] i32 ids, a scale on q before the attention.
// RUN: python3 %S/Inputs/packed_docs.py %t.a --q 1,4,64,16 --kv 4 --docs 5,17,1,30,11 --doc-shape 1,64 --scale 0.25 --seed 11
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 3 --pipeline "load-balance=per_document_head_tail" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 8 --pipeline "rotate=allgather load-balance=per_document_head_tail" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy --expect %t.a.want.npy --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs {{.+}}want.npy f32(1, 4, 64, 16): max abs err {{.*}} ok
// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok

// The per-rank module: whole ids marked cp.documents, the ring takes them.
// RUN: cp-opt %S/Inputs/docs_f32.linalg.mlir --cp-pipeline="grid-size=3 load-balance=per_document_head_tail" | FileCheck %s --check-prefix=IR
// IR: func.func @docs_f32(%{{[^:]+}}: tensor<1x4x22x16xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 2, seq_len = 64, balancer = per_document_head_tail, pad = true>}, {{.+}}, %[[D:[^:]+]]: tensor<1x64xi32> {cp.documents})
// IR: %[[C:.+]] = tensor.collapse_shape %[[D]]
// IR: cp.ring_attention {{.+}} segment_ids %[[C]] on @cp_grid {balancer = #cp.balancer<per_document_head_tail>

// A layout the module was not built for is refused by name (3 ranks'
// module on 2 ranks).
// RUN: not %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 2 --pipeline "load-balance=per_document_head_tail grid-size=3" --inputs %t.a.q.npy,%t.a.k.npy,%t.a.v.npy,%t.a.doc.npy 2>&1 | FileCheck %s --check-prefix=RANKS
// RANKS: error: @docs_f32 was built for 3 ranks (shard.grid @cp_grid) but --ranks is 2

// The AOT header names the input that holds the ids.
// RUN: %cp-run %S/Inputs/docs_f32.linalg.mlir --entry docs_f32 --ranks 3 --pipeline "load-balance=per_document_head_tail" --emit-object %t.o --emit-header %t.h --quiet
// RUN: FileCheck %s --check-prefix=HDR < %t.h
// HDR: #define DOCS_F32_DOCUMENTS_INPUT 3
