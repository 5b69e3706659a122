// Every torch-mlir fixture (linalg-on-tensors and TOSA) becomes a per-rank
// function: sharded arguments, and ring attention (or flex attention over
// gathered keys/values for the sliding window) in place of the softmax.

// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_boolmask_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_causal_bf16.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_causal_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_causal_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_floatmask_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_gqa_causal_b2_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_gqa_causal_b2_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_gqa_causal_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_plain_f16.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_plain_f16.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_plain_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_plain_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_scale_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_scale_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_window_f32.linalg.mlir --cp-pipeline="grid-size=2" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/sdpa_window_f32.tosa.mlir --cp-pipeline="grid-size=2" | FileCheck %s

// CHECK: shard.grid @cp_grid(shape = 2)
// CHECK: func.func @{{.+}}(%{{.+}}: tensor<{{.+}}> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = {{[0-9]+}}, seq_len = 64, balancer = head_tail>}
// CHECK: {{cp.block_attention|cp.ring_attention|cp.flex_attention}}
// CHECK-NOT: math.exp
// CHECK: return
