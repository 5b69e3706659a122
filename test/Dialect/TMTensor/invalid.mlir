// RUN: cp-opt %s -split-input-file -verify-diagnostics

func.func @dim_out_of_range(%x: tensor<4xf32>, %acc: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op dimension 1 is out of range for an input of rank 1}}
  %r:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%x : tensor<4xf32>) outs(%x, %acc : tensor<4xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<4xf32>, tensor<f32>
  return %r#0 : tensor<4xf32>
}

// -----

func.func @output_type(%x: tensor<4xf32>, %o: tensor<5xf32>, %acc: tensor<f32>) -> tensor<5xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op expected the output type 'tensor<5xf32>' to equal the input type 'tensor<4xf32>'}}
  %r:2 = tm_tensor.scan dimension(0) inclusive(true) ins(%x : tensor<4xf32>) outs(%o, %acc : tensor<5xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<5xf32>, tensor<f32>
  return %r#0 : tensor<5xf32>
}

// -----

func.func @accumulator_shape(%x: tensor<2x4xf32>, %acc: tensor<4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op expected the accumulator to have the input's shape without dimension 1 and its element type, got 'tensor<4xf32>'}}
  %r:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%x : tensor<2x4xf32>) outs(%x, %acc : tensor<2x4xf32>, tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<2x4xf32>, tensor<4xf32>
  return %r#0 : tensor<2x4xf32>
}

// -----

func.func @result_types(%x: tensor<4xf32>, %acc: tensor<f32>) -> tensor<4xf16> {
  // expected-error @+1 {{'tm_tensor.scan' op expected the results to have the types of the outs operands}}
  %r:2 = tm_tensor.scan dimension(0) inclusive(true) ins(%x : tensor<4xf32>) outs(%x, %acc : tensor<4xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<4xf16>, tensor<f32>
  return %r#0 : tensor<4xf16>
}

// -----

func.func @region_args(%x: tensor<4xf32>, %acc: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op expected the region to take two arguments of the element type 'f32'}}
  %r:2 = tm_tensor.scan dimension(0) inclusive(true) ins(%x : tensor<4xf32>) outs(%x, %acc : tensor<4xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f64):
    tm_tensor.yield %a : f32
  } -> tensor<4xf32>, tensor<f32>
  return %r#0 : tensor<4xf32>
}

// -----

func.func @region_yield(%x: tensor<4xf32>, %acc: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op expected the region to yield one value of type 'f32'}}
  %r:2 = tm_tensor.scan dimension(0) inclusive(true) ins(%x : tensor<4xf32>) outs(%x, %acc : tensor<4xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32):
    tm_tensor.yield %a, %b : f32, f32
  } -> tensor<4xf32>, tensor<f32>
  return %r#0 : tensor<4xf32>
}

// -----

func.func @yield_outside(%a: f32) {
  // expected-error @+1 {{'tm_tensor.yield' op expects parent op 'tm_tensor.scan'}}
  tm_tensor.yield %a : f32
}

// -----

// Other tm_tensor ops are refused by name (torch-mlir's index_put).
func.func @scatter(%u: tensor<3xf32>, %i: tensor<3x1xi32>, %o: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tm_tensor.scatter' is not supported: cp defines only tm_tensor.scan and tm_tensor.yield}}
  %r = tm_tensor.scatter {dimension_map = array<i64: 0>} unique_indices(false) ins(%u, %i : tensor<3xf32>, tensor<3x1xi32>) outs(%o : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32):
    tm_tensor.yield %a : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}
