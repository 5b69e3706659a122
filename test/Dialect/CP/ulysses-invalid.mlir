// RUN: cp-opt %s -split-input-file -verify-diagnostics

// One case per verifier branch of cp.seq_to_heads / cp.heads_to_seq.

shard.grid @grid(shape = 4)
func.func @rank(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op expected input and result of one rank, got 4 and 3}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @element_type(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.heads_to_seq' op expected one element type for input and result, got 'f32' and 'f16'}}
  %a = cp.heads_to_seq %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf16>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @dim_range(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op head_dim 4 and seq_dim 2 must be dims of a tensor of rank 4}}
  %a = cp.seq_to_heads %x on @grid head_dim = 4 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @same_dim(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op head_dim and seq_dim must differ, both are 2}}
  %a = cp.seq_to_heads %x on @grid head_dim = 2 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @other_dim(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op only the head and sequence dims may change, but dim 3 is 32 in the input and 16 in the result}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @data_dependent(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op the per_document_head_tail permutation depends on data; expected none, head_tail or striped}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <per_document_head_tail> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @seq_len(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op expected a positive seq_len, got 0}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 0 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @whole_sequence(%x: tensor<1x2x60x32xf32>) {
  // expected-error @+1 {{'cp.heads_to_seq' op expected the whole sequence (seq_len = 64) in dim 2 of the head-sharded tensor, got 60}}
  %a = cp.heads_to_seq %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x2x60x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

func.func @no_grid(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op expected 'nogrid' to name a shard.grid op}}
  %a = cp.seq_to_heads %x on @nogrid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x16x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @local_len(%x: tensor<1x8x12x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op sequence length 64 over 4 ranks with none balancing gives local length 16, but the local sequence dim is 12}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x8x12x32xf32> -> tensor<1x2x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @no_pad(%x: tensor<1x8x13x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op sequence length 50 cannot be split by none balancing over 4 ranks: expected a multiple of 4, or set `pad` to pad with masked positions}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 50 : tensor<1x8x13x32xf32> -> tensor<1x2x50x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @heads_split(%x: tensor<1x6x16x32xf32>) {
  // expected-error @+1 {{'cp.seq_to_heads' op cannot split 6 heads over 4 ranks: expected a multiple of the rank count}}
  %a = cp.seq_to_heads %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x6x16x32xf32> -> tensor<1x1x64x32xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @heads_per_rank(%x: tensor<1x4x64x32xf32>) {
  // expected-error @+1 {{'cp.heads_to_seq' op expected 2 heads per rank (8 over 4 ranks), got 4}}
  %a = cp.heads_to_seq %x on @grid head_dim = 1 seq_dim = 2 balancer = <none> seq_len = 64 : tensor<1x4x64x32xf32> -> tensor<1x8x16x32xf32>
  return
}
