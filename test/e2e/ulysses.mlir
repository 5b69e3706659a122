// End to end: strategy=ulysses (all-to-all to head shards of the whole
// sequence, local attention, all-to-all back) made by cp-run --pipeline, run
// on N thread ranks and compared with the single-device module on the same
// random inputs. Fixtures: torch-mlir's causal GQA SDPA (Hq=4, Hkv=2), the
// other torch-mlir SDPA exports, the Llama block, and hand-written forward +
// backward modules (Inputs/fwd_bwd.mlir, ulysses_*.mlir).

// GQA forward (Hq=4, Hkv=2): 1 rank, 2 ranks (kv heads split), 4 ranks (each
// kv head replicated twice), every balancer; 3 ranks are refused.
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 1 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 501 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 502 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 503 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 504 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 505 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 506 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 507 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_b2_f32.linalg.mlir --entry sdpa_gqa_causal_b2_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 508 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQAB2
// RUN: not %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 3 --pipeline "strategy=ulysses load-balance=head_tail pad=true" --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA3
// GQA: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
// GQAB2: result #0 vs single device f32(2, 4, 64, 16): max abs err {{.*}} ok
// GQA3: error: 'cp.sdpa' op strategy=ulysses splits the query heads over the ranks: 4 query heads do not divide over 3 ranks
// GQA3: error: the cp pipeline (strategy=ulysses load-balance=head_tail pad=true grid-size=3) failed

// Other torch-mlir fixtures: causal bf16, plain f16, scale, softcap, sliding
// window, a bool mask [1,1,S,S] (rows gathered) and a float mask with
// per-head values [1,4,S,S] (this rank's heads sliced).
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 510 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: %cp-run %fixtures/Inputs/sdpa_plain_f16.linalg.mlir --entry sdpa_plain_f16 --ranks 2 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 511 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F16
// RUN: %cp-run %fixtures/Inputs/sdpa_scale_f32.linalg.mlir --entry sdpa_scale_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 512 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_softcap_f32.linalg.mlir --entry sdpa_softcap_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 513 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_window_f32.linalg.mlir --entry sdpa_window_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 514 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 515 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_boolmask_f32.linalg.mlir --entry sdpa_boolmask_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 516 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 517 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// RUN: %cp-run %fixtures/Inputs/sdpa_floatmask_f32.linalg.mlir --entry sdpa_floatmask_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 518 --compare-single-device 2>&1 | FileCheck %s --check-prefix=F32
// BF16: result #0 vs single device bf16(1, 4, 64, 16): max abs err {{.*}} ok
// F16: result #0 vs single device f16(1, 4, 64, 16): max abs err {{.*}} ok
// F32: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok

// Forward + backward (Inputs/fwd_bwd.mlir: Hq=4, Hkv=2, S=48): on 4 ranks
// the kv gradients of the two replicas are summed.
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 1 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 520 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 521 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 522 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 523 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 524 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// FB: result #0 vs single device f32(1, 4, 48, 16): {{.*}} ok
// FB: result #1 vs single device f32(1, 4, 48, 16): {{.*}} ok
// FB: result #2 vs single device f32(1, 2, 48, 16): {{.*}} ok
// FB: result #3 vs single device f32(1, 2, 48, 16): {{.*}} ok

// GQA ratio 4 (Hq=8, Hkv=2) forward + backward on S=50, which pads under
// every balancer: kv heads split (2 ranks), replicated 2x (4) and 4x (8).
// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail pad=true" --random-inputs --seed 530 --compare-single-device 2>&1 | FileCheck %s --check-prefix=G4
// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 4 --pipeline "strategy=ulysses load-balance=none pad=true" --random-inputs --seed 531 --compare-single-device 2>&1 | FileCheck %s --check-prefix=G4
// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail pad=true" --random-inputs --seed 532 --compare-single-device 2>&1 | FileCheck %s --check-prefix=G4
// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 4 --pipeline "strategy=ulysses load-balance=striped pad=true" --random-inputs --seed 533 --compare-single-device 2>&1 | FileCheck %s --check-prefix=G4
// RUN: %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 8 --pipeline "strategy=ulysses load-balance=head_tail pad=true" --random-inputs --seed 534 --compare-single-device 2>&1 | FileCheck %s --check-prefix=G4
// RUN: not %cp-run %S/Inputs/ulysses_gqa4_pad.mlir --entry gqa4 --ranks 4 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=NOPAD
// G4: result #0 vs single device f32(1, 8, 50, 16): {{.*}} ok
// G4: result #1 vs single device f32(1, 8, 50, 16): {{.*}} ok
// G4: result #2 vs single device f32(1, 2, 50, 16): {{.*}} ok
// G4: result #3 vs single device f32(1, 2, 50, 16): {{.*}} ok
// NOPAD: sequence length 50 cannot be split by head_tail balancing over 4 ranks: expected a multiple of 8; pass pad=true

// Hq=6, Hkv=3: 3 ranks split the kv heads, 6 ranks replicate them twice; 2
// ranks (3 kv heads) and 4 ranks (6 query heads) are refused.
// RUN: %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 3 --pipeline "strategy=ulysses load-balance=head_tail" --random-inputs --seed 540 --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6
// RUN: %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 3 --pipeline "strategy=ulysses load-balance=striped" --random-inputs --seed 541 --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6
// RUN: %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 6 --pipeline "strategy=ulysses load-balance=none" --random-inputs --seed 542 --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6
// RUN: not %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 2 --pipeline "strategy=ulysses" --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6KV
// RUN: not %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 4 --pipeline "strategy=ulysses" --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6Q
// H6: result #0 vs single device f32(1, 6, 48, 8): {{.*}} ok
// H6: result #1 vs single device f32(1, 6, 48, 8): {{.*}} ok
// H6: result #2 vs single device f32(1, 3, 48, 8): {{.*}} ok
// H6: result #3 vs single device f32(1, 3, 48, 8): {{.*}} ok
// H6KV: error: 'cp.sdpa' op strategy=ulysses: 3 key/value heads neither divide over 2 ranks nor divide 2 (GQA replication); use strategy=ring
// H6Q: error: 'cp.sdpa' op strategy=ulysses splits the query heads over the ranks: 6 query heads do not divide over 4 ranks

// Flex attention whose modifiers read positions and the head index, S=50
// (padded): the modifiers see original positions and global heads.
// RUN: %cp-run %S/Inputs/ulysses_flex_heads.mlir --entry flex_heads --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail pad=true" --random-inputs --seed 550 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FLEX
// RUN: %cp-run %S/Inputs/ulysses_flex_heads.mlir --entry flex_heads --ranks 4 --pipeline "strategy=ulysses load-balance=striped pad=true" --random-inputs --seed 551 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FLEX
// RUN: %cp-run %S/Inputs/flex.mlir --entry flex --ranks 2 --pipeline "strategy=ulysses load-balance=none pad=true" --random-inputs --seed 552 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FLEX2
// FLEX: result #0 vs single device f32(1, 4, 50, 16): {{.*}} ok
// FLEX2: result #0 vs single device f32(1, 2, 40, 16): {{.*}} ok

// The torch-mlir Llama block against PyTorch's output and the single device.
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 2 --pipeline "strategy=ulysses load-balance=head_tail" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=LLAMA
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 4 --pipeline "strategy=ulysses load-balance=striped" --inputs %fixtures/llama_block_input.npy --expect %fixtures/llama_block_output.npy --compare-single-device 2>&1 | FileCheck %s --check-prefix=LLAMA
// LLAMA-DAG: result #0 vs {{.*}}llama_block_output.npy f32(1, 64, 64): {{.*}} ok
// LLAMA-DAG: result #0 vs single device f32(1, 64, 64): {{.*}} ok
