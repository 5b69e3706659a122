// RUN: %cp-run --help | FileCheck %s
// CHECK: exit codes: 0 ok, 1 usage or input error, 2 compilation error,
// CHECK: --compare-single-device
// CHECK: --emit-header
// CHECK: --emit-object
// CHECK: --entry
// CHECK: --inputs
// CHECK: --pipeline
// CHECK: --random-inputs
// CHECK: --ranks

// RUN: %cp-run --runtime-info | FileCheck %s --check-prefix=INFO
// INFO: cprt: mpi={{[01]}} cuda=0 symbols={{[0-9]+}}
// RUN: not %cp-run --entry f 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: no input file
