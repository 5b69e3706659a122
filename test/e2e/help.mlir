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
