// End to end: the expanded ring (--cp-expand-ring, the pipeline's default)
// is one scf.for over steps 1 .. W-2 whatever the rank count; run on odd
// rank counts (3, 5) and on 8, causal with head_tail and striped balancing
// (and the unbalanced ring, whose late steps are skipped), with and without
// padding (positions computed in the loop), f32 and bf16, and compared with
// the single-device module on the same random inputs.

// 60 tokens split evenly over 3 and 5 ranks (GQA: 4 query, 2 key/value heads).
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 3 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 41 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 3 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 42 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 5 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 43 --compare-single-device --emit-mlir %t.r5.mlir 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOOP5 < %t.r5.mlir
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 5 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 44 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 5 --pipeline "rotate=alltoall load-balance=striped" --random-inputs --seed 45 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/ring_loop_causal.mlir --entry causal60 --ranks 5 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 46 --compare-single-device 2>&1 | FileCheck %s

// The torch-mlir fixtures: 8 ranks, and 5 ranks over 64 tokens (padded).
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 8 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 47 --compare-single-device --emit-mlir %t.r8.mlir 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOOP8 < %t.r8.mlir
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 8 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 48 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_b2_f32.linalg.mlir --entry sdpa_gqa_causal_b2_f32 --ranks 8 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 49 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 5 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 50 --compare-single-device --emit-mlir %t.p5.mlir 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=PAD5 < %t.p5.mlir
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 5 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 51 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 5 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 52 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device {{.+}} ok

// LOOP5: scf.for %{{.+}} = %c1{{.*}} to %c4{{.*}} step %c1{{.*}} iter_args(
// LOOP5: cp.shift_start
// LOOP5: cp.block_attention {{.+}}causal = #cp.causal<kv_head_half>
// LOOP5: cp.block_attention {{.+}}causal = #cp.causal<q_tail_half>
// LOOP5: cp.shift_wait
// LOOP5-NOT: scf.for

// LOOP8: scf.for %{{.+}} = %c1{{.*}} to %c7{{.*}} step %c1{{.*}} iter_args(
// LOOP8-NOT: scf.for

// PAD5: scf.for
// PAD5: arith.remui
// PAD5: cp.global_position
// PAD5: cp.block_attention {{.+}} positions(
// PAD5: scf.yield
