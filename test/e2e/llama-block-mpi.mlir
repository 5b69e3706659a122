// The Llama-style block on 4 MPI ranks vs PyTorch's output and the single
// device, and bit for bit equal to the same schedule on 4 thread ranks.
// REQUIRES: mpirun

// RUN: %mpirun -np 4 %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --comm mpi --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --outputs %t.mpi.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s
// CHECK: run: compute {{.*}} 4 rank(s), mpi
// CHECK: result #0 vs {{.*}}llama_block_output.npy f32(1, 64, 64): max abs err {{.*}} ok
// CHECK: result #0 vs single device f32(1, 64, 64): max abs err {{.*}} ok

// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --expect %t.mpi.npy --rtol 0 --atol 0 2>&1 | FileCheck %s --check-prefix=SAME
// SAME: result #0 vs {{.*}}mpi.npy f32(1, 64, 64): max abs err 0.000e+00{{.*}} ok
