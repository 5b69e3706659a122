// End to end: bf16 and f16 SDPA (tolerance 2e-2: the ring merges in fp32
// and casts back), context-parallel vs single device, every rotate method.

// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 200 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 201 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 202 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=alltoall load-balance=head_tail" --random-inputs --seed 203 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "rotate=allgather load-balance=striped" --random-inputs --seed 204 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 205 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 206 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 207 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 4 --pipeline "rotate=ring load-balance=none" --random-inputs --seed 208 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 4 --pipeline "rotate=alltoall load-balance=head_tail" --random-inputs --seed 209 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 4 --pipeline "rotate=allgather load-balance=striped" --random-inputs --seed 210 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 211 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16

// BF16: result #0 vs single device bf16(1, 4, 64, 16): max abs err {{.*}} ok
// F16: result #0 vs single device f16(1, 4, 64, 16): max abs err {{.*}} ok
