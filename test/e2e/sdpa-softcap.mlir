// End to end: Gemma2-style logit soft-capping with a finfo.min causal mask
// (torch-mlir fixtures, linalg and TOSA), raised to cp.flex_attention with a
// tanh score_mod and a causal mask_mod, context-parallel vs single device.

// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.linalg.mlir --entry sdpa_softcap_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 130 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.linalg.mlir --entry sdpa_softcap_f32 --ranks 3 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 131 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.linalg.mlir --entry sdpa_softcap_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 132 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.tosa.mlir --entry sdpa_softcap_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 133 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.linalg.mlir --entry sdpa_softcap_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 134 --emit-mlir %t.mlir > /dev/null 2>&1 && FileCheck %s --check-prefix=IR < %t.mlir

// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
// IR: cp.flex_attention
// IR: math.tanh
