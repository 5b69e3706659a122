// Hugging Face Llama (transformers 5.24, random weights, hidden 32, 4 heads,
// 2 KV heads) exported by torch-mlir as users do, against PyTorch's output
// (test/Fixtures/HF, made by scripts/gen-hf-fixtures.py --tiny).

// Eager attention (finfo.min masks), packed-sequence detection off: made
// context-parallel on 1-8 ranks, equal to PyTorch and to single device.
// RUN: %cp-run %fixtures/HF/llama-eager-nopack.linalg.mlir --entry llama_eager_nopack --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/HF/llama-eager-nopack.in0.npy --expect %fixtures/HF/llama-eager-nopack.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %fixtures/HF/llama-eager-nopack.linalg.mlir --entry llama_eager_nopack --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %fixtures/HF/llama-eager-nopack.in0.npy --expect %fixtures/HF/llama-eager-nopack.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %fixtures/HF/llama-eager-nopack.linalg.mlir --entry llama_eager_nopack --ranks 4 --pipeline "rotate=alltoall load-balance=striped" --inputs %fixtures/HF/llama-eager-nopack.in0.npy --expect %fixtures/HF/llama-eager-nopack.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=CP
// RUN: %cp-run %fixtures/HF/llama-eager-nopack.linalg.mlir --entry llama_eager_nopack --ranks 8 --pipeline "rotate=ring load-balance=none" --inputs %fixtures/HF/llama-eager-nopack.in0.npy --expect %fixtures/HF/llama-eager-nopack.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=CP
// CP: result #0 vs {{.*}}llama-eager-nopack.out.npy f32(1, 64, 32): max abs err {{.*}} ok
// CP: result #0 vs single device f32(1, 64, 32): max abs err {{.*}} ok

// The default export: transformers' packed-sequence detection is a cumsum
// (tm_tensor.scan) of a shifted difference of the positions, whose document
// ids are gathered by position into a causal & same-document mask. None of
// it depends on an argument: the pass computes it whole on every rank
// (the shift cannot be sharded) and shards the mask at the attention.
// Equal to PyTorch and to single device on 1-8 ranks.
// RUN: %cp-run %fixtures/HF/llama-sdpa-default.linalg.mlir --entry llama_sdpa_default --inputs %fixtures/HF/llama-sdpa-default.in0.npy --expect %fixtures/HF/llama-sdpa-default.out.npy 2>&1 | FileCheck %s --check-prefix=ONE
// ONE: result #0 vs {{.*}}llama-sdpa-default.out.npy f32(1, 64, 32): max abs err {{.*}} ok
// RUN: cp-opt %fixtures/HF/llama-sdpa-default.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=DETECT
// DETECT: cp.sdpa %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} {enable_gqa, scale = 0.35355{{[0-9]+}} : f64} : (tensor<1x4x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x1x64x64xi1>)
// RUN: cp-opt %fixtures/HF/llama-sdpa-default.linalg.mlir --cp-pipeline="grid-size=4 expand=false" | FileCheck %s --check-prefix=WHOLE
// WHOLE: tm_tensor.scan dimension(1) inclusive(true) ins(%{{.+}} : tensor<1x64xi64>)
// WHOLE: cp.shard %{{.+}} on @cp_grid dim = 2 balancer = <head_tail> : tensor<1x1x64x64xi1> -> tensor<1x1x16x64xi1>
// WHOLE: cp.ring_attention
// RUN: %cp-run %fixtures/HF/llama-sdpa-default.linalg.mlir --entry llama_sdpa_default --ranks 2 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/HF/llama-sdpa-default.in0.npy --expect %fixtures/HF/llama-sdpa-default.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=DEF
// RUN: %cp-run %fixtures/HF/llama-sdpa-default.linalg.mlir --entry llama_sdpa_default --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %fixtures/HF/llama-sdpa-default.in0.npy --expect %fixtures/HF/llama-sdpa-default.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=DEF
// RUN: %cp-run %fixtures/HF/llama-sdpa-default.linalg.mlir --entry llama_sdpa_default --ranks 8 --pipeline "rotate=alltoall load-balance=striped" --inputs %fixtures/HF/llama-sdpa-default.in0.npy --expect %fixtures/HF/llama-sdpa-default.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=DEF
// RUN: %cp-run %fixtures/HF/llama-sdpa-default.linalg.mlir --entry llama_sdpa_default --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --inputs %fixtures/HF/llama-sdpa-default.in0.npy --expect %fixtures/HF/llama-sdpa-default.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=DEF
// DEF: result #0 vs {{.*}}llama-sdpa-default.out.npy f32(1, 64, 32): max abs err {{.*}} ok
// DEF: result #0 vs single device f32(1, 64, 32): max abs err {{.*}} ok

// An attention_mask (batch 2, row 1 left-padded by 5): detection splits the
// causal part off (is_causal) and keeps the key-padding part as a
// [2, 1, 1, 64] mask, which carries the sequence in its key dim only; the
// pass all-gathers it whole (cp.unshard) for the ring or Ulysses. Equal to
// PyTorch and to single device on 1-8 ranks, every rotate method.
// RUN: cp-opt %fixtures/HF/llama-sdpa-padmask.linalg.mlir --cp-pipeline="grid-size=2 expand=false" | FileCheck %s --check-prefix=KEYMASK
// KEYMASK: cp.unshard %{{.+}} on @cp_grid dim = 3 balancer = <head_tail> : tensor<2x1x1x32xi1> -> tensor<2x1x1x64xi1>
// KEYMASK: cp.ring_attention %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} on @cp_grid {{.+}} : (tensor<2x4x32x8xf32>, tensor<2x2x32x8xf32>, tensor<2x2x32x8xf32>, tensor<2x1x1x64xi1>)
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 4 --pipeline "rotate=alltoall load-balance=striped" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 8 --pipeline "rotate=allgather load-balance=none" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 5 --pipeline "rotate=ring load-balance=head_tail pad=true expand=false" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: %cp-run %fixtures/HF/llama-sdpa-padmask.linalg.mlir --entry llama_sdpa_padmask --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --inputs %fixtures/HF/llama-sdpa-padmask.in0.npy,%fixtures/HF/llama-sdpa-padmask.in1.npy --expect %fixtures/HF/llama-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=PAD
// PAD: result #0 vs {{.*}}llama-sdpa-padmask.out.npy f32(2, 64, 32): max abs err {{.*}} ok
// PAD: result #0 vs single device f32(2, 64, 32): max abs err {{.*}} ok

// Mistral with an attention_mask: a sliding window (16) and key padding.
// The window is a mask_mod; the padding mask, a [2, 1, 1, 64] tensor, is
// read inside it (flex attention has no mask operand) at the scores'
// positions, so context parallelism reads it whole at original positions.
// RUN: cp-opt %fixtures/HF/mistral-sdpa-padmask.linalg.mlir --cp-detect-attention | FileCheck %s --check-prefix=FLEXMASK
// FLEXMASK: cp.flex_attention {{.+}} -> tensor<2x4x64x8xf32> mask_mod {
// FLEXMASK-NEXT: ^bb0(%[[B:.+]]: index, %{{.+}}: index, %[[Q:.+]]: index, %[[K:.+]]: index):
// FLEXMASK: arith.subi %{{.+}}, %c16_i64
// FLEXMASK: %[[M:.+]] = tensor.extract %{{.+}}[%[[B]], %{{.+}}, %{{.+}}, %[[K]]] : tensor<2x1x1x64xi1>
// FLEXMASK: arith.andi %{{.+}}, %[[M]] : i1
// RUN: %cp-run %fixtures/HF/mistral-sdpa-padmask.linalg.mlir --entry mistral_sdpa_padmask --ranks 1 --pipeline "rotate=ring load-balance=head_tail" --inputs %fixtures/HF/mistral-sdpa-padmask.in0.npy,%fixtures/HF/mistral-sdpa-padmask.in1.npy --expect %fixtures/HF/mistral-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=MPAD
// RUN: %cp-run %fixtures/HF/mistral-sdpa-padmask.linalg.mlir --entry mistral_sdpa_padmask --ranks 3 --pipeline "rotate=ring load-balance=head_tail pad=true" --inputs %fixtures/HF/mistral-sdpa-padmask.in0.npy,%fixtures/HF/mistral-sdpa-padmask.in1.npy --expect %fixtures/HF/mistral-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=MPAD
// RUN: %cp-run %fixtures/HF/mistral-sdpa-padmask.linalg.mlir --entry mistral_sdpa_padmask --ranks 8 --pipeline "rotate=ring load-balance=striped" --inputs %fixtures/HF/mistral-sdpa-padmask.in0.npy,%fixtures/HF/mistral-sdpa-padmask.in1.npy --expect %fixtures/HF/mistral-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=MPAD
// RUN: %cp-run %fixtures/HF/mistral-sdpa-padmask.linalg.mlir --entry mistral_sdpa_padmask --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --inputs %fixtures/HF/mistral-sdpa-padmask.in0.npy,%fixtures/HF/mistral-sdpa-padmask.in1.npy --expect %fixtures/HF/mistral-sdpa-padmask.out.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=MPAD
// MPAD: result #0 vs {{.*}}mistral-sdpa-padmask.out.npy f32(2, 64, 32): max abs err {{.*}} ok
// MPAD: result #0 vs single device f32(2, 64, 32): max abs err {{.*}} ok
