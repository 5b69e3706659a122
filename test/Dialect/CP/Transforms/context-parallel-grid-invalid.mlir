// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=1000000 pad=true" -verify-diagnostics

// The grid cp-context-parallel reuses or creates must carry a ring: one
// static axis of at least one rank, and no more ranks than tokens.

// A grid of size 0 used to divide by zero in the layout (SIGFPE).
// expected-error @+1 {{'shard.grid' op expected at least one rank for the ring, got a grid of size 0}}
shard.grid @cp_grid(shape = 0)
func.func @zero(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// expected-error @+1 {{'shard.grid' op expected a grid of static size for the ring}}
shard.grid @cp_grid(shape = ?)
func.func @dynamic(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// expected-error @+1 {{'shard.grid' op expected a 1-D grid for the ring, got rank 2}}
shard.grid @cp_grid(shape = 2x2)
func.func @two_d(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// A symbol of the grid's name that is not a grid.
// expected-error @+1 {{'func.func' op is named 'cp_grid', the grid the pass would create; rename it or choose another grid name (grid=...)}}
func.func private @cp_grid()
func.func @clash(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// 1,000,000 ranks with pad=true for 64 tokens: used to be accepted and then
// unrolled one ring step per rank (a hang).
// expected-error @+1 {{sequence length 64 over 1000000 ranks would leave ranks without a token; expected at most 64 ranks}}
func.func @too_many_ranks(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// An existing grid of 65 ranks for 64 tokens.
shard.grid @cp_grid(shape = 65)
// expected-error @+1 {{sequence length 64 over 65 ranks would leave ranks without a token; expected at most 64 ranks}}
func.func @one_too_many(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %o = cp.sdpa %q, %q, %q : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}
