// The cumsum-positions module (seq-scan.mlir) on 3 MPI processes (an odd
// count; striped balancing), so cp.seq_scan's exclusive scans cross process
// boundaries, vs the single device.
// REQUIRES: mpirun

// RUN: %mpirun -np 3 %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --comm mpi --pipeline "load-balance=striped" --random-inputs --seed 640 --compare-single-device 2>&1 | FileCheck %s
// RUN: %mpirun -np 4 %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --comm mpi --pipeline "load-balance=head_tail" --random-inputs --seed 641 --compare-single-device 2>&1 | FileCheck %s
// CHECK: run: compute {{.*}} rank(s), mpi
// CHECK: result #0 vs single device f32(1, 2, 24, 8): max abs err {{.*}} ok
