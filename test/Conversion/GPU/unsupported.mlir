// RUN: cp-opt %s --split-input-file --cp-lower-to-llvm="target=cuda" -verify-diagnostics

// What the GPU path (target=cuda) cannot lower is an error that names the
// op, never a silent CPU fallback.

// The expanded ring's explicit merge has no GPU entry point.
func.func @merge(%o0: tensor<1x1x4x4xf32>, %l0: tensor<1x1x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'cp.merge_partial' op has no lowering on the GPU path (target=cuda)}}
  %m, %ml = cp.merge_partial %o0, %l0, %o0, %l0 : (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4xf32>)
  return %m : tensor<1x1x4x4xf32>
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

// -----

// A host stack buffer that compiled code reads or writes (not a placeholder
// passed to the runtime) has no device counterpart.
func.func @alloca(%x: memref<4xf32>) {
  // expected-error @+1 {{'memref.alloca' op (a host stack buffer) has no GPU lowering}}
  %b = memref.alloca() : memref<4xf32>
  memref.copy %x, %b : memref<4xf32> to memref<4xf32>
  return
}

// -----

// A scalar read of a device buffer on the host is refused, not run.
func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' op has no GPU lowering (target=cuda): it would run on the host over device memory}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// Parallel loops with reductions (scf.reduce with values) are not mapped.
func.func @parallel_reduce(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{'scf.parallel' op with reductions has no GPU mapping}}
  %r = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    %v = memref.load %x[%i] : memref<4xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// -----

// A runtime entry point without a CUDA twin (here written by hand; the
// op-level check above normally reports the op first).
func.func private @cprt_c_seq_scan_f32(memref<*xf32>, memref<*xf32>, i32, i32, i64, i32)
func.func @runtime_call(%a: memref<*xf32>, %b: memref<*xf32>) {
  %k = arith.constant 0 : i32
  %n = arith.constant 16 : i64
  // expected-error @+1 {{runtime entry 'cprt_c_seq_scan_f32' has no GPU twin (target=cuda)}}
  func.call @cprt_c_seq_scan_f32(%a, %b, %k, %k, %n, %k) : (memref<*xf32>, memref<*xf32>, i32, i32, i64, i32) -> ()
  return
}
