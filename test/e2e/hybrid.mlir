// End to end: strategy=hybrid (Ulysses inside groups of U consecutive ranks,
// a ring of the groups; cp.ring_attention with ulysses_size lowered to the
// runtime's cprt_c_hybrid_* entries) made by cp-run --pipeline, run on N
// thread ranks and compared with the single-device module on the same random
// inputs. Forward + backward, GQA split and replicated, every balancer the
// hybrid takes, padding, bf16, and grids 2x2, 2x3, 3x2, 2x4, 4x2.

// Inputs/fwd_bwd.mlir (Hq=4, Hkv=2, S=48, causal): 4 ranks as 2 groups of 2
// (kv heads split), 8 ranks as 4 groups of 2 and 2 groups of 4 (kv heads
// replicated twice), head_tail / striped / none.
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=hybrid ulysses-size=2 load-balance=head_tail" --random-inputs --seed 601 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=hybrid ulysses-size=2 load-balance=striped" --random-inputs --seed 602 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=hybrid ulysses-size=2 load-balance=none" --random-inputs --seed 603 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 8 --pipeline "strategy=hybrid ulysses-size=2 load-balance=head_tail pad=true" --random-inputs --seed 604 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 8 --pipeline "strategy=hybrid ulysses-size=4 load-balance=head_tail pad=true" --random-inputs --seed 605 --compare-single-device 2>&1 | FileCheck %s --check-prefix=FB
// FB: result #0 vs single device f32(1, 4, 48, 16): {{.*}} ok
// FB: result #1 vs single device f32(1, 4, 48, 16): {{.*}} ok
// FB: result #2 vs single device f32(1, 2, 48, 16): {{.*}} ok
// FB: result #3 vs single device f32(1, 2, 48, 16): {{.*}} ok

// Hq=6, Hkv=3 (Inputs/ulysses_h6.mlir, S=48) on 6 ranks, where Ulysses
// needs the kv heads replicated: as 2 groups of 3 (kv heads split) it runs;
// as 3 groups of 2 the 3 kv heads neither split nor replicate: refused.
// RUN: %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 6 --pipeline "strategy=hybrid ulysses-size=3 load-balance=head_tail pad=true" --random-inputs --seed 610 --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6
// RUN: %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 6 --pipeline "strategy=hybrid ulysses-size=3 load-balance=striped pad=true" --random-inputs --seed 611 --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6
// RUN: not %cp-run %S/Inputs/ulysses_h6.mlir --entry h6 --ranks 6 --pipeline "strategy=hybrid ulysses-size=2 pad=true" --random-inputs --compare-single-device 2>&1 | FileCheck %s --check-prefix=H6KV
// H6: result #0 vs single device f32(1, 6, 48, 8): {{.*}} ok
// H6: result #1 vs single device f32(1, 6, 48, 8): {{.*}} ok
// H6: result #2 vs single device f32(1, 3, 48, 8): {{.*}} ok
// H6: result #3 vs single device f32(1, 3, 48, 8): {{.*}} ok
// H6KV: error: 'cp.sdpa' op strategy=hybrid with ulysses-size=2 on 6 ranks: 3 key/value heads neither divide over 2 ranks nor divide 2

// torch-mlir fixtures: causal GQA (Hq=4, Hkv=2, S=64) on 2x2 and 2x4 grids,
// causal bf16 (tolerance of bf16), and the cost model's own choice of U.
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "strategy=hybrid ulysses-size=2" --random-inputs --seed 620 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 8 --pipeline "strategy=hybrid ulysses-size=4" --random-inputs --seed 621 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 8 --pipeline "strategy=hybrid topology=cpu" --random-inputs --seed 622 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA
// RUN: %cp-run %fixtures/Inputs/sdpa_causal_bf16.linalg.mlir --entry sdpa_causal_bf16 --ranks 4 --pipeline "strategy=hybrid ulysses-size=2" --random-inputs --seed 623 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BF16
// GQA: result #0 vs single device f32(1, 4, 64, 16): max abs err {{.*}} ok
// BF16: result #0 vs single device bf16(1, 4, 64, 16): max abs err {{.*}} ok

// The torch-mlir Llama block (projections, RoPE, causal attention, MLP) as a
// hybrid of 2 groups of 2.
// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 4 --pipeline "strategy=hybrid ulysses-size=2" --random-inputs --seed 624 --compare-single-device 2>&1 | FileCheck %s --check-prefix=LLAMA
// LLAMA: result #0 vs single device f32(1, 64, 64): max abs err {{.*}} ok
