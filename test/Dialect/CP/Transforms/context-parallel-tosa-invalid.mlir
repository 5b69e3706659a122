// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" -verify-diagnostics

// TOSA data movement that cuts, shifts or reverses the sequence is refused
// at the op, with what it does to the sequence dim.

func.func @slice_cuts_sequence(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x32x8xf32> {
  %lo = tosa.const_shape {values = dense<0> : tensor<4xindex>} : () -> !tosa.shape<4>
  %sz = tosa.const_shape {values = dense<[1, 2, 32, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  // expected-error @+1 {{'tosa.slice' op slices the sequence dim 2 (start 0, size 32 of 64); positions depend on the slice, cannot shard it}}
  %s = tosa.slice %o, %lo, %sz : (tensor<1x2x64x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x32x8xf32>
  return %s : tensor<1x2x32x8xf32>
}

// -----

// torch-mlir's TOSA cumsum: shift the sequence by padding and slicing.
func.func @pad_shifts_sequence(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x65x8xf32> {
  %pads = tosa.const_shape {values = dense<[0, 0, 0, 0, 1, 0, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %pv = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  // expected-error @+1 {{'tosa.pad' op pads the sequence dim 2 (by 1 before and 0 after; torch-mlir's TOSA cumsum shifts the sequence this way); cannot shard it}}
  %p = tosa.pad %o, %pads, %pv : (tensor<1x2x64x8xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x2x65x8xf32>
  return %p : tensor<1x2x65x8xf32>
}

// -----

func.func @reverse_sequence(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  // expected-error @+1 {{'tosa.reverse' op reverses the sequence dim; cannot shard it}}
  %r = tosa.reverse %q {axis = 2 : i32} : (tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %o = cp.sdpa %r, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

func.func @slice_offset(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x63x8xf32> {
  %lo = tosa.const_shape {values = dense<[0, 0, 1, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %sz = tosa.const_shape {values = dense<[1, 2, -1, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  // expected-error @+1 {{'tosa.slice' op slices the sequence dim 2 (start 1, size -1 of 64); positions depend on the slice, cannot shard it}}
  %s = tosa.slice %o, %lo, %sz : (tensor<1x2x64x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x63x8xf32>
  return %s : tensor<1x2x63x8xf32>
}

// -----

// A gather table whose dim 1 holds the sequence merged with the batch (a
// [2, 16, ..] tensor reshaped to [1, 32, ..]): reading it whole would need
// the other dims' shards too.
func.func @gather_table_merged(%q: tensor<2x2x16x8xf32>, %idx: tensor<1x3xi32>) -> tensor<1x3x16xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>) -> tensor<2x2x16x8xf32>
  %p = tosa.transpose %o {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x2x16x8xf32>) -> tensor<2x16x2x8xf32>
  %shape = tosa.const_shape {values = dense<[1, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %t = tosa.reshape %p, %shape : (tensor<2x16x2x8xf32>, !tosa.shape<3>) -> tensor<1x32x16xf32>
  // expected-error @+1 {{gathers along the sequence dim merged with other dims; cannot shard it}}
  %g = tosa.gather %t, %idx : (tensor<1x32x16xf32>, tensor<1x3xi32>) -> tensor<1x3x16xf32>
  return %g : tensor<1x3x16xf32>
}
