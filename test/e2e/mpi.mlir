// End to end under MPI: one rank per process (mpirun), the same
// context-parallel vs single-device comparison as the thread tests.
// REQUIRES: mpirun

// RUN: %mpirun -np 2 %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --comm mpi --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 7 --compare-single-device --outputs %t.mpi.npy 2>&1 | FileCheck %s
// CHECK: cp-run: run: compute {{.*}} 2 rank(s), mpi
// CHECK: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok

// The MPI result equals the thread result (same inputs, same schedule).
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --random-inputs --seed 7 --expect %t.mpi.npy --rtol 0 --atol 0 2>&1 | FileCheck %s --check-prefix=SAME
// SAME: result #0 vs {{.*}}mpi.npy f32(1, 4, 64, 16): max abs err 0.000e+00{{.*}} ok

// --ranks must match the MPI world.
// RUN: not %mpirun -np 2 %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --comm mpi --ranks 4 --random-inputs 2>&1 | FileCheck %s --check-prefix=WORLD
// WORLD: error (rank {{[01]}}): --ranks 4 but the MPI world has 2 processes
