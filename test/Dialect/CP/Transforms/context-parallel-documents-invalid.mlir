// RUN: not cp-opt %s --cp-context-parallel="grid-size=2" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not cp-opt %s --cp-context-parallel="grid-size=4 strategy=hybrid ulysses-size=2" 2>&1 | FileCheck %s --check-prefix=HYB

// Document ids that the ring cannot take, and the hybrid, which has no
// document form yet: diagnostics, never a silent drop of the ids.

// BATCH: error: 'cp.sdpa' op has segment_ids with a batch of 2 document layouts; context parallelism takes one layout for the whole batch ([seq] or [1, seq] segment ids)
// HYB: error: 'cp.sdpa' op strategy=hybrid: an attention with document ids (segment_ids) has no hybrid form
func.func @batched_docs(%q: tensor<2x4x64x8xf32>, %d: tensor<2x64xi32>) -> tensor<2x4x64x8xf32> {
  %o = cp.sdpa %q, %q, %q segment_ids %d
      : (tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32>, tensor<2x64xi32>)
      -> tensor<2x4x64x8xf32>
  return %o : tensor<2x4x64x8xf32>
}
