// End to end: bf16 and f16 SDPA (tolerance 2e-2), context-parallel vs
// single device. Only the all-gather rotation lowers for these types so far
// (ring/alltoall schedules in bf16/f16 hit 'op was not bufferized').

// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 2 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 200 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 3 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 201 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 202 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 203 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 2 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 204 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 3 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 205 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 4 --pipeline "rotate=allgather load-balance=head_tail" --random-inputs --seed 206 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 4 --pipeline "rotate=allgather load-balance=none" --random-inputs --seed 207 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16

// BF16: result #0 vs single device bf16(1, 4, 64, 16): max abs err {{.*}} ok
// F16: result #0 vs single device f16(1, 4, 64, 16): max abs err {{.*}} ok
