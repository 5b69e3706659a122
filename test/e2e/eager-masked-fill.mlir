// End to end: eager attention that masks with finfo(f32).min (as Hugging
// Face's eager path does), exported by torch-mlir, made context-parallel.
// Rows 5 keeps no key and row 9 exactly one. Wherever a row keeps a key the
// result equals PyTorch's; a row that keeps no key is 0 in cp (the runtime's
// fully masked rule), where PyTorch averages every value. Both references
// were computed by PyTorch: eager_want_cp.npy in float64 with -inf masking
// (NaN rows set to 0), eager_want_torch.npy by the eager module itself.

// RUN: %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_cp.npy 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_cp.npy 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_cp.npy 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --ranks 4 --pipeline "rotate=allgather load-balance=none" --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_cp.npy 2>&1 | FileCheck %s --check-prefix=CP
// CP: cp pipeline
// CP: result #0 vs {{.*}}eager_want_cp.npy f32(1, 2, 16, 8): max abs err {{.*}} ok

// Without the pipeline the module is PyTorch's eager attention.
// RUN: %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_torch.npy 2>&1 | FileCheck %s --check-prefix=TORCH
// TORCH: result #0 vs {{.*}}eager_want_torch.npy f32(1, 2, 16, 8): max abs err {{.*}} ok

// The two differ exactly in the rows that keep no key (row 5 of each head:
// 2 heads x 8 values).
// RUN: not %cp-run %S/Inputs/eager_masked_fill.linalg.mlir --entry eager_masked_fill --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --inputs %S/Inputs/eager_q.npy,%S/Inputs/eager_k.npy,%S/Inputs/eager_v.npy,%S/Inputs/eager_keep.npy --expect %S/Inputs/eager_want_torch.npy 2>&1 | FileCheck %s --check-prefix=DIFF
// DIFF: FAIL: 16 of 256 elements beyond tolerance; worst at (0, {{[01]}}, 5, {{[0-7]}})
