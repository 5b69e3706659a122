// RUN: cp-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// One case per verifier branch of the cp dialect.

func.func @f(%q: tensor<8xf32>, %k: tensor<8xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{expected query of rank >= 2}}
  %o = cp.sdpa %q, %k, %v : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected query, key and value of one rank, got 4, 3, 4}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xi32>, %k: tensor<1x4x8x16xi32>, %v: tensor<1x4x8x16xi32>) {
  // expected-error @+1 {{expected a floating-point query, got 'i32'}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xi32>, tensor<1x4x8x16xi32>, tensor<1x4x8x16xi32>) -> tensor<1x4x8x16xi32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf16>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected query, key and value to share one element type}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf16>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x32xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{head dim mismatch: query has 16, key has 32}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x32xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x9x16xf32>) {
  // expected-error @+1 {{key and value sequence lengths differ: 8 vs 9}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error @+1 {{batch dim 0 differs between query, key and value: 1, 2, 2}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{key and value head counts differ: 2 vs 4}}
  %o = cp.sdpa %q, %k, %v {enable_gqa} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %v: tensor<1x3x8x16xf32>) {
  // expected-error @+1 {{GQA needs the query head count (4) to be a multiple of the key/value head count (3)}}
  %o = cp.sdpa %q, %k, %v {enable_gqa} : (tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{query has 4 heads but key/value have 2; set enable_gqa for grouped-query attention}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>) {
  // expected-error @+1 {{enable_gqa needs a heads dim: expected rank >= 3, got rank 2}}
  %o = cp.sdpa %q, %k, %v {enable_gqa} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected a finite, non-zero scale, got 0}}
  %o = cp.sdpa %q, %k, %v {scale = 0.0 : f64} : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %m: tensor<8x8xi8>) {
  // expected-error @+1 {{expected an i1 (keep) or float (additive) mask, got element type 'i8'}}
  %o = cp.sdpa %q, %k, %v mask %m : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8x8xi8>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %m: tensor<1x1x1x8x8xi1>) {
  // expected-error @+1 {{mask of shape [1, 1, 1, 8, 8] is not broadcastable to [1, 4, 8, 8]}}
  %o = cp.sdpa %q, %k, %v mask %m : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x1x1x8x8xi1>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %m: tensor<8x7xf32>) {
  // expected-error @+1 {{mask of shape [8, 7] is not broadcastable to [1, 4, 8, 8]}}
  %o = cp.sdpa %q, %k, %v mask %m : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8x7xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected output of shape [1, 4, 8, 16], got [1, 4, 8, 8]}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected output element type 'f32', got 'f16'}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf16>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xbf16>, %k: tensor<1x4x8x16xbf16>, %v: tensor<1x4x8x16xbf16>) {
  // expected-error @+1 {{expected lse element type 'f32', got 'bf16'}}
  %o, %l = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xbf16>, tensor<1x4x8x16xbf16>, tensor<1x4x8x16xbf16>) -> (tensor<1x4x8x16xbf16>, tensor<1x4x8xbf16>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected lse of shape [1, 4, 8], got [1, 4, 16]}}
  %o, %l = cp.sdpa %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected dropout_p in [0, 1), got 1}}
  %o = cp.sdpa %q, %k, %v {dropout_p = 1.0 : f64} : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%do: tensor<1x4x8x16xf32>, %q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %o: tensor<1x4x8x16xf32>, %l: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expected a floating-point grad_query, got 'i32'}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x16xi32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
  return
}

// -----

func.func @f(%do: tensor<1x4x8x16xf32>, %q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %o: tensor<1x4x8x16xf32>, %l: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expected grad_query of shape [1, 4, 8, 16], got [1, 4, 8, 8]}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
  return
}

// -----

func.func @f(%do: tensor<1x4x8x8xf32>, %q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %o: tensor<1x4x8x16xf32>, %l: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expected grad_output of shape [1, 4, 8, 16], got [1, 4, 8, 8]}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l : (tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{mask_mod must have exactly one block}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      cf.br ^bb1
    ^bb1:
      %t = arith.constant true
      cp.yield %t : i1
    }
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{mask_mod expects block arguments (b: index, h: index, q_idx: index, kv_idx: index)}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
    mask_mod {
    ^bb0(%qi: index, %ki: index):
      %t = arith.constant true
      cp.yield %t : i1
    }
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{mask_mod must end with cp.yield}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      "foo.terminator"() : () -> ()
    }
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{mask_mod must yield exactly one 'i1'}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      cp.yield %qi : index
    }
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{score_mod expects block arguments (score: f32, b: index, h: index, q_idx: index, kv_idx: index)}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
    score_mod {
    ^bb0(%s: f16, %b: index, %h: index, %qi: index, %ki: index):
      cp.yield %s : f16
    }
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected output of shape [1, 4, 8, 16], got [1, 4, 8, 8]}}
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @f(%i: index) {
  // expected-error @+1 {{expects parent op 'cp.flex_attention'}}
  cp.yield %i : index
}

// -----

func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{expected 'nogrid' to name a shard.grid op}}
  %l = cp.shard %x on @nogrid dim = 2 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{grid axis 1 does not exist: grid 'grid' has 1 axes}}
  %l = cp.shard %x on @grid grid_axes = [1] dim = 2 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

// A 0-sized grid used to divide by zero in the split check (SIGFPE).
shard.grid @grid(shape = 0)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{grid 'grid' axis 0 has size 0; a ring needs at least one rank}}
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4x0)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{grid 'grid' axis 1 has size 0; a ring needs at least one rank}}
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

shard.grid @grid(shape = 2x2)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{grid axis 0 is listed twice}}
  %l = cp.shard %x on @grid grid_axes = [0, 0] dim = 2 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x60x16xf32>) {
  // expected-error @+1 {{sequence length 60 cannot be split by head_tail balancing over 4 ranks: expected a multiple of 8, or set `pad` to pad with masked positions}}
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail> : tensor<1x4x60x16xf32> -> tensor<1x4x8x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x60x16xf32>) {
  // expected-error @+1 {{sequence length 60 over 4 ranks with head_tail balancing gives local length 16, but the local sequence dim is 15}}
  %l = cp.shard %x on @grid dim = 2 balancer = <head_tail> {pad} : tensor<1x4x60x16xf32> -> tensor<1x4x15x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{dim 4 is out of range for a tensor of rank 4}}
  %l = cp.shard %x on @grid dim = 4 balancer = <head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{expected local and global tensors of one rank, got 3 and 4}}
  %l = cp.shard %x on @grid dim = 2 balancer = <none> : tensor<1x4x64x16xf32> -> tensor<4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{expected one element type for local and global tensors, got 'f16' and 'f32'}}
  %l = cp.shard %x on @grid dim = 2 balancer = <none> : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf16>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{only dim 2 may change, but dim 1 is 4 globally and 2 locally}}
  %l = cp.shard %x on @grid dim = 2 balancer = <none> : tensor<1x4x64x16xf32> -> tensor<1x2x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{expected a positive block_size, got 0}}
  %l = cp.shard %x on @grid dim = 2 balancer = <striped> {block_size = 0 : i64} : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>) {
  // expected-error @+1 {{per_document_head_tail balancing needs `documents` (document ids)}}
  %l = cp.shard %x on @grid dim = 2 balancer = <per_document_head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>, %d: tensor<64xf32>) {
  // expected-error @+1 {{expected integer document ids, got element type 'f32'}}
  %l = cp.shard %x documents %d : tensor<64xf32> on @grid dim = 2 balancer = <per_document_head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>, %d: tensor<1x1x64xi32>) {
  // expected-error @+1 {{expected document ids of rank 1 ([seq]) or 2 ([batch, seq]), got rank 3}}
  %l = cp.shard %x documents %d : tensor<1x1x64xi32> on @grid dim = 2 balancer = <per_document_head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%x: tensor<1x4x64x16xf32>, %d: tensor<32xi32>) {
  // expected-error @+1 {{expected document ids of length 64, got 32}}
  %l = cp.shard %x documents %d : tensor<32xi32> on @grid dim = 2 balancer = <per_document_head_tail> : tensor<1x4x64x16xf32> -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%l: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{sequence length 66 cannot be split by striped balancing over 4 ranks: expected a multiple of 4}}
  %x = cp.unshard %l on @grid dim = 2 balancer = <striped> : tensor<1x4x16x16xf32> -> tensor<1x4x66x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%l: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{only dim 2 may change, but dim 3 is 8 globally and 16 locally}}
  %x = cp.unshard %l on @grid dim = 2 balancer = <striped> : tensor<1x4x16x16xf32> -> tensor<1x4x64x8xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index) {
  // expected-error @+1 {{per_document_head_tail positions come from the document ids at run time; expected `documents`}}
  %p = cp.global_position %i, %r on @grid balancer = <per_document_head_tail> seq_len = 64 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index, %d: tensor<64xi32>) {
  // expected-error @+1 {{`documents` is only taken with per_document_head_tail balancing}}
  %p = cp.global_position %i, %r documents %d : tensor<64xi32> on @grid balancer = <head_tail> seq_len = 64 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index, %d: tensor<63xi32>) {
  // expected-error @+1 {{expected document ids of length 64, got 63}}
  %p = cp.global_position %i, %r documents %d : tensor<63xi32> on @grid balancer = <per_document_head_tail> seq_len = 64 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index, %d: tensor<2x64xi32>) {
  // expected-error @+1 {{expected the document ids of one sequence ([seq_len] or [1, seq_len]), got a batch of 2}}
  %p = cp.global_position %i, %r documents %d : tensor<2x64xi32> on @grid balancer = <per_document_head_tail> seq_len = 64 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index, %d: tensor<64xf32>) {
  // expected-error @+1 {{expected integer document ids, got element type 'f32'}}
  %p = cp.global_position %i, %r documents %d : tensor<64xf32> on @grid balancer = <per_document_head_tail> seq_len = 64 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index) {
  // expected-error @+1 {{expected a positive seq_len, got -1}}
  %p = cp.global_position %i, %r on @grid balancer = <head_tail> seq_len = -1 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%i: index, %r: index) {
  // expected-error @+1 {{sequence length 65 cannot be split by none balancing over 4 ranks: expected a multiple of 4}}
  %p = cp.global_position %i, %r on @grid balancer = <none> seq_len = 65 : index
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %k: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected query and key shards of one local sequence length (self-attention over one sharded sequence), got 16 and 8}}
  %o = cp.ring_attention %q, %k, %k on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected a positive seq_len, got 0}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 0 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected a positive window, got 0}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64, window = 0 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{per_document_head_tail balancing needs segment_ids (document ids)}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<per_document_head_tail>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %s: tensor<8xi32>) {
  // expected-error @+1 {{expected segment_ids (the whole sequence's document ids) of length 64, got 8}}
  %o = cp.ring_attention %q, %q, %q segment_ids %s on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<per_document_head_tail>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<8xi32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %m: tensor<16x64xi32>) {
  // expected-error @+1 {{expected an i1 (keep) or float (additive) mask, got element type 'i32'}}
  %o = cp.ring_attention %q, %q, %q mask %m on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16x64xi32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %m: tensor<64xi1>) {
  // expected-error @+1 {{expected a mask of rank 2 to 4 ([..., L, W*L]), got rank 1}}
  %o = cp.ring_attention %q, %q, %q mask %m on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<64xi1>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %m: tensor<8x64xi1>) {
  // expected-error @+1 {{expected the mask to have one row per local query (16) or one row for all of them, got 8}}
  %o = cp.ring_attention %q, %q, %q mask %m on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<8x64xi1>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>, %m: tensor<16x16xi1>) {
  // expected-error @+1 {{expected the mask to have one column per key of the whole sequence in original order (seq_len = 64), got 16}}
  %o = cp.ring_attention %q, %q, %q mask %m on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16x16xi1>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{sequence length 32 over 4 ranks with head_tail balancing gives local length 8, but the local sequence dim is 16}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>, seq_len = 32 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{sequence length 62 cannot be split by head_tail balancing over 4 ranks: expected a multiple of 8, or set `pad` to pad with masked positions}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<alltoall>, balancer = #cp.balancer<head_tail>, seq_len = 62 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected 'grid' to name a shard.grid op}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%do: tensor<1x4x16x16xf32>, %q: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{expected grad_key of shape [1, 4, 16, 16], got [1, 4, 8, 16]}}
  %dq, %dk, %dv = cp.ring_attention_backward %do, %q, %q, %q, %q, %l on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x16x16xf32>)
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%do: tensor<1x4x16x16xf32>, %q: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{sequence length 60 over 4 ranks with striped balancing gives local length 15, but the local sequence dim is 16}}
  %dq, %dk, %dv = cp.ring_attention_backward %do, %q, %q, %q, %q, %l on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<striped>, seq_len = 60 : i64, pad} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>)
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f() {
  // expected-error @+1 {{expected at least one tensor to shift}}
  %t = "cp.shift_start"() {grid = @grid, offset = 1 : i64} : () -> !cp.shift_token
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%k: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected an offset in (-4, 4) for a ring of 4 ranks, got 4}}
  %t = cp.shift_start %k on @grid offset = 4 : tensor<1x4x16x16xf32>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%k: tensor<1x4x16x16xf32>) {
  %t = cp.shift_start %k on @grid offset = 1 : tensor<1x4x16x16xf32>
  // expected-error @+1 {{expected the types sent by the matching cp.shift_start ('tensor<1x4x16x16xf32>'), got 'tensor<1x4x16x16xf16>'}}
  %k1 = cp.shift_wait %t : tensor<1x4x16x16xf16>
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @f(%k: tensor<1x4x16x16xf32>) {
  %t = cp.shift_start %k on @grid offset = -1 : tensor<1x4x16x16xf32>
  // expected-error @+1 {{a shift token must be waited on exactly once}}
  %k1 = cp.shift_wait %t : tensor<1x4x16x16xf32>
  %k2 = cp.shift_wait %t : tensor<1x4x16x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %k: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{a causal block needs as many queries as keys, got 16 and 8}}
  %o, %l = cp.block_attention %q, %k, %k {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %k: tensor<1x4x7x16xf32>) {
  // expected-error @+1 {{kv_head_half needs an even key block, got 7}}
  %o, %l = cp.block_attention %q, %k, %k {causal = #cp.causal<kv_head_half>} : (tensor<1x4x16x16xf32>, tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x15x16xf32>, %k: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{q_tail_half needs an even query block, got 15}}
  %o, %l = cp.block_attention %q, %k, %k {causal = #cp.causal<q_tail_half>} : (tensor<1x4x15x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> (tensor<1x4x15x16xf32>, tensor<1x4x15xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %p: tensor<16xf32>) {
  // expected-error @+1 {{expected integer q_positions, got element type 'f32'}}
  %o, %l = cp.block_attention %q, %q, %q positions(%p, %p) {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %p: tensor<16xindex>, %kp: tensor<8xindex>) {
  // expected-error @+1 {{expected kv_positions of length 16, got 8}}
  %o, %l = cp.block_attention %q, %q, %q positions(%p, %kp) {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16xindex>, tensor<8xindex>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %s: tensor<16xindex>) {
  // expected-error @+1 {{expected integer q_segment_ids, got element type 'index'}}
  %o, %l = cp.block_attention %q, %q, %q segment_ids(%s, %s) {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16xindex>, tensor<16xindex>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %s: tensor<16xi32>, %ks: tensor<2x8xi32>) {
  // expected-error @+1 {{expected kv_segment_ids of length 16, got 8}}
  %o, %l = cp.block_attention %q, %q, %q segment_ids(%s, %ks) {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16xi32>, tensor<2x8xi32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>, %p: tensor<16xi64>) {
  // expected-error @+1 {{expected a positive window, got -2}}
  %o, %l = cp.block_attention %q, %q, %q positions(%p, %p) {causal = #cp.causal<causal>, window = -2 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<16xi64>, tensor<16xi64>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{a window needs positions(q_positions, kv_positions) to know the distance of tokens}}
  %o, %l = cp.block_attention %q, %q, %q {causal = #cp.causal<not_causal>, window = 4 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected lse of shape [1, 4, 16], got [1, 4, 8]}}
  %o, %l = cp.block_attention %q, %q, %q {causal = #cp.causal<not_causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x8xf32>)
  return
}

// -----

func.func @f(%do: tensor<1x4x16x16xf32>, %q: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{expected a floating-point grad_value, got 'i8'}}
  %dq, %dk, %dv = cp.block_attention_backward %do, %q, %q, %q, %q, %l {causal = #cp.causal<causal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xi8>)
  return
}

// -----

func.func @f(%o: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>, %o2: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expected partial outputs of one shape, got [1, 4, 16, 16] and [1, 4, 8, 16]}}
  %m, %ml = cp.merge_partial %o, %l, %o2, %l : (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%o: tensor<f32>, %l: tensor<f32>) {
  // expected-error @+1 {{expected partial outputs of rank >= 1}}
  %m, %ml = cp.merge_partial %o, %l, %o, %l : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
  return
}

// -----

func.func @f(%o: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>, %lb: tensor<1x4x16xf16>) {
  // expected-error @+1 {{expected lse_b element type 'f32', got 'f16'}}
  %m, %ml = cp.merge_partial %o, %l, %o, %lb : (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf16>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%o: tensor<1x4x16x16xf32>, %l: tensor<1x4x16xf32>) {
  // expected-error @+1 {{expected merged lse of shape [1, 4, 16], got [1, 4, 15]}}
  %m, %ml = cp.merge_partial %o, %l, %o, %l : (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x15xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %d: tensor<8xf32>) {
  // expected-error @+1 {{expected integer segment_ids, got element type 'f32'}}
  %o = cp.sdpa %q, %q, %q segment_ids %d : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %d: tensor<9xi32>) {
  // expected-error @+1 {{expected segment_ids of length 8, got 9}}
  %o = cp.sdpa %q, %q, %q segment_ids %d : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<9xi32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x6x16xf32>, %d: tensor<8xi32>) {
  // expected-error @+1 {{segment_ids need self-attention (equal query and key lengths), got 8 queries and 6 keys}}
  %o = cp.sdpa %q, %k, %k segment_ids %d : (tensor<1x4x8x16xf32>, tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>, tensor<8xi32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x8x16xf32>, %d: tensor<3x8xi32>) {
  // expected-error @+1 {{expected segment_ids with batch 2 (the query's first dim) or 1, got 3}}
  %o = cp.sdpa %q, %q, %q segment_ids %d : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<3x8xi32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8x16xf32>, %d: tensor<1x8xi32>) {
  // expected-error @+1 {{segment_ids of rank 2 ([batch, seq]) need a query with a batch dim ([batch, heads, seq, head_dim]), got a query of rank 3}}
  %o = cp.sdpa %q, %q, %q segment_ids %d : (tensor<4x8x16xf32>, tensor<4x8x16xf32>, tensor<4x8x16xf32>, tensor<1x8xi32>) -> tensor<4x8x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x8x16xf32>, %lse: tensor<1x4x8xf32>, %d: tensor<1x1x8xi32>) {
  // expected-error @+1 {{expected segment_ids of rank 1 ([seq]) or 2 ([batch, seq]), got rank 3}}
  %dq, %dk, %dv = cp.sdpa_backward %q, %q, %q, %q, %q, %lse segment_ids %d : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8xf32>, tensor<1x1x8xi32>) -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
  return
}
