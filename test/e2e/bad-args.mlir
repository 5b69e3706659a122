// cp-run refuses option values it cannot honour, with a clear error and
// exit code 1 (docs/cp-run.md), and reports NaN/Inf in its inputs.
// Each `sh -c '...; echo exit=$?'` checks the exit code itself.

// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --ranks 0; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RANKS0
// RANKS0: error: --ranks must be >= 1, got 0
// RANKS0: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --ranks -3; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RANKSNEG
// RANKSNEG: error: --ranks must be >= 1, got -3
// RANKSNEG: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --ranks 100000; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RANKSHUGE
// RANKSHUGE: error: --ranks 100000 exceeds the limit of 4096 thread ranks (--comm threads); use --comm mpi for more
// RANKSHUGE: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --repeat 0; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=REPEAT0
// REPEAT0: error: --repeat must be >= 1, got 0
// REPEAT0: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --repeat -1; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=REPEATNEG
// REPEATNEG: error: --repeat must be >= 1, got -1
// REPEATNEG: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --timeout-ms 0; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=TIMEOUT0
// TIMEOUT0: error: --timeout-ms must be >= 1 (milliseconds), got 0
// TIMEOUT0: exit=1
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --random-inputs --timeout-ms -5; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=TIMEOUTNEG
// TIMEOUTNEG: error: --timeout-ms must be >= 1 (milliseconds), got -5
// TIMEOUTNEG: exit=1

// Valid values still run.
// RUN: %cp-run %S/Inputs/add.mlir --entry add --random-inputs --ranks 3 --repeat 2 --timeout-ms 5000 --quiet

// NaN or Inf in an input is an error naming the file and the argument,
// with exit code 1 and no output file; --allow-nonfinite makes it a warning.
// RUN: rm -f %t.out.npy
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/nan_f32.npy --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=NAN
// NAN: error: {{.*}}nan_f32.npy (argument #1): 1 of 6 elements are NaN or Inf (first at flat index 4: nan); pass --allow-nonfinite to run anyway
// NAN: exit=1
// RUN: not test -e %t.out.npy
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/inf_f64.npy,%S/Inputs/a_f32.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=INF
// INF: error: {{.*}}inf_f64.npy (argument #0): 2 of 6 elements are NaN or Inf (first at flat index 1: -inf)
// INF: exit=1
// RUN: %cp-run %S/Inputs/add.mlir --entry add --inputs %S/Inputs/a_f32.npy,%S/Inputs/nan_f32.npy --outputs %t.out.npy --allow-nonfinite 2>&1 | FileCheck %s --check-prefix=ALLOW
// ALLOW: warning: {{.*}}nan_f32.npy (argument #1): 1 of 6 elements are NaN or Inf
// ALLOW: wrote {{.*}}out.npy
