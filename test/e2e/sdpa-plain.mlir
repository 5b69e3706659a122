// End to end: the torch-mlir fixture sdpa_plain_f32 (non-causal SDPA, f32) made
// context-parallel by cp-run --pipeline, run on N thread ranks and compared
// with the single-device module on the same random inputs.

// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 1 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 2 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 3 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=none" --random-inputs --seed 4 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=head_tail" --random-inputs --seed 5 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=alltoall load-balance=striped" --random-inputs --seed 6 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 7 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 8 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=allgather load-balance=striped" --random-inputs --seed 9 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 1 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 10 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 11 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 1 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 12 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 13 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 14 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=ring load-balance=striped" --random-inputs --seed 15 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=ring load-balance=none pad=true" --random-inputs --seed 16 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 17 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 18 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=alltoall load-balance=head_tail" --random-inputs --seed 19 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 20 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 21 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.linalg.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 22 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
