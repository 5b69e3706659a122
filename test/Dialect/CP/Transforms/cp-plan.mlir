// RUN: cp-opt %s --cp-plan | FileCheck %s
// RUN: cp-opt %s --cp-plan="topology=%S/../../../../share/topologies/h200-nvlink.json" | FileCheck %s --check-prefix=FILE
// RUN: cp-opt %s --cp-plan="topology=h100-ib grid-size=8,16 load-balance=none" | FileCheck %s --check-prefix=IB
// RUN: cp-opt %s --cp-plan="topology=cpu grid-size=2" -o /dev/null | FileCheck %s --check-prefix=CPU
// RUN: cp-opt %s --cp-plan="topology=%S/Inputs/topologies/four-per-node.json grid-size=4,8" -o /dev/null | FileCheck %s --check-prefix=FOUR
// RUN: not cp-opt %s --cp-plan="topology=tpu" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not cp-opt %s --cp-plan="topology=%S/Inputs/topologies/bad-key.json" 2>&1 | FileCheck %s --check-prefix=BADKEY
// RUN: not cp-opt %s --cp-plan="topology=%S/Inputs/topologies/bad-value.json" 2>&1 | FileCheck %s --check-prefix=BADVALUE
// RUN: not cp-opt %s --cp-plan="topology=%S/Inputs/topologies/bad-type.json" 2>&1 | FileCheck %s --check-prefix=BADTYPE
// RUN: not cp-opt %s --cp-plan="topology=%S/Inputs/topologies/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not cp-opt %s --cp-plan="topology=%S/Inputs/topologies/not-json.json" 2>&1 | FileCheck %s --check-prefix=NOTJSON

// cp-plan prints the topology it used (name, built-in or file), the cost
// model's table per attention op and the kernel throughput at the block
// sizes it looked up, and leaves the IR unchanged.

// CHECK: cp-plan: topology h200-nvlink (built-in; link 400.00 GB/s, 10.00 us, all-to-all x0.75; 8 ranks per node, network 50.00 GB/s, 20.00 us, all-to-all x0.75; kernel overhead 25.00 us forward, 80.00 us backward; memory 4300.00 GB/s; load-balance=head_tail); predicted microseconds
// CHECK-NEXT: attention #0 cp.sdpa in @gqa: forward, B=2 Hq=32 Hkv=4 S=8192 D=128, 2-byte elements, causal
// CHECK-NEXT:   ranks |            ring |  ring(alltoall) | ring(allgather) |         ulysses |      hybrid (U) | best
// CHECK-NEXT:       1 | [[T1:[0-9.]+]] | [[T1]] | [[T1]] | [[T1]] | illegal | ring
// CHECK-NEXT:       2 | {{.*}} | {{ *[0-9.]+}} | illegal | ring
// The ring's causal half blocks shrink with N, Ulysses' local attention keeps
// the whole sequence with Hq/N heads; each call is looked up at the block of
// equal work with the table's 16 heads (docs/cost-model.md): at N=8 the ring
// at 1024·sqrt(1/2 · 64/16) = 1448 tokens (472.5 TFLOP/s), Ulysses at
// 8192·sqrt(1/2 · 8/16) = 4096 (633.0). N=8 by hand (docs/design.md): ring 8
// steps of 25 + 17.18 GFLOP / 472.5 TFLOP/s = 61.36 us (KV shifts of 4.2 MB,
// 20.5 us, hidden) plus 8 merges of 84.4 MB at 4.3 TB/s = 19.63 us: 647.9 us;
// Ulysses: all-to-alls of q and out (16.8 MB, 7/8 of it at 300 GB/s, + 10 us
// = 58.93 us each) and of k and v (KV heads replicated to 8: 22.23 us each),
// plus one call of 25 + 137.4 GFLOP / 633.0 TFLOP/s = 242.14 us: 404.5 us.
// CHECK-NEXT:       4 |           714.8 |           714.8 |           807.7 |           687.0 |       728.6 (2) | ulysses
// CHECK-NEXT:       8 |           647.9 |           647.9 |           791.3 |           404.5 |       452.5 (4) | ulysses
// CHECK-NEXT:   kernel TFLOP/s (forward) at the blocks looked up: N=1: one device 11585 tokens 637.0; N=2: ring 5793 tokens 634.5, ulysses 8192 tokens 636.0; N=4: ring 2896 tokens 600.5, ulysses 5793 tokens 634.5; N=8: ring 1448 tokens 472.5, ulysses 4096 tokens 633.0;
// CHECK-NEXT: attention #1 cp.flex_attention in @flex: forward, B=1 Hq=12 Hkv=12 S=1024 D=64, 4-byte elements, full
// 12 heads do not divide over 8 ranks: Ulysses is illegal, the hybrid of
// groups of 4 (a ring of 2 blocks of 512 tokens) beats a ring of 8 blocks
// of 128 (every block at the table's floor, 146 TFLOP/s, plus 25 us).
// CHECK:             8 | {{.*}} |         illegal |        97.2 (4) | hybrid(U=4)
// CHECK-NEXT:   kernel TFLOP/s (forward) at the blocks looked up: N=1: one device 887 tokens 329.1; N=2: ring 443 tokens 146.0, ulysses 627 tokens 213.6;
// CHECK-NEXT: attention #2 cp.sdpa_backward in @bwd: backward
// CHECK: kernel TFLOP/s (backward) at the blocks looked up: N=1: one device 1024 tokens 371.0;
// CHECK: func.func @gqa
// CHECK: cp.sdpa
// CHECK-NOT: cp.ring_attention
// CHECK-NOT: cp.seq_to_heads

// The shipped file is the built-in: the same table, with the file named.
// FILE: cp-plan: topology h200-nvlink (file {{.*}}share/topologies/h200-nvlink.json; link 400.00 GB/s
// FILE: attention #0
// FILE:       8 |           647.9 |           647.9 |           791.3 |           404.5 |       452.5 (4) | ulysses

// Across nodes (16 ranks of 8-GPU nodes) with contiguous blocks.
// IB: load-balance=none
// IB: attention #0
// IB-NEXT: ranks
// IB-NEXT: 8 |
// Two nodes: Ulysses inside each node of 8, the ring between them.
// IB-NEXT: 16 | {{.*}} |  {{ *[0-9.]+}} (8) | hybrid(U=8)

// CPU: topology cpu (built-in; link 10.00 GB/s, 5.00 us, all-to-all x0.80; kernel overhead
// CPU: attention #2 cp.sdpa_backward in @bwd
// CPU-NEXT: ranks
// CPU-NEXT: 2 |
// CPU-NOT: func.func

// A file of our own: 4 ranks per node, so 8 ranks span two nodes; the
// flat kernel table gives 300 TFLOP/s at every block size, and without
// kernel.heads the heads do not enter the lookup.
// FOUR: cp-plan: topology four-per-node (file {{.*}}four-per-node.json; link 200.00 GB/s, 10.00 us, all-to-all x0.50; 4 ranks per node, network 25.00 GB/s, 30.00 us, all-to-all x1.00; kernel overhead 20.00 us forward, 40.00 us backward; memory 2000.00 GB/s; load-balance=head_tail)
// FOUR: attention #0
// FOUR: kernel TFLOP/s (forward) at the blocks looked up: N=4: ring 1448 tokens 300.0, ulysses 5793 tokens 300.0; N=8: ring 724 tokens 300.0, ulysses 5793 tokens 300.0;

// BAD: error: cp-plan: topology 'tpu' is neither a built-in (h200-nvlink, h100-ib, cpu) nor a readable JSON file: No such file or directory
// BADKEY: error: cp-plan: topology file '{{.*}}bad-key.json': node: unknown key 'bandwith' (expected link_gbps, latency_us, all_to_all_efficiency, ranks or comment)
// BADVALUE: error: cp-plan: topology file '{{.*}}bad-value.json': network.latency_us: expected a number >= 0, got -3
// BADTYPE: error: cp-plan: topology file '{{.*}}bad-type.json': kernel.forward.tflops[1][1]: expected a number, got a string
// MISSING: error: cp-plan: topology file '{{.*}}missing.json': kernel.backward: missing (expected an object)
// NOTJSON: error: cp-plan: topology file '{{.*}}not-json.json': invalid JSON: {{.*}}

func.func @gqa(%q: tensor<2x32x8192x128xbf16>, %k: tensor<2x4x8192x128xbf16>, %v: tensor<2x4x8192x128xbf16>) -> tensor<2x32x8192x128xbf16> {
  %o = cp.sdpa %q, %k, %v {is_causal, enable_gqa} : (tensor<2x32x8192x128xbf16>, tensor<2x4x8192x128xbf16>, tensor<2x4x8192x128xbf16>) -> tensor<2x32x8192x128xbf16>
  return %o : tensor<2x32x8192x128xbf16>
}

func.func @flex(%q: tensor<1x12x1024x64xf32>, %k: tensor<1x12x1024x64xf32>, %v: tensor<1x12x1024x64xf32>) -> tensor<1x12x1024x64xf32> {
  %o = cp.flex_attention %q, %k, %v : (tensor<1x12x1024x64xf32>, tensor<1x12x1024x64xf32>, tensor<1x12x1024x64xf32>) -> tensor<1x12x1024x64xf32>
  return %o : tensor<1x12x1024x64xf32>
}

func.func @bwd(%do: tensor<1x8x2048x64xf32>, %q: tensor<1x8x2048x64xf32>, %k: tensor<1x8x2048x64xf32>, %v: tensor<1x8x2048x64xf32>, %o: tensor<1x8x2048x64xf32>, %l: tensor<1x8x2048xf32>) -> (tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>) {
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l {is_causal} : (tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048xf32>) -> (tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>)
  return %dq, %dk, %dv : tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>
}
