// RUN: cp-opt %s --cp-plan | FileCheck %s
// RUN: cp-opt %s --cp-plan="topology=h100-ib grid-size=8,16 load-balance=none" | FileCheck %s --check-prefix=IB
// RUN: cp-opt %s --cp-plan="topology=cpu grid-size=2" -o /dev/null | FileCheck %s --check-prefix=CPU
// RUN: not cp-opt %s --cp-plan="topology=tpu" 2>&1 | FileCheck %s --check-prefix=BAD

// cp-plan prints the cost model's table and leaves the IR unchanged.

// CHECK: cp-plan: topology h200-nvlink (link 400.00 GB/s, 10.00 us; all-to-all x0.75; kernel 280.00 TFLOP/s, backward x0.45; load-balance=head_tail); predicted microseconds
// CHECK-NEXT: attention #0 cp.sdpa in @gqa: forward, B=2 Hq=32 Hkv=4 S=8192 D=128, 2-byte elements, causal
// CHECK-NEXT:   ranks |            ring |  ring(alltoall) | ring(allgather) |         ulysses |      hybrid (U) | best
// CHECK-NEXT:       1 | [[T1:[0-9.]+]] | [[T1]] | [[T1]] | [[T1]] | illegal | ring
// CHECK-NEXT:       2 | {{.*}} | {{ *[0-9.]+}} | illegal | ring
// CHECK-NEXT:       4 | {{.*}} | {{ *[0-9.]+}} (2) |
// CHECK-NEXT:       8 | {{.*}} | {{ *[0-9.]+}} (4) | {{ring|ulysses|hybrid\(U=4\)}}
// CHECK-NEXT: attention #1 cp.flex_attention in @flex: forward, B=1 Hq=12 Hkv=12 S=1024 D=64, 4-byte elements, full
// 12 heads do not divide over 8 ranks: Ulysses is illegal, a hybrid of
// groups of 4 (or 2) is not.
// CHECK:             8 | {{.*}} |         illegal | {{ *[0-9.]+}} ({{2|4}}) | {{ring|hybrid}}
// CHECK-NEXT: attention #2 cp.sdpa_backward in @bwd: backward
// CHECK: func.func @gqa
// CHECK: cp.sdpa
// CHECK-NOT: cp.ring_attention
// CHECK-NOT: cp.seq_to_heads

// Across nodes (16 ranks of 8-GPU nodes) with contiguous blocks.
// IB: load-balance=none
// IB: attention #0
// IB-NEXT: ranks
// IB-NEXT: 8 |
// Two nodes: Ulysses inside each node of 8, the ring between them.
// IB-NEXT: 16 | {{.*}} |  {{ *[0-9.]+}} (8) | hybrid(U=8)

// CPU: topology cpu (link 10.00 GB/s
// CPU: attention #2 cp.sdpa_backward in @bwd
// CPU-NEXT: ranks
// CPU-NEXT: 2 |
// CPU-NOT: func.func

// BAD: error: cp-plan: unknown topology 'tpu'

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
