// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=hybrid ulysses-size=4" -verify-diagnostics
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=8 strategy=hybrid ulysses-size=3" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not cp-opt %s --split-input-file --cp-context-parallel="grid-size=7 strategy=hybrid pad=true" 2>&1 | FileCheck %s --check-prefix=PRIME

// What strategy=hybrid refuses, at the op, with the reason.

// SIZE: error: 'cp.sdpa' op strategy=hybrid with ulysses-size=3 on 8 ranks: a Ulysses size of 3 does not split 8 ranks into groups
// PRIME: error: 'cp.sdpa' op strategy=hybrid on 7 ranks: no Ulysses group size 1 < U < 7 divides the ranks
func.func @query_heads(%q: tensor<1x6x64x16xf32>) -> tensor<1x6x64x16xf32> {
  // expected-error @+1 {{'cp.sdpa' op strategy=hybrid with ulysses-size=4 on 8 ranks: 6 query heads do not divide over 4 ranks}}
  %o = cp.sdpa %q, %q, %q : (tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>) -> tensor<1x6x64x16xf32>
  return %o : tensor<1x6x64x16xf32>
}

// -----

func.func @masked(%q: tensor<1x8x64x16xf32>, %m: tensor<64x64xi1>) -> tensor<1x8x64x16xf32> {
  // expected-error @+1 {{'cp.sdpa' op strategy=hybrid: an attention with a mask has no hybrid form; use strategy=ring or strategy=ulysses}}
  %o = cp.sdpa %q, %q, %q mask %m : (tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>, tensor<64x64xi1>) -> tensor<1x8x64x16xf32>
  return %o : tensor<1x8x64x16xf32>
}

// -----

func.func @flex(%q: tensor<1x8x64x16xf32>) -> tensor<1x8x64x16xf32> {
  // expected-error @+1 {{'cp.flex_attention' op strategy=hybrid: flex attention has no hybrid form; use strategy=ring or strategy=ulysses}}
  %o = cp.flex_attention %q, %q, %q
      : (tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>) -> tensor<1x8x64x16xf32>
    mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi uge, %i, %j : index
    cp.yield %c : i1
  }
  return %o : tensor<1x8x64x16xf32>
}
