// RUN: cp-opt %S/../../../Fixtures/Inputs/llama_block_f32.linalg.mlir --cp-pipeline="grid-size=4 rotate=ring load-balance=head_tail" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/llama_block_f32.tosa.mlir --cp-pipeline="grid-size=4 rotate=ring load-balance=head_tail" | FileCheck %s
// RUN: cp-opt %S/../../../Fixtures/Inputs/llama_block_f32.linalg.mlir --cp-pipeline="grid-size=3 rotate=allgather load-balance=striped pad=true" | FileCheck %s --check-prefix=GATHER
// RUN: cp-opt %S/../../../Fixtures/Inputs/llama_block_f32.tosa.mlir --cp-pipeline="grid-size=2 rotate=alltoall load-balance=none expand=false" | FileCheck %s --check-prefix=NOEXPAND

// The Llama-style block that torch-mlir emitted (linalg-on-tensors and
// TOSA: RMSNorm, RoPE from a position buffer, GQA causal SDPA, SwiGLU MLP)
// becomes a per-rank function: hidden states sharded on the sequence, the
// position buffer sharded in the function (so RoPE reads original
// positions), and a 4-step overlapped ring that moves only the 2 KV heads
// (steps 1-2 an scf.for, step 3 peeled after it).

// CHECK: shard.grid @cp_grid(shape = 4)
// CHECK: func.func @llama_block_f32(%{{.+}}: tensor<1x16x64xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>}) -> (tensor<1x16x64xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = head_tail>})
// CHECK: cp.shard %{{.+}} on @cp_grid dim = 0 balancer = <head_tail> : tensor<64xi64> -> tensor<16xi64>
// CHECK: cp.shift_start {{.+}} : tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<causal>, enable_gqa, scale = 2.500000e-01 : f64} : (tensor<1x4x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>)
// CHECK: scf.for %{{.+}} = %c1{{.*}} to %c3{{.*}} step %c1{{.*}} iter_args(
// CHECK: cp.shift_start {{.+}} : tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<kv_head_half>
// CHECK: cp.shift_wait
// CHECK: scf.yield
// CHECK-NOT: cp.shift_start
// CHECK: cp.block_attention {{.+}} {causal = #cp.causal<kv_head_half>
// CHECK-NOT: cp.sdpa
// CHECK-NOT: cp.ring_attention

// GATHER: shard.grid @cp_grid(shape = 3)
// GATHER: func.func @llama_block_f32(%{{.+}}: tensor<1x22x64xf32> {cp.sharding = #cp.sharding<grid = @cp_grid, dim = 1, seq_len = 64, balancer = striped, pad = true>})
// GATHER: cp.ring_attention {{.+}} {balancer = #cp.balancer<striped>, enable_gqa, is_causal, pad, rotate = #cp.rotate<allgather>, scale = 2.500000e-01 : f64, seq_len = 64 : i64} : (tensor<1x4x22x16xf32>, tensor<1x2x22x16xf32>, tensor<1x2x22x16xf32>)

// NOEXPAND: func.func @llama_block_f32(%{{.+}}: tensor<1x32x64xf32>
// NOEXPAND: cp.ring_attention {{.+}} {balancer = #cp.balancer<none>, enable_gqa, is_causal, rotate = #cp.rotate<alltoall>
