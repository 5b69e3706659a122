// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" --verify-diagnostics --allow-unregistered-dialect

// Ops the pass cannot shard stop it with a diagnostic that says why: region
// ops (control flow), calls, and ops without a sequence-sharding model.

func.func @loop(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  // expected-error @+1 {{'scf.for' op carries the sequence through its regions; context parallelism does not shard control flow (scf.for, scf.if, scf.while): unroll or convert it to dataflow first}}
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%x = %q) -> tensor<1x2x16x8xf32> {
    %y = arith.addf %x, %x : tensor<1x2x16x8xf32>
    scf.yield %y : tensor<1x2x16x8xf32>
  }
  %o = cp.sdpa %r, %r, %r : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @pick(%c: i1, %q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'scf.if' op carries the sequence through its regions}}
  %r = scf.if %c -> tensor<1x2x16x8xf32> {
    scf.yield %q : tensor<1x2x16x8xf32>
  } else {
    %y = arith.addf %q, %q : tensor<1x2x16x8xf32>
    scf.yield %y : tensor<1x2x16x8xf32>
  }
  %o = cp.sdpa %r, %r, %r : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func private @norm(tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>

func.func @calls(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'func.call' op passes a tensor that carries the sequence to a call; context parallelism is not interprocedural: inline the callee first (e.g. --inline)}}
  %n = func.call @norm(%q) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %o = cp.sdpa %n, %n, %n : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @unknown(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'tensor.pad' op does not implement the sequence-sharding interface; cannot make it context-parallel}}
  %p = tensor.pad %q low[0, 0, 0, 0] high[0, 0, 0, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    %z = arith.constant 0.0 : f32
    tensor.yield %z : f32
  } : tensor<1x2x16x8xf32> to tensor<1x2x16x8xf32>
  %o = cp.sdpa %p, %p, %p : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @unknown_op(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'test.opaque' op does not implement the sequence-sharding interface; cannot make it context-parallel}}
  %p = "test.opaque"(%q) : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %o = cp.sdpa %p, %p, %p : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// cp's own local ops: the function is context-parallel already.
shard.grid @g(shape = 4)
func.func @twice(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'cp.ring_attention' op already works on local shards of the sequence; a function is made context-parallel once}}
  %r = cp.ring_attention %q, %q, %q on @g {balancer = #cp.balancer<head_tail>, rotate = #cp.rotate<ring>, seq_len = 64 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %o = cp.sdpa %r, %r, %r : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
