// End to end: SDPA with a boolean mask, an additive mask, an explicit
// scale and a sliding window (a position mask raised to flex attention),
// torch-mlir fixtures, context-parallel vs single device.

// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 100 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 101 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 102 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 103 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 104 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 105 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 106 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 107 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 108 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 109 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 110 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 111 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 112 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 113 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 114 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 115 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 116 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 117 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 118 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 119 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
