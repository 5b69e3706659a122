// End to end: rank-3 flex attention ([B*H, S, D], one KV head, GQA 4:1,
// soft-capping and a causal window: Inputs/flex_rank3.mlir) against a
// float64 NumPy reference (Inputs/flex_rank3_want.npy) and the single
// device, on 1-4 ranks. The lowering unfolds it to [1, B*H, S, D].

// RUN: %cp-run %S/Inputs/flex_rank3.mlir --entry flex_rank3 --inputs %S/Inputs/flex_rank3_q.npy,%S/Inputs/flex_rank3_k.npy,%S/Inputs/flex_rank3_v.npy --expect %S/Inputs/flex_rank3_want.npy 2>&1 | FileCheck %s --check-prefix=REF
// RUN: %cp-run %S/Inputs/flex_rank3.mlir --entry flex_rank3 --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --inputs %S/Inputs/flex_rank3_q.npy,%S/Inputs/flex_rank3_k.npy,%S/Inputs/flex_rank3_v.npy --expect %S/Inputs/flex_rank3_want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=REF,SINGLE
// RUN: %cp-run %S/Inputs/flex_rank3.mlir --entry flex_rank3 --ranks 2 --pipeline "rotate=ring load-balance=striped" --inputs %S/Inputs/flex_rank3_q.npy,%S/Inputs/flex_rank3_k.npy,%S/Inputs/flex_rank3_v.npy --expect %S/Inputs/flex_rank3_want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=REF,SINGLE
// RUN: %cp-run %S/Inputs/flex_rank3.mlir --entry flex_rank3 --ranks 3 --pipeline "rotate=ring load-balance=head_tail" --inputs %S/Inputs/flex_rank3_q.npy,%S/Inputs/flex_rank3_k.npy,%S/Inputs/flex_rank3_v.npy --expect %S/Inputs/flex_rank3_want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=REF,SINGLE
// RUN: %cp-run %S/Inputs/flex_rank3.mlir --entry flex_rank3 --ranks 4 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %S/Inputs/flex_rank3_q.npy,%S/Inputs/flex_rank3_k.npy,%S/Inputs/flex_rank3_v.npy --expect %S/Inputs/flex_rank3_want.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=REF,SINGLE
// REF: result #0 vs {{.*}}flex_rank3_want.npy f32(4, 24, 16): max abs err {{.*}} ok
// SINGLE: result #0 vs single device f32(4, 24, 16): max abs err {{.*}} ok
