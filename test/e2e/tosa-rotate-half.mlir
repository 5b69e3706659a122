// End to end: torch-mlir's TOSA export (scripts/gen-scan-fixtures.py) of
// Llama's RoPE with rotate_half (tosa.slice of the head dim, negate,
// concat) on q and k, then causal attention; context-parallel on 2-4 thread
// ranks for every balancer, compared with the single-device module.

// RUN: %cp-run %S/Inputs/rotate_half.tosa.mlir --entry rotate_half --ranks 2 --pipeline "load-balance=none" --random-inputs --seed 620 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/rotate_half.tosa.mlir --entry rotate_half --ranks 3 --pipeline "load-balance=striped rotate=alltoall" --random-inputs --seed 621 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/rotate_half.tosa.mlir --entry rotate_half --ranks 4 --pipeline "load-balance=head_tail" --random-inputs --seed 622 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/rotate_half.tosa.mlir --entry rotate_half --ranks 5 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 623 --compare-single-device 2>&1 | FileCheck %s

// The slices run on local shards (6 of 24 positions on 4 ranks).
// RUN: cp-opt %S/Inputs/rotate_half.tosa.mlir --cp-pipeline="grid-size=4" | FileCheck %s --check-prefix=IR
// IR-COUNT-4: tosa.slice {{.+}} : (tensor<1x2x6x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x6x4xf32>
// IR: cp.block_attention

// CHECK: result #0 vs single device f32(1, 2, 24, 8): max abs err {{.*}} ok
