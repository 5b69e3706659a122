// The Llama-style block on 4 MPI ranks vs PyTorch's output and the single
// device.
// REQUIRES: mpirun

// RUN: %mpirun -np 4 %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --comm mpi --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s
// CHECK: run: compute {{.*}} 4 rank(s), mpi
// CHECK: result #0 vs {{.*}}llama_block_output.npy f32(1, 64, 64): max abs err {{.*}} ok
// CHECK: result #0 vs single device f32(1, 64, 64): max abs err {{.*}} ok
