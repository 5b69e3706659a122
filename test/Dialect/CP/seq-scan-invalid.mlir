// RUN: cp-opt %s -split-input-file -verify-diagnostics

shard.grid @grid(shape = 4)
func.func @dim_range(%x: tensor<1x16xi64>) -> tensor<1x16xi64> {
  // expected-error @+1 {{'cp.seq_scan' op dim 2 is out of range for a tensor of rank 2}}
  %a = cp.seq_scan %x on @grid dim = 2 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
  return %a : tensor<1x16xi64>
}

// -----

shard.grid @grid(shape = 4)
func.func @data_dependent(%x: tensor<1x16xi64>) -> tensor<1x16xi64> {
  // expected-error @+1 {{'cp.seq_scan' op the ptrr permutation depends on data; expected none, head_tail or striped}}
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <ptrr> seq_len = 64 kind = <sum> : tensor<1x16xi64>
  return %a : tensor<1x16xi64>
}

// -----

shard.grid @grid(shape = 4)
func.func @seq_len(%x: tensor<1x16xi64>) -> tensor<1x16xi64> {
  // expected-error @+1 {{'cp.seq_scan' op expected a positive seq_len, got 0}}
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 0 kind = <sum> : tensor<1x16xi64>
  return %a : tensor<1x16xi64>
}

// -----

shard.grid @grid(shape = 4)
func.func @element_type(%x: tensor<1x16xf16>) -> tensor<1x16xf16> {
  // expected-error @+1 {{'cp.seq_scan' op scans f32, f64, i32 or i64 elements, got 'f16'}}
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xf16>
  return %a : tensor<1x16xf16>
}

// -----

func.func @no_grid(%x: tensor<1x16xi64>) -> tensor<1x16xi64> {
  // expected-error @+1 {{'cp.seq_scan' op expected 'nogrid' to name a shard.grid op}}
  %a = cp.seq_scan %x on @nogrid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x16xi64>
  return %a : tensor<1x16xi64>
}

// -----

shard.grid @grid(shape = 4)
func.func @local_length(%x: tensor<1x8xi64>) -> tensor<1x8xi64> {
  // expected-error @+1 {{'cp.seq_scan' op sequence length 64 over 4 ranks with head_tail balancing gives local length 16, but the local sequence dim is 8}}
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 64 kind = <sum> : tensor<1x8xi64>
  return %a : tensor<1x8xi64>
}

// -----

shard.grid @grid(shape = 4)
func.func @split(%x: tensor<1x3xi64>) -> tensor<1x3xi64> {
  // expected-error @+1 {{'cp.seq_scan' op sequence length 10 cannot be split by head_tail balancing over 4 ranks: expected a multiple of 8, or set `pad` to pad with masked positions}}
  %a = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 10 kind = <sum> : tensor<1x3xi64>
  return %a : tensor<1x3xi64>
}
