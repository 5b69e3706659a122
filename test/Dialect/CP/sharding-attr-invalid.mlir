// RUN: cp-opt %s -split-input-file -verify-diagnostics

// #cp.sharding: its verifier (dim, seq_len, balancer, required parameters)
// and the dialect's check of `cp.sharding` on function arguments and results.

// expected-error @+1 {{#cp.sharding dim must be >= 0, got -1}}
func.func @f(%x: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @g, dim = -1, seq_len = 4, balancer = none>}) {
  return
}

// -----

// expected-error @+1 {{#cp.sharding seq_len must be >= 1, got 0}}
func.func @f(%x: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 0, seq_len = 0, balancer = none>}) {
  return
}

// -----

// expected-error @+2 {{expected ::mlir::cp::LoadBalancer to be one of: none, head_tail, striped, per_document_head_tail, ptrr}}
// expected-error @+1 {{failed to parse CP_ShardingAttr parameter 'balancer'}}
func.func @f(%x: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 0, seq_len = 4, balancer = zigzag>}) {
  return
}

// -----

// expected-error @+1 {{struct is missing required parameter: seq_len}}
func.func @f(%x: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 0, balancer = none>}) {
  return
}

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: stride}}
func.func @f(%x: tensor<4xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 0, seq_len = 4, balancer = none, stride = 2>}) {
  return
}

// -----

// The untyped dictionary of earlier versions is refused with a location.
// expected-error @+1 {{'func.func' op argument #0: 'cp.sharding' must be a #cp.sharding attribute, got {balancer = #cp.balancer<head_tail>, dim = 1 : i64, grid = @g, seq_len = 64 : i64}}}
func.func @f(%x: tensor<1x16x32xf32> {cp.sharding = {balancer = #cp.balancer<head_tail>, dim = 1 : i64, grid = @g, seq_len = 64 : i64}}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument #0: 'cp.sharding' dim 3 is out of range for 'tensor<1x16x32xf32>'}}
func.func @f(%x: tensor<1x16x32xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 3, seq_len = 64, balancer = none>}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op result #1 has a 'cp.sharding' but type 'f32' (a ranked tensor or memref is sharded)}}
func.func @f(%x: f32) -> (f32, f32 {cp.sharding = #cp.sharding<grid = @g, dim = 0, seq_len = 4, balancer = none>}) {
  return %x, %x : f32, f32
}

// -----

// expected-error @+1 {{'func.func' op argument #0 has a 'cp.sharding' but type 'tensor<*xf32>' (a ranked tensor or memref is sharded)}}
func.func @f(%x: tensor<*xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 0, seq_len = 4, balancer = none>}) {
  return
}

// -----

// A bufferized function keeps it until the lowering drops it.
func.func @f(%x: memref<1x4x16xf32> {cp.sharding = #cp.sharding<grid = @g, dim = 1, seq_len = 64, balancer = head_tail>}) {
  return
}

// -----

// Other cp.* argument attributes are not checked.
func.func @f(%x: tensor<4xf32> {cp.note = 1 : i64}) {
  return
}
