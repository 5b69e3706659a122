// A rank killed (SIGKILL) in the middle of a ring under MPI: the job ends
// within a bound, with a message naming the failure and no output file.
// CPRT_TEST_KILL_RANK=1 is the runtime's test hook (docs/reliability.md):
// rank 1 kills itself as it starts its first ring shift.
// REQUIRES: mpirun

// RUN: rm -f %t.out.npy
// Default: mpirun sees the dead process and ends the job, exit non-zero.
// RUN: sh -c 'CPRT_TEST_KILL_RANK=1 timeout 60 %mpirun -x CPRT_TEST_KILL_RANK -np 2 %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --comm mpi --pipeline "rotate=ring load-balance=head_tail" --random-inputs --timeout-ms 3000 --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=DEFAULT
// DEFAULT: cprt: rank 1: CPRT_TEST_KILL_RANK: SIGKILL at ring_shift (op #1)
// DEFAULT: process rank 1 with PID {{.*}} exited on signal 9 (Killed)
// DEFAULT: exit={{[1-9][0-9]*}}
// DEFAULT-NOT: exit=124
// RUN: test ! -e %t.out.npy

// --enable-recovery: mpirun keeps the job; rank 0's own communicator
// timeout (--timeout-ms) ends it with an error naming the operation.
// Open MPI 4.1's mpirun then exits 0 whatever the ranks return, so only
// the message and the missing output tell (docs/reliability.md).
// RUN: sh -c 'CPRT_TEST_KILL_RANK=1 timeout 60 %mpirun --enable-recovery -x CPRT_TEST_KILL_RANK -np 2 %cp-run %fixtures/Inputs/sdpa_causal_f32.linalg.mlir --entry sdpa_causal_f32 --comm mpi --pipeline "rotate=ring load-balance=head_tail" --random-inputs --timeout-ms 3000 --outputs %t.out.npy; echo exit=$?' 2>&1 | FileCheck %s --check-prefix=RECOVERY
// RECOVERY: cprt: rank 1: CPRT_TEST_KILL_RANK: SIGKILL at ring_shift (op #1)
// RECOVERY: cp-run: error (rank 0): the entry failed in the runtime: rank 0: shift_wait: cprt: rank 0: ring_shift (op #1): timed out after 3000 ms (a peer did not take part)
// RECOVERY-NOT: exit=124
// RUN: test ! -e %t.out.npy
