// A value returned twice gets a buffer per result (cp-lower-to-llvm copies
// the later results before bufferization: upstream's
// buffer-results-to-out-params crashed on one buffer returned twice, found
// by the fuzzer). Both copies must equal the single-device results.

// RUN: %cp-run %S/Inputs/same_result_twice.mlir --entry twice --ranks 2 --pipeline default --random-inputs --seed 71 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/same_result_twice.mlir --entry twice --ranks 3 --pipeline "load-balance=striped pad=true" --random-inputs --seed 72 --compare-single-device 2>&1 | FileCheck %s
// CHECK: result #0 vs single device {{.*}} ok
// CHECK: result #1 vs single device {{.*}} ok
// CHECK: result #2 vs single device {{.*}} ok
// CHECK: result #3 vs single device {{.*}} ok
