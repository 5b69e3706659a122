// RUN: cp-opt %s -split-input-file -verify-diagnostics

// Malformed cp syntax gives a diagnostic with a location, never a crash.

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+2 {{expected ::mlir::cp::RotateMethod to be one of: allgather, alltoall, ring}}
  // expected-error @+1 {{failed to parse CP_RotateMethodAttr parameter 'value'}}
  %o = cp.ring_attention %q, %q, %q on @grid {rotate = #cp.rotate<bogus>, balancer = #cp.balancer<none>, seq_len = 64 : i64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8xf32>) {
  // expected-error @+2 {{expected ::mlir::cp::LoadBalancer to be one of: none, head_tail, striped, per_document_head_tail, ptrr}}
  // expected-error @+1 {{failed to parse CP_LoadBalancerAttr parameter 'value'}}
  %l = cp.shard %x on @grid dim = 0 balancer = <zigzag> : tensor<8xf32> -> tensor<2xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+2 {{expected ::mlir::cp::CausalBehavior to be one of: skip, not_causal, causal, causal_strict, kv_head_half, q_tail_half}}
  // expected-error @+1 {{failed to parse CP_CausalBehaviorAttr parameter 'value'}}
  %o, %l = cp.block_attention %q, %q, %q {causal = #cp.causal<diagonal>} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{expected ','}}
  %o = cp.sdpa %q, %q : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{requires attribute 'causal'}}
  %o, %l = cp.block_attention %q, %q, %q : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x16x16xf32>) {
  // expected-error @+1 {{operand #0 must be}}
  %k = "cp.shift_wait"(%q) : (tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  return
}

// -----

// expected-error @+1 {{unknown  type `token` in dialect `cp`}}
func.func @f(%t: !cp.token) {
  return
}
