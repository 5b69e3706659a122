// End to end: flex attention (sliding-window mask_mod and a relative
// position score_mod, Inputs/flex.mlir) made context-parallel (local
// queries, all-gathered keys/values, modifiers on original positions; S = 40
// is padded for 3 ranks and for head_tail on 4) vs single device.

// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 1 --pipeline "load-balance=none pad=true" --random-inputs --seed 400 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 1 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 401 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 1 --pipeline "load-balance=striped pad=true" --random-inputs --seed 402 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 2 --pipeline "load-balance=none pad=true" --random-inputs --seed 403 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 2 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 404 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 2 --pipeline "load-balance=striped pad=true" --random-inputs --seed 405 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 3 --pipeline "load-balance=none pad=true" --random-inputs --seed 406 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 3 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 407 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 3 --pipeline "load-balance=striped pad=true" --random-inputs --seed 408 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 4 --pipeline "load-balance=none pad=true" --random-inputs --seed 409 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 4 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 410 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 4 --pipeline "load-balance=striped pad=true" --random-inputs --seed 411 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 2, 40, 16): {{.*}} ok
