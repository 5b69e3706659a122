// RUN: cp-opt %s --split-input-file --cp-lower-to-runtime -verify-diagnostics

// A shift that is never waited on used to stay behind after the lowering,
// naming the grid the lowering removes (invalid IR; found by
// test/fuzz/fuzz.py).
shard.grid @grid(shape = 2)
func.func @no_wait(%k: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{'cp.shift_start' op expected its token to be used by cp.shift_wait only (a shift never waited on stays pending)}}
  %t = cp.shift_start %k on @grid offset = 1 : tensor<1x4x16x16xf32>
  return
}
