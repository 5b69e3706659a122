// RUN: cp-opt %s --cp-lower-tm-tensor -verify-diagnostics

func.func @dynamic(%x: tensor<?xf32>, %acc: tensor<f32>) -> tensor<?xf32> {
  // expected-error @+1 {{'tm_tensor.scan' op the lowering needs static shapes}}
  %r:2 = tm_tensor.scan dimension(0) inclusive(true) ins(%x : tensor<?xf32>) outs(%x, %acc : tensor<?xf32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    tm_tensor.yield %s : f32
  } -> tensor<?xf32>, tensor<f32>
  return %r#0 : tensor<?xf32>
}
