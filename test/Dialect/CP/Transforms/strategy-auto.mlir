// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto" 2>/dev/null | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=auto topology=h100-ib" 2>&1 >/dev/null | FileCheck %s --check-prefix=IB-REMARK
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=auto topology=h100-ib" 2>/dev/null | FileCheck %s --check-prefix=IB
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto rotate=allgather" 2>&1 >/dev/null | FileCheck %s --check-prefix=AG
// RUN: cp-opt %s --split-input-file --cp-pipeline="grid-size=8 strategy=auto expand=false" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=auto topology=tpu" 2>&1 | FileCheck %s --check-prefix=BAD

// strategy=auto: the cost model (docs/design.md, "Cost model") picks ring or
// Ulysses per attention op and says why in a remark.

// Many heads and a short sequence on 8 H200s: the ring's 8 steps of small
// blocks cost more than four all-to-alls over NVLink.
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=32 Hkv=32 S=4096 D=128, 2-byte elements, causal): ring 286.7 us, ulysses 170.3 us, hybrid(U=4) 193.9 us; chose ulysses
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

// 6 query heads do not divide over 8 (or 4) ranks: Ulysses is illegal; on 8
// H200s the hybrid of groups of 2 (3 heads each) and a ring of 4 groups
// wins, on 4 ranks of h100-ib the ring.
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=6 Hkv=6 S=4096 D=128, 2-byte elements, causal): ring {{[0-9.]+}} us, ulysses illegal (6 query heads do not divide over 8 ranks), hybrid(U=2) {{[0-9.]+}} us; chose hybrid(U=2)
// AG: remark: strategy=auto on 8 ranks of h200-nvlink ({{.*}}Hq=6{{.*}}): ring(allgather) {{[0-9.]+}} us, ulysses illegal
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib ({{.*}}Hq=6{{.*}}): ring {{[0-9.]+}} us, ulysses illegal (6 query heads do not divide over 4 ranks), hybrid(U=2) {{[0-9.]+}} us; chose ring
// CHECK-LABEL: func.func @odd_heads
// CHECK-SAME: strategy = "hybrid"
// CHECK-NOT: cp.seq_to_heads
// CHECK: cp.ring_attention {{.*}}ulysses_size = 2 : i64
// IB-LABEL: func.func @odd_heads
// IB-NOT: cp.seq_to_heads
// IB: cp.ring_attention
func.func @odd_heads(%q: tensor<1x6x4096x128xbf16>, %k: tensor<1x6x4096x128xbf16>, %v: tensor<1x6x4096x128xbf16>) -> tensor<1x6x4096x128xbf16> {
  %o = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x6x4096x128xbf16>, tensor<1x6x4096x128xbf16>, tensor<1x6x4096x128xbf16>) -> tensor<1x6x4096x128xbf16>
  return %o : tensor<1x6x4096x128xbf16>
}

// -----

// Forward and backward are chosen apart. On 8 H200s both go to Ulysses; on
// 4 ranks of h100-ib the forward does (barely) and the backward, whose ring
// hides its dK/dV shifts behind 2.5x the compute, stays a ring: the
// function is "mixed" (both rewrites keep the same sequence shards at the
// boundary).
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (forward, B=1 Hq=32 Hkv=32 S=4096 D=128, 2-byte elements, causal): ring 286.7 us, ulysses 170.3 us, hybrid(U=4) 193.9 us; chose ulysses
// REMARK: remark: strategy=auto on 8 ranks of h200-nvlink (backward, B=1 Hq=32 Hkv=32 S=4096 D=128, 2-byte elements, causal): ring 673.7 us, ulysses 548.9 us, hybrid(U=4) 580.1 us; chose ulysses
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib (forward, {{.*}}): ring 307.1 us, ulysses 304.0 us, hybrid(U=2) 314.9 us; chose ulysses
// IB-REMARK: remark: strategy=auto on 4 ranks of h100-ib (backward, {{.*}}): ring 948.4 us, ulysses 1068.3 us, hybrid(U=2) 1080.7 us; chose ring
// CHECK-LABEL: func.func @train
// CHECK-SAME: strategy = "ulysses"
// CHECK-NOT: cp.ring_attention
// CHECK: cp.sdpa_backward
// CHECK-NOT: cp.ring_attention
// CHECK: return
// IB-LABEL: func.func @train
// IB-SAME: strategy = "mixed"
// IB: cp.seq_to_heads
// IB: cp.sdpa
// IB: cp.heads_to_seq
// IB: cp.ring_attention_backward
// BAD: error: 'func.func' op unknown topology 'tpu' (expected h200-nvlink, h100-ib or cpu)
func.func @train(%q: tensor<1x32x4096x128xbf16>, %k: tensor<1x32x4096x128xbf16>, %v: tensor<1x32x4096x128xbf16>, %do: tensor<1x32x4096x128xbf16>) -> (tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>) {
  %o, %l = cp.sdpa %q, %k, %v {is_causal} : (tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>) -> (tensor<1x32x4096x128xbf16>, tensor<1x32x4096xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l {is_causal} : (tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096xf32>) -> (tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>)
  return %o, %dq, %dk, %dv : tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>, tensor<1x32x4096x128xbf16>
}
