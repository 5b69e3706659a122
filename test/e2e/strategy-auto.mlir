// End to end: strategy=auto (the cost model picks ring or Ulysses per
// attention op, docs/design.md "Cost model") made by cp-run --pipeline, run
// on N thread ranks and compared with the single-device module.

// Forward + backward (Inputs/fwd_bwd.mlir: Hq=4, Hkv=2, S=48) on 4 ranks of
// the cpu topology: the forward goes to Ulysses (KV heads replicated twice),
// the backward stays a ring; the forward's output reaches the ring backward
// as sequence shards.
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=auto topology=cpu" --random-inputs --seed 530 --compare-single-device 2>&1 | FileCheck %s --check-prefix=MIXED
// The same with the topology read from the shipped file (the option goes
// through cp-run's --pipeline), and a bad file stops cp-run with the
// file's error.
// RUN: %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=auto topology=%S/../../share/topologies/cpu.json" --random-inputs --seed 530 --compare-single-device 2>&1 | FileCheck %s --check-prefix=MIXED
// RUN: not %cp-run %S/Inputs/fwd_bwd.mlir --entry fwd_bwd --ranks 4 --pipeline "strategy=auto topology=%S/../Dialect/CP/Transforms/Inputs/topologies/bad-value.json" --random-inputs 2>&1 | FileCheck %s --check-prefix=BADFILE
// BADFILE: error: 'func.func' op topology file '{{.*}}bad-value.json': network.latency_us: expected a number >= 0, got -3
// MIXED: remark: strategy=auto on 4 ranks of cpu (forward, B=1 Hq=4 Hkv=2 S=48 D=16, 4-byte elements, causal): ring 45.3 us, ulysses 32.6 us, hybrid(U=2) 44.0 us; chose ulysses
// MIXED: remark: strategy=auto on 4 ranks of cpu (backward, {{.*}}; chose ring
// MIXED: result #0 vs single device f32(1, 4, 48, 16): {{.*}} ok
// MIXED: result #1 vs single device f32(1, 4, 48, 16): {{.*}} ok
// MIXED: result #2 vs single device f32(1, 2, 48, 16): {{.*}} ok
// MIXED: result #3 vs single device f32(1, 2, 48, 16): {{.*}} ok

// torch-mlir's causal GQA SDPA (Hq=4, Hkv=2) on h200-nvlink: Ulysses on 4
// ranks, ring on 2 (faster) and on 3 (4 heads do not divide, padded ring).
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 4 --pipeline "strategy=auto" --random-inputs --seed 531 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA4
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 2 --pipeline "strategy=auto load-balance=striped" --random-inputs --seed 532 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA2
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 3 --pipeline "strategy=auto pad=true" --random-inputs --seed 533 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA3
// GQA4: remark: strategy=auto on 4 ranks of h200-nvlink {{.*}}; chose ulysses
// GQA4: result #0 vs single device f32(1, 4, 64, 16): {{.*}} ok
// GQA2: remark: strategy=auto on 2 ranks of h200-nvlink {{.*}}; chose ring
// GQA2: result #0 vs single device f32(1, 4, 64, 16): {{.*}} ok
// GQA3: remark: {{.*}} ulysses illegal (4 query heads do not divide over 3 ranks), hybrid illegal (no Ulysses group size 1 < U < 3 divides the ranks{{.*}}); chose ring
// GQA3: result #0 vs single device f32(1, 4, 64, 16): {{.*}} ok

// On 8 ranks the 4 query heads do not divide: Ulysses is illegal, and the
// hybrid of groups of 4 (one head each) and a ring of 2 groups beats the
// ring of 8.
// RUN: %cp-run %fixtures/Inputs/sdpa_gqa_causal_f32.linalg.mlir --entry sdpa_gqa_causal_f32 --ranks 8 --pipeline "strategy=auto" --random-inputs --seed 534 --compare-single-device 2>&1 | FileCheck %s --check-prefix=GQA8
// GQA8: remark: strategy=auto on 8 ranks of h200-nvlink {{.*}} ulysses illegal (4 query heads do not divide over 8 ranks), hybrid(U=4) {{[0-9.]+}} us; chose hybrid(U=4)
// GQA8: result #0 vs single device f32(1, 4, 64, 16): {{.*}} ok
