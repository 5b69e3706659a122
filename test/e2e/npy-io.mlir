// cp-run's .npy reader/writer and its input checks, on a small
// single-device module (Inputs/add.mlir). Exit codes: 1 usage/input error,
// 4 outputs beyond tolerance.

// f32 + f64 (format 2.0, converted to f32): written, then read back and
// compared with the expected sum.
// RUN: %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/b_f64_v2.npy --outputs %t.sum.npy --expect %S/Inputs/sum.npy 2>&1 | FileCheck %s --check-prefix=IO
// IO: converted <f8 to f32
// IO: wrote {{.*}}sum.npy
// IO: result #0 vs {{.*}}sum.npy f32(2, 3): max abs err 0.000e+00{{.*}} ok
// RUN: %cp-run %S/Inputs/add.mlir --entry add --inputs %t.sum.npy,%S/Inputs/a_f32.npy --outputs %t.sum2.npy --quiet
// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %t.sum2.npy,%S/Inputs/a_f32.npy --expect %t.sum.npy --quiet 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: result #0 vs {{.*}}: max abs err {{.*}} FAIL: 6 of 6 elements beyond tolerance; worst at (1, 2): got 78, want 66

// Integers pass unconverted; a float file for an integer argument is an error.
// RUN: %cp-run %S/Inputs/add.mlir --entry scale_i32 --inputs %S/Inputs/i32.npy --outputs %t.i32.npy --quiet
// RUN: not %cp-run %S/Inputs/add.mlir --entry scale_i32 --inputs %S/Inputs/i64.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: {{.*}}i64.npy (argument #0): dtype <i8 (i64) does not match the argument's element type i32

// bf16 is written as raw bits ('<u2') and read back from them; doubling is
// exact in bf16.
// RUN: %cp-run %S/Inputs/add.mlir --entry double_bf16 --random-inputs --seed 5 --outputs %t.bf16.npy --quiet
// RUN: head -c 74 %t.bf16.npy | FileCheck %s --check-prefix=BF16HDR
// BF16HDR: {'descr': '<u2', 'fortran_order': False, 'shape': (3, 5), }
// RUN: %cp-run %S/Inputs/add.mlir --entry double_bf16 --inputs %t.bf16.npy --outputs %t.bf16x4.npy --quiet
// RUN: %cp-run %S/Inputs/add.mlir --entry double_bf16 --random-inputs --seed 5 --outputs %t.bf16.npy --expect %t.bf16.npy --rtol 0 --atol 0 2>&1 | FileCheck %s --check-prefix=BF16
// BF16: result #0 vs {{.*}}bf16.npy bf16(3, 5): max abs err 0.000e+00{{.*}} ok

// RUN: not %cp-run %S/Inputs/add.mlir --entry nope --random-inputs 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: error: {{.*}}add.mlir: no function @nope (functions: @add, @scale_i32, @double_bf16)

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: error: @add takes 2 argument(s), --inputs gave 1

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/shape_3x2.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: {{.*}}shape_3x2.npy: shape (3, 2) does not match argument #1 of @add, whose whole shape is (2, 3) (tensor<2x3xf32>)

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/fortran.npy 2>&1 | FileCheck %s --check-prefix=FORTRAN
// FORTRAN: error: {{.*}}fortran.npy: Fortran-order arrays are not supported

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/not_npy.npy 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: error: {{.*}}not_npy.npy: not a .npy file (bad magic

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/big_endian.npy 2>&1 | FileCheck %s --check-prefix=ENDIAN
// ENDIAN: error: {{.*}}big_endian.npy: big-endian dtype '>f4' is not supported

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/truncated.npy 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: error: {{.*}}truncated.npy: data size 12 bytes does not match shape (2, 3) of <f4 (24 bytes)

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.missing.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: {{.*}}missing.npy: cannot read: No such file or directory

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --random-inputs --outputs %t.a.npy,%t.b.npy 2>&1 | FileCheck %s --check-prefix=OUTS
// OUTS: error: @add has 1 result(s), --outputs gave 2

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --random-inputs --backend cuda 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: error: --backend cuda compiles ahead of time only (--emit-object / --emit-header / --emit-llvm): run the object with cprt-gpu-run

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=NOREF
// NOREF: error: --compare-single-device needs --pipeline
