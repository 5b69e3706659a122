// strategy=hybrid under MPI: one rank per process; the runtime splits the
// world communicator into Ulysses groups and a ring of groups
// (MPI_Comm_split); same comparison as the thread tests, and the MPI result
// equals the thread result bit for bit.
// REQUIRES: mpirun

// RUN: %mpirun -np 4 %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --comm mpi --pipeline "strategy=hybrid ulysses-size=2 load-balance=head_tail pad=true" --random-inputs --seed 660 --compare-single-device --outputs %t.o.npy,%t.dq.npy,%t.dk.npy,%t.dv.npy 2>&1 | FileCheck %s
// CHECK: cp-run: run: compute {{.*}} 4 rank(s), mpi
// CHECK: result #0 vs single device f32(1, 8, 50, 16): {{.*}} ok
// CHECK: result #3 vs single device f32(1, 2, 50, 16): {{.*}} ok

// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 4 --pipeline "strategy=hybrid ulysses-size=2 load-balance=head_tail pad=true" --random-inputs --seed 660 --expect %t.o.npy,%t.dq.npy,%t.dk.npy,%t.dv.npy --rtol 0 --atol 0 2>&1 | FileCheck %s --check-prefix=SAME
// SAME: result #0 vs {{.*}}o.npy f32(1, 8, 50, 16): max abs err 0.000e+00{{.*}} ok
// SAME: result #3 vs {{.*}}dv.npy f32(1, 2, 50, 16): max abs err 0.000e+00{{.*}} ok
