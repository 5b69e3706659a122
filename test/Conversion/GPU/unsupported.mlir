// RUN: cp-opt %s --split-input-file --cp-lower-to-llvm="target=cuda" -verify-diagnostics

// What the GPU path (target=cuda) cannot lower is an error that names the
// op, never a silent CPU fallback: the backward has no CUDA entry point for
// compiled code yet.

func.func @backward(%do: tensor<1x2x16x8xf32>, %q: tensor<1x2x16x8xf32>, %o: tensor<1x2x16x8xf32>, %l: tensor<1x2x16xf32>) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'cp.sdpa_backward' op has no lowering on the GPU path (target=cuda)}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %q, %q, %o, %l {is_causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
  return %dq : tensor<1x2x16x8xf32>
}

// -----

// The expanded ring's explicit merge has no GPU entry point either.
func.func @merge(%o0: tensor<1x1x4x4xf32>, %l0: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'cp.merge_partial' op has no lowering on the GPU path (target=cuda)}}
  %m, %ml = cp.merge_partial %o0, %l0, %o0, %l0 : (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>)
  return %m : tensor<1x1x4x4xf32>
}

// -----

// Explicit masks are refused at compile time (the GPU twin of the runtime
// entry takes causal and windows only).
func.func @masked(%q: tensor<1x2x8x4xbf16>, %m: tensor<8x8xi1>) -> tensor<1x2x8x4xbf16> {
  // expected-error @+1 {{attention with an explicit mask or document ids has no GPU lowering yet}}
  %o, %l = cp.sdpa %q, %q, %q mask %m : (tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<1x2x8x4xbf16>, tensor<8x8xi1>) -> (tensor<1x2x8x4xbf16>, tensor<1x2x8xf32>)
  return %o : tensor<1x2x8x4xbf16>
}

// -----

// A buffer allocated inside a loop: device buffers are freed at function
// exit, so the GPU path refuses it instead of leaking per iteration.
func.func @alloc_in_loop(%n: index, %x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    // expected-error @+1 {{'memref.alloc' op inside a region has no GPU lowering}}
    %b = memref.alloc() : memref<4xf32>
    memref.copy %x, %b : memref<4xf32> to memref<4xf32>
    memref.copy %b, %x : memref<4xf32> to memref<4xf32>
  }
  return
}
