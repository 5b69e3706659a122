// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto" 2>/dev/null | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=auto topology=h100-ib" 2>&1 >/dev/null | FileCheck %s --check-prefix=IB-REMARK
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=auto topology=h100-ib" 2>/dev/null | FileCheck %s --check-prefix=IB
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto rotate=allgather" 2>&1 >/dev/null | FileCheck %s --check-prefix=AG
// RUN: cp-opt %s --split-input-file --cp-pipeline="grid-size=8 strategy=auto expand=false" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: cp-opt %s --split-input-file --cp-pipeline="grid-size=4 strategy=auto expand=false topology=%S/../../../../share/topologies/h100-ib.json" 2>&1 >/dev/null | FileCheck %s --check-prefix=IB-REMARK
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto topology=tpu" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto topology=%S/Inputs/topologies/bad-value.json" 2>&1 | FileCheck %s --check-prefix=BADFILE
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=hybrid topology=%S/Inputs/topologies/bad-key.json" 2>&1 | FileCheck %s --check-prefix=BADHYBRID
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=ring topology=%S/Inputs/topologies/bad-key.json" -o /dev/null

// strategy=auto: the cost model (docs/design.md, "Cost model") picks ring,
// Ulysses or the hybrid per attention op and says why in a remark. The
// topology is a built-in or a JSON file (docs/cost-model.md): the shipped
// share/topologies/h100-ib.json gives the same remarks as the built-in; a bad
// file is an error at the function when the cost model runs (strategy=auto,
// or hybrid without ulysses-size), and is not read for strategy=ring.

// Many heads and a short sequence on 8 H200s: the ring's 8 steps are causal
// half blocks of 512 tokens with 32 heads (looked up at 512·sqrt(1/2 · 32/16)
// = 512 tokens: 146 TFLOP/s, plus 25 us per call), Ulysses runs one call on
// the whole sequence with 4 heads (4096·sqrt(1/2 · 4/16) = 1448 tokens: 472.5
// TFLOP/s) after four all-to-alls over NVLink.
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=32 Hkv=32 S=4096 D=128, 2-byte elements, causal): ring 356.9 us, ulysses 150.3 us, hybrid(U=4) 187.3 us; chose ulysses
// CHECK-LABEL: func.func @many_heads
// CHECK-SAME: strategy = "ulysses"
// CHECK: cp.seq_to_heads
// CHECK: cp.sdpa {{.*}} : (tensor<1x4x4096x128xbf16>
// CHECK: cp.heads_to_seq
// CHECK-NOT: cp.ring_attention
// CHECK: return
func.func @many_heads(%q: tensor<1x32x4096x128xbf16>, %k: tensor<1x32x4096x128xbf16>, %v: tensor<1x32x4096x128xbf16>) -> tensor<1x32x4096x128xbf16> {
  %o = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>) -> tensor<1x32x4096x128xbf16>
  return %o : tensor<1x32x4096x128xbf16>
}

// -----

// 6 query heads do not divide over 8 (or 4) ranks: Ulysses is illegal; the
// hybrid of groups of 2 (3 heads each) wins on 8 H200s (a ring of 4 groups
// of 1024-token blocks against a ring of 8 blocks of 512) and on 4 ranks of
// h100-ib (a ring of 2 groups of 2048-token blocks with 3 heads against 4
// blocks of 1024 with 6).
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=6 Hkv=6 S=4096 D=128, 2-byte elements, causal): ring {{[0-9.]+}} us, ulysses illegal (6 query heads do not divide over 8 ranks), hybrid(U=2) {{[0-9.]+}} us; chose hybrid(U=2)
// AG: remark: strategy=auto on 8 ranks of h200-nvlink ({{.*}}Hq=6{{.*}}): ring(allgather) {{[0-9.]+}} us, ulysses illegal
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib ({{.*}}Hq=6{{.*}}): ring 154.7 us, ulysses illegal (6 query heads do not divide over 4 ranks), hybrid(U=2) 139.4 us; chose hybrid(U=2)
// CHECK-LABEL: func.func @odd_heads
// CHECK-SAME: strategy = "hybrid"
// CHECK-NOT: cp.seq_to_heads
// CHECK: cp.ring_attention {{.*}}ulysses_size = 2 : i64
// IB-LABEL: func.func @odd_heads
// IB-SAME: strategy = "hybrid"
// IB-NOT: cp.seq_to_heads
// IB: cp.ring_attention {{.*}}ulysses_size = 2 : i64
func.func @odd_heads(%q: tensor<1x6x4096x128xbf16>, %k: tensor<1x6x4096x128xbf16>, %v: tensor<1x6x4096x128xbf16>) -> tensor<1x6x4096x128xbf16> {
  %o = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x6x4096x128xbf16>, tensor<1x6x4096x128xbf16>, tensor<1x6x4096x128xbf16>) -> tensor<1x6x4096x128xbf16>
  return %o : tensor<1x6x4096x128xbf16>
}

// -----

// Forward and backward are chosen apart. On 8 H200s both go to Ulysses
// (16 heads, 16K tokens: ring blocks of 2048, Ulysses one call with 2 heads).
// On 4 ranks of h100-ib (NVLink 300 GB/s) the forward's ring, its shifts
// hidden behind blocks of 4096 tokens (600.5 TFLOP/s), beats Ulysses' four
// all-to-alls of 16.8 MB (66 us each); the backward's ring pays 80 us per
// step and the fp32 dK/dV adds, so Ulysses wins it (by 2.7%): the function
// is "mixed" (both rewrites keep the same sequence shards at the boundary).
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=16 Hkv=16 S=16384 D=128, 2-byte elements, causal): ring 569.4 us, ulysses 380.0 us, hybrid(U=4) 422.4 us; chose ulysses
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (backward, B=1 Hq=16 Hkv=16 S=16384 D=128, 2-byte elements, causal): ring 1637.7 us, ulysses 1039.8 us, hybrid(U=4) 1161.2 us; chose ulysses
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib (forward, {{.*}}): ring 670.3 us, ulysses 721.9 us, hybrid(U=2) 729.7 us; chose ring
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib (backward, {{.*}}): ring 1980.9 us, ulysses 1927.2 us, hybrid(U=2) 2030.5 us; chose ulysses
// CHECK-LABEL: func.func @train
// CHECK-SAME: strategy = "ulysses"
// CHECK-NOT: cp.ring_attention
// CHECK: cp.sdpa_backward
// CHECK-NOT: cp.ring_attention
// CHECK: return
// IB-LABEL: func.func @train
// IB-SAME: strategy = "mixed"
// IB: cp.ring_attention
// IB: cp.seq_to_heads
// IB: cp.sdpa_backward
// IB: cp.heads_to_seq
// BAD: error: 'func.func' op topology 'tpu' is neither a built-in (h200-nvlink, h100-ib, cpu) nor a readable JSON file: No such file or directory
// BADFILE: error: 'func.func' op topology file '{{.*}}bad-value.json': network.latency_us: expected a number >= 0, got -3
// BADHYBRID: error: 'cp.sdpa' op topology file '{{.*}}bad-key.json': node: unknown key 'bandwith'
func.func @train(%q: tensor<1x16x16384x128xbf16>, %k: tensor<1x16x16384x128xbf16>, %v: tensor<1x16x16384x128xbf16>, %do: tensor<1x16x16384x128xbf16>) -> (tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>) -> (tensor<1x16x16384x128xbf16>, tensor<1x16x16384xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l {is_causal} : (tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384xf32>) -> (tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>)
  return %o, %dq, %dk, %dv : tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>, tensor<1x16x16384x128xbf16>
}
