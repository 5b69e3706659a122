// End to end through detection: hand-written linalg attention (an ALiBi-like
// bias and linalg.softmax, Inputs/handwritten_bias.mlir) is raised to
// cp.flex_attention, made context-parallel and run on 2 and 4 ranks; the
// reference is the original, un-raised IR on one device (its linalg.softmax
// decomposed by the lowering).

// RUN: %cp-run %S/Inputs/handwritten_bias.mlir --entry bias4 --ranks 2 --pipeline "load-balance=head_tail" --random-inputs --seed 71 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/handwritten_bias.mlir --entry bias4 --ranks 4 --pipeline "load-balance=striped" --random-inputs --seed 72 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/handwritten_bias.mlir --entry bias4 --ranks 3 --pipeline "load-balance=none pad=true" --random-inputs --seed 73 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 2, 8, 4): max abs err {{.*}} ok

// The runs above are context-parallel only if detection raised the pattern:
// RUN: cp-opt %S/Inputs/handwritten_bias.mlir --cp-pipeline="grid-size=2" | FileCheck %s --check-prefix=IR
// IR: func.func @bias4(%{{.+}}: tensor<1x2x4x4xf32> {cp.sharding
// IR: shard.all_gather
// IR: cp.flex_attention
// IR: score_mod
// IR-NOT: linalg.softmax
