// End to end: causal GQA attention forward + backward in one function
// (Inputs/fwd_bwd.mlir: out, dq, dk, dv), context-parallel (ring attention
// and its backward, whose dk/dv travel around the ring) vs single device.
// S = 48 splits evenly for 2 and 4 ranks with every balancer; 3 ranks with
// head_tail pads.

// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=ring load-balance=none pad=true" --random-inputs --seed 300 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 301 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 302 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=alltoall load-balance=head_tail pad=true" --random-inputs --seed 303 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 304 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=allgather load-balance=head_tail pad=true" --random-inputs --seed 305 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 306 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=ring load-balance=none pad=true" --random-inputs --seed 307 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 308 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 309 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=alltoall load-balance=none pad=true" --random-inputs --seed 310 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=alltoall load-balance=head_tail pad=true" --random-inputs --seed 311 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 312 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=allgather load-balance=none pad=true" --random-inputs --seed 313 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=allgather load-balance=head_tail pad=true" --random-inputs --seed 314 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 3 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 315 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=ring load-balance=none pad=true" --random-inputs --seed 316 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=ring load-balance=head_tail pad=true" --random-inputs --seed 317 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=ring load-balance=striped pad=true" --random-inputs --seed 318 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=alltoall load-balance=none pad=true" --random-inputs --seed 319 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=alltoall load-balance=head_tail pad=true" --random-inputs --seed 320 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=alltoall load-balance=striped pad=true" --random-inputs --seed 321 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=allgather load-balance=none pad=true" --random-inputs --seed 322 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=allgather load-balance=head_tail pad=true" --random-inputs --seed 323 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "rotate=allgather load-balance=striped pad=true" --random-inputs --seed 324 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 4, 48, 16): {{.*}} ok
// CHECK: result #1 vs single device f32(1, 4, 48, 16): {{.*}} ok
// CHECK: result #2 vs single device f32(1, 2, 48, 16): {{.*}} ok
// CHECK: result #3 vs single device f32(1, 2, 48, 16): {{.*}} ok
