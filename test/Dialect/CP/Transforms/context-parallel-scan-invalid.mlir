// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" -verify-diagnostics

// Scans along the sequence that have no collective form are refused at the
// scan.

func.func @exclusive(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %cst = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<1x2x64x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %2 = tensor.empty() : tensor<1x2x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  // expected-error @+1 {{'tm_tensor.scan' op is an exclusive scan along the sequence dim; only inclusive scans (torch.cumsum, torch.cumprod) can be made context-parallel}}
  %4:2 = tm_tensor.scan dimension(2) inclusive(false) ins(%q : tensor<1x2x64x8xf32>) outs(%1, %3 : tensor<1x2x64x8xf32>, tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<1x2x64x8xf32>, tensor<1x2x8xf32>
  %o = cp.sdpa %4#0, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

func.func @cummax(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %cst = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<1x2x64x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %2 = tensor.empty() : tensor<1x2x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  // expected-error @+1 {{'tm_tensor.scan' op scans along the sequence dim with a combiner that has no collective form (expected one arith.add or arith.mul of the two block arguments)}}
  %4:2 = tm_tensor.scan dimension(2) inclusive(true) ins(%q : tensor<1x2x64x8xf32>) outs(%1, %3 : tensor<1x2x64x8xf32>, tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.maximumf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<1x2x64x8xf32>, tensor<1x2x8xf32>
  %o = cp.sdpa %4#0, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

func.func @accumulator_used(%q: tensor<1x2x64x8xf32>) -> (tensor<1x2x64x8xf32>, tensor<1x2x8xf32>) {
  %cst = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<1x2x64x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %2 = tensor.empty() : tensor<1x2x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  // expected-error @+1 {{'tm_tensor.scan' op uses the accumulator result of a scan along the sequence dim (the value at the last position); cannot shard it}}
  %4:2 = tm_tensor.scan dimension(2) inclusive(true) ins(%q : tensor<1x2x64x8xf32>) outs(%1, %3 : tensor<1x2x64x8xf32>, tensor<1x2x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<1x2x64x8xf32>, tensor<1x2x8xf32>
  %o = cp.sdpa %4#0, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o, %4#1 : tensor<1x2x64x8xf32>, tensor<1x2x8xf32>
}

// -----

func.func @narrow_type(%q: tensor<1x2x64x8xf32>, %m: tensor<1x64xi8>) -> tensor<1x2x64x8xf32> {
  %c0 = arith.constant 0 : i8
  %0 = tensor.empty() : tensor<1x64xi8>
  %1 = linalg.fill ins(%c0 : i8) outs(%0 : tensor<1x64xi8>) -> tensor<1x64xi8>
  %2 = tensor.empty() : tensor<1xi8>
  %3 = linalg.fill ins(%c0 : i8) outs(%2 : tensor<1xi8>) -> tensor<1xi8>
  // expected-error @+1 {{'tm_tensor.scan' op scans along the sequence dim over 'i8' elements; context-parallel scans take f32, f64, i32 or i64}}
  %4:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%m : tensor<1x64xi8>) outs(%1, %3 : tensor<1x64xi8>, tensor<1xi8>) {
  ^bb0(%a: i8, %b: i8):
    %s = arith.addi %a, %b : i8
    tm_tensor.yield %s : i8
  } -> tensor<1x64xi8>, tensor<1xi8>
  %e = tensor.empty() : tensor<1x2x64x8xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q, %4#0 : tensor<1x2x64x8xf32>, tensor<1x64xi8>) outs(%e : tensor<1x2x64x8xf32>) {
  ^bb0(%x: f32, %p: i8, %out: f32):
    %f = arith.sitofp %p : i8 to f32
    %y = arith.addf %x, %f : f32
    linalg.yield %y : f32
  } -> tensor<1x2x64x8xf32>
  %o = cp.sdpa %5, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}
