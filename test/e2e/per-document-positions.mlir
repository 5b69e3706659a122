// End to end: position-dependent code under
// load-balance=per_document_head_tail. q and k are scaled by a rotary-like
// factor of their original position (linalg.index along the sequence),
// which becomes cp.global_position with the whole document ids, lowered to
// this rank's positions from cprt_c_document_positions at run time.
// Uneven documents, S = 64 on 2, 3 (padded: 22 slots) and 4 ranks, against
// the single-device module.

// RUN: python3 %S/Inputs/packed_docs.py %t --q 1,4,64,16 --kv 2 --docs 9,23,3,29 --causal --seed 21
// RUN: %cp-run %S/Inputs/docs_positions_f32.mlir --entry docs_positions_f32 --ranks 2 --pipeline "load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_positions_f32.mlir --entry docs_positions_f32 --ranks 3 --pipeline "load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_positions_f32.mlir --entry docs_positions_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok

// The per-rank module reads positions through the whole ids.
// RUN: cp-opt %S/Inputs/docs_positions_f32.mlir --cp-pipeline="grid-size=3 load-balance=per_document_head_tail" | FileCheck %s --check-prefix=IR
// IR: func.func @docs_positions_f32({{.+}}%[[D:[^:]+]]: tensor<64xi32> {cp.documents})
// IR-COUNT-2: cp.global_position %{{.+}}, %{{.+}} documents %[[D]] : tensor<64xi32> on @cp_grid balancer = <per_document_head_tail> seq_len = 64 {pad} : index
// IR: cp.ring_attention {{.+}} segment_ids %[[D]]

// A position table built inside the function (a constant [64], like a
// RoPE cos table) is sharded by the ids at run time.
// RUN: %cp-run %S/Inputs/docs_table_f32.mlir --entry docs_table_f32 --ranks 2 --pipeline "load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_table_f32.mlir --entry docs_table_f32 --ranks 3 --pipeline "load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/docs_table_f32.mlir --entry docs_table_f32 --ranks 4 --pipeline "load-balance=per_document_head_tail" --inputs %t.q.npy,%t.k.npy,%t.v.npy,%t.doc.npy --compare-single-device 2>&1 | FileCheck %s
// RUN: cp-opt %S/Inputs/docs_table_f32.mlir --cp-pipeline="grid-size=3 load-balance=per_document_head_tail" | FileCheck %s --check-prefix=TABLE
// TABLE: func.func @docs_table_f32({{.+}}%[[D:[^:]+]]: tensor<64xi32> {cp.documents})
// TABLE: cp.shard %{{.+}} documents %[[D]] : tensor<64xi32> on @cp_grid dim = 0 balancer = <per_document_head_tail> {pad} : tensor<64xf32> -> tensor<22xf32>
// RUN: cp-opt %S/Inputs/docs_table_f32.mlir --cp-pipeline="grid-size=3 load-balance=per_document_head_tail" --cp-lower-to-runtime | FileCheck %s --check-prefix=TABLE-RT
// TABLE-RT: call @cprt_c_shard_docs_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<*xf32>, memref<*xf32>, i64, i32, i32, memref<*xi32>) -> ()
