// End to end: the Llama-style block that torch-mlir emitted
// (RMSNorm, RoPE, GQA causal SDPA, SwiGLU MLP), on PyTorch's input, compared
// with the output PyTorch computed when the fixture was generated, on one
// device and context-parallel on 2/3/4 ranks (threads) and 4 MPI ranks.

// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy 2>&1 | FileCheck %s --check-prefix=TORCH
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=TORCH,SINGLE
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 2 --pipeline "rotate=alltoall load-balance=striped" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=TORCH,SINGLE
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 3 --pipeline "rotate=allgather load-balance=head_tail pad=true" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefixes=TORCH,SINGLE

// TORCH: result #0 vs {{.*}}llama_block_output.npy f32(1, 64, 64): max abs err {{.*}} ok
// SINGLE: result #0 vs single device f32(1, 64, 64): max abs err {{.*}} ok
