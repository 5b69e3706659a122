// End to end: the TOSA fixtures (torch-mlir output_type="tosa"), made
// context-parallel and compared with the single-device TOSA module; the
// Llama-style block also against PyTorch's output.

// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.tosa.mlir --entry sdpa_plain_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 500 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.tosa.mlir --entry sdpa_plain_f32 --ranks 2 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 501 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f32.tosa.mlir --entry sdpa_plain_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 502 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.tosa.mlir --entry sdpa_causal_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 503 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.tosa.mlir --entry sdpa_causal_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 504 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.tosa.mlir --entry sdpa_scale_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 505 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.tosa.mlir --entry sdpa_scale_f32 --ranks 2 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 506 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.tosa.mlir --entry sdpa_scale_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 507 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.tosa.mlir --entry sdpa_boolmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 508 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.tosa.mlir --entry sdpa_boolmask_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 509 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.tosa.mlir --entry sdpa_floatmask_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 510 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.tosa.mlir --entry sdpa_floatmask_f32 --ranks 2 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 511 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.tosa.mlir --entry sdpa_floatmask_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 512 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.tosa.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 513 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.tosa.mlir --entry sdpa_gqa_causal_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 514 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.tosa.mlir --entry sdpa_window_f32 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 515 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.tosa.mlir --entry sdpa_window_f32 --ranks 2 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 516 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.tosa.mlir --entry sdpa_window_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 517 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.tosa.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 518 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.tosa.mlir --entry sdpa_plain_f16 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 519 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.tosa.mlir --entry llama_block_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=TORCH,LLAMA

// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
// BF16: result #0 vs single device bf16(1, 4, 64, 16): max abs err {{.*}} ok
// F16: result #0 vs single device f16(1, 4, 64, 16): max abs err {{.*}} ok
// TORCH: result #0 vs {{.*}}llama_block_output.npy f32(1, 64, 64): max abs err {{.*}} ok
// LLAMA: result #0 vs single device f32(1, 64, 64): max abs err {{.*}} ok
