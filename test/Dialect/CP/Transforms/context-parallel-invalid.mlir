// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" -verify-diagnostics

// Every rejection of cp-context-parallel has a diagnostic at the op that
// would otherwise be miscompiled.

// expected-error @+1 {{sequence length 60 cannot be split by head_tail balancing over 4 ranks: expected a multiple of 8; pass pad=true to pad with masked positions}}
func.func @no_split(%q: tensor<1x2x60x8xf32>) -> tensor<1x2x60x8xf32> {
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x60x8xf32>, tensor<1x2x60x8xf32>, tensor<1x2x60x8xf32>) -> tensor<1x2x60x8xf32>
  return %o : tensor<1x2x60x8xf32>
}

// -----

func.func @cross(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{attends 16 queries to 32 keys; context parallelism shards self-attention over one sequence (equal query and key lengths)}}
  %o = cp.sdpa %q, %k, %k : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @dropout(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{has dropout_p = 1.000000e-01; dropout under context parallelism is not supported}}
  %o = cp.sdpa %q, %q, %q {dropout_p = 0.1 : f64} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @dynamic(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  // expected-error @+1 {{has a dynamic sequence length; context parallelism needs static shapes}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}

// -----

func.func @two_lengths(%q: tensor<1x2x16x8xf32>, %p: tensor<1x2x32x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>) {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{has sequence length 32 but another attention op in this function has 16; expected one sequence length per function}}
  %o2 = cp.sdpa %p, %p, %p : (tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x32x8xf32>
  return %o, %o2 : tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>
}

// -----

// A softmax over the sequence outside attention mixes positions.
func.func @softmax_seq(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %e = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{normalises over the sequence dim outside attention; cannot shard it}}
  %s = linalg.softmax dimension(2) ins(%o : tensor<1x2x16x8xf32>) outs(%e : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %s : tensor<1x2x16x8xf32>
}

// -----

// The sequence merged with heads can flow through element-wise code, but a
// function result must hold it as a plain dim (the sharding attribute
// describes one dim).
func.func @merge_seq(%q: tensor<1x2x16x8xf32>) -> tensor<1x32x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{a function argument, result or constant holds the sequence merged with other dims (dim 1); cannot shard it}}
  %c = tensor.collapse_shape %o [[0], [1, 2], [3]] : tensor<1x2x16x8xf32> into tensor<1x32x8xf32>
  return %c : tensor<1x32x8xf32>
}

// -----

// Slicing along the sequence is position-dependent in a way the pass does not rewrite.
func.func @slice(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x4x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{slices the sequence dim (positions depend on the slice); cannot shard it}}
  %s = tensor.extract_slice %o[0, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x2x16x8xf32> to tensor<1x2x4x8xf32>
  return %s : tensor<1x2x4x8xf32>
}

// -----

// A product over the sequence whose init is not zero would count it W times.
func.func @reduce_init(%q: tensor<1x2x16x8xf32>, %init: tensor<1x2x8xf32>) -> tensor<1x2x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{reduces over the sequence dim with a combiner or init that has no collective form (expected a sum from a zero fill, or a max/min)}}
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, s, d) -> (b, h, s, d)>, affine_map<(b, h, s, d) -> (b, h, d)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%o : tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.mulf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8xf32>
  return %r : tensor<1x2x8xf32>
}


// -----

func.func @concat_seq(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x32x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{concatenates along the sequence dim; cannot shard it}}
  %c = tensor.concat dim(2) %o, %o : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x32x8xf32>
  return %c : tensor<1x2x32x8xf32>
}

// -----

// A reshape that splits the sequence over two dims.
func.func @split_seq(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x4x4x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  // expected-error @+1 {{splits the sequence dim across several dims; cannot shard it}}
  %e = tensor.expand_shape %o [[0], [1], [2, 3], [4]] output_shape [1, 2, 4, 4, 8] : tensor<1x2x16x8xf32> into tensor<1x2x4x4x8xf32>
  return %e : tensor<1x2x4x4x8xf32>
}

