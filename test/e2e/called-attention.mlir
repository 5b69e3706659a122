// An attention function (from a torch-mlir fixture) called twice: the cp
// pipeline inlines both calls, and 4 thread ranks match the single-device
// module (which keeps the calls) on fresh random inputs.
// RUN: %cp-run %S/Inputs/called_attention.mlir --entry two_calls --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 11 --compare-single-device 2>&1 | FileCheck %s
// CHECK: cp pipeline
// CHECK: result #0 vs single device f32(1, 4, 64, 16): {{.+}} ok
