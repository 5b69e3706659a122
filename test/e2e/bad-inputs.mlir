// cp-run's bad-input suite (issue 14): malformed, truncated, mistyped and
// misshapen .npy files, huge declared shapes, wrong argument counts and
// outputs that cannot be written. Each case gives an error naming the file
// or argument, exit code 1 (docs/cp-run.md) and no output file. The .npy
// files are made here by Inputs/mknpy.py. npy-io.mlir and bad-args.mlir
// cover the rest (bad magic, big-endian, Fortran order, truncated data,
// i64 for i32, NaN/Inf, --ranks/--repeat/--timeout-ms values).

// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: python3 %S/Inputs/mknpy.py %t.d/huge.npy '<f4' '(1099511627776, 1099511627776)'
// RUN: python3 %S/Inputs/mknpy.py %t.d/big1d.npy '<f4' '(1099511627776,)' --data-bytes 24
// RUN: python3 %S/Inputs/mknpy.py %t.d/long.npy '<f4' '(2, 3)' --data-bytes 28
// RUN: python3 %S/Inputs/mknpy.py %t.d/negdim.npy '<f4' '(-2, 3)' --data-bytes 24
// RUN: python3 %S/Inputs/mknpy.py %t.d/noshape.npy '<f4' '' --header "{'descr': '<f4', 'fortran_order': False, }" --data-bytes 24
// RUN: python3 %S/Inputs/mknpy.py %t.d/hdrlen.npy '<f4' '(2, 3)' --header-len 60000 --data-bytes 24
// RUN: python3 %S/Inputs/mknpy.py %t.d/version9.npy '<f4' '(2, 3)' --version 9 --data-bytes 24
// RUN: python3 %S/Inputs/mknpy.py %t.d/complex.npy '<c8' '(2, 3)' --data-bytes 48
// RUN: python3 %S/Inputs/mknpy.py %t.d/i64.npy '<i8' '(2, 3)' --values 1,2,3,4,5,6
// RUN: python3 %S/Inputs/mknpy.py %t.d/f64.npy '<f8' '(2, 3)' --values 1,2,3,4,5,6
// RUN: python3 %S/Inputs/mknpy.py %t.d/f64big.npy '<f8' '(2, 3)' --values 1,1e300,3,4,5,6
// RUN: python3 %S/Inputs/mknpy.py %t.d/rank1.npy '<f4' '(6,)' --values 1,2,3,4,5,6
// RUN: python3 %S/Inputs/mknpy.py %t.d/rank3.npy '<f4' '(1, 2, 3)' --values 1,2,3,4,5,6
// RUN: : > %t.d/empty.npy
// RUN: rm -f %t.out.npy

// A header declaring 2^80 elements: an error before any allocation.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/huge.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: {{.*}}huge.npy: shape (1099511627776, 1099511627776) of <f4 declares more than 2^63 bytes (the file holds 0 data bytes)
// HUGE: exit=1
// RUN: test ! -e %t.out.npy
// 2^40 elements declared, 24 bytes present: the size check comes first.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/big1d.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=BIG1D
// BIG1D: error: {{.*}}big1d.npy: data size 24 bytes does not match shape (1099511627776,) of <f4 (4398046511104 bytes)
// BIG1D: exit=1
// RUN: test ! -e %t.out.npy

// More data than the shape declares.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/long.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=LONG
// LONG: error: {{.*}}long.npy: data size 28 bytes does not match shape (2, 3) of <f4 (24 bytes)
// LONG: exit=1
// RUN: test ! -e %t.out.npy

// Malformed headers: negative dim, no shape, a header length past the end,
// an unknown format version, an unsupported dtype, an empty file.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/negdim.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NEGDIM
// NEGDIM: error: {{.*}}negdim.npy: malformed shape '(-2, 3)'
// NEGDIM: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/noshape.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NOSHAPE
// NOSHAPE: error: {{.*}}noshape.npy: malformed .npy header (needs descr, fortran_order, shape)
// NOSHAPE: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/hdrlen.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=HDRLEN
// HDRLEN: error: {{.*}}hdrlen.npy: truncated .npy header
// HDRLEN: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/version9.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: error: {{.*}}version9.npy: unsupported .npy format version 9 (expected 1, 2 or 3)
// VERSION: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/complex.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=COMPLEX
// COMPLEX: error: {{.*}}complex.npy: unsupported dtype '<c8'
// COMPLEX: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/empty.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: {{.*}}empty.npy: not a .npy file (bad magic; expected \x93NUMPY)
// EMPTY: exit=1
// RUN: test ! -e %t.out.npy

// Wrong dtype: i64 for an f32 argument is an error; f64 is converted, but
// a value out of f32's range is reported.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/i64.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=I64
// I64: error: {{.*}}i64.npy (argument #1): dtype <i8 (i64) does not match the argument's element type f32
// I64: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %t.d/f64big.npy,%S/Inputs/a_f32.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=F64BIG
// F64BIG: error: {{.*}}f64big.npy (argument #0): 1 of 6 elements are NaN or Inf (first at flat index 1: inf) after converting <f8 to f32 (values out of f32's range); pass --allow-nonfinite
// F64BIG: exit=1
// RUN: test ! -e %t.out.npy
// RUN: %cp-run %S/Inputs/add.mlir --entry add --inputs %t.d/f64.npy,%S/Inputs/a_f32.npy --quiet

// Wrong rank: (6,) and (1, 2, 3) for a (2, 3) argument.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%t.d/rank1.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RANK1
// RANK1: error: {{.*}}rank1.npy: shape (6,) does not match argument #1 of @add, whose whole shape is (2, 3) (tensor<2x3xf32>)
// RANK1: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %t.d/rank3.npy,%S/Inputs/a_f32.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RANK3
// RANK3: error: {{.*}}rank3.npy: shape (1, 2, 3) does not match argument #0 of @add
// RANK3: exit=1
// RUN: test ! -e %t.out.npy

// Wrong number of --inputs: none, one, three.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: error: @add takes 2 argument(s), --inputs gave 0 (or use --random-inputs)
// NONE: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=FEW
// FEW: error: @add takes 2 argument(s), --inputs gave 1
// FEW: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/a_f32.npy,%S/Inputs/a_f32.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=MANY
// MANY: error: @add takes 2 argument(s), --inputs gave 3
// MANY: exit=1
// RUN: test ! -e %t.out.npy

// Outputs that cannot be written are found before the run: a directory
// that does not exist, a parent that is a file, a path that is a directory.
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --outputs %t.d/nodir/out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: error: {{.*}}nodir/out.npy: cannot write: No such file or directory
// NODIR-NOT: run: compute
// NODIR: exit=1
// RUN: test ! -e %t.d/nodir
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --outputs %t.d/empty.npy/out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NOTDIR
// NOTDIR: error: {{.*}}empty.npy/out.npy: cannot write: Not a directory
// NOTDIR: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --outputs %t.d; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: error: {{.*}}.d: cannot write: is a directory
// ISDIR: exit=1

// A written output is renamed into place: no temporary file is left.
// RUN: rm -rf %t.w && mkdir %t.w
// RUN: %cp-run %S/Inputs/add.mlir --entry add --random-inputs --outputs %t.w/out.npy --quiet
// RUN: ls %t.w | FileCheck %s --check-prefix=LS
// LS: {{^}}out.npy{{$}}
// LS-NOT: tmp
