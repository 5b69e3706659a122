// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4 strategy=ulysses" -verify-diagnostics

// What strategy=ulysses refuses, with the op and the numbers.

func.func @query_heads(%q: tensor<1x6x64x16xf32>, %k: tensor<1x6x64x16xf32>, %v: tensor<1x6x64x16xf32>)
    -> tensor<1x6x64x16xf32> {
  // expected-error @+1 {{'cp.sdpa' op strategy=ulysses splits the query heads over the ranks: 6 query heads do not divide over 4 ranks (use a rank count that divides 6, or strategy=ring)}}
  %o = cp.sdpa %q, %k, %v : (tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>) -> tensor<1x6x64x16xf32>
  return %o : tensor<1x6x64x16xf32>
}

// -----

func.func @kv_heads(%q: tensor<1x12x64x16xf32>, %k: tensor<1x3x64x16xf32>, %v: tensor<1x3x64x16xf32>)
    -> tensor<1x12x64x16xf32> {
  // expected-error @+1 {{'cp.sdpa' op strategy=ulysses: 3 key/value heads neither divide over 4 ranks nor divide 4 (GQA replication); use strategy=ring}}
  %o = cp.sdpa %q, %k, %v {enable_gqa} : (tensor<1x12x64x16xf32>, tensor<1x3x64x16xf32>, tensor<1x3x64x16xf32>) -> tensor<1x12x64x16xf32>
  return %o : tensor<1x12x64x16xf32>
}

// -----

func.func @backward_heads(%do: tensor<1x2x64x16xf32>, %q: tensor<1x2x64x16xf32>,
                          %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>,
                          %o: tensor<1x2x64x16xf32>, %l: tensor<1x2x64xf32>)
    -> tensor<1x2x64x16xf32> {
  // expected-error @+1 {{'cp.sdpa_backward' op strategy=ulysses splits the query heads over the ranks: 2 query heads do not divide over 4 ranks}}
  %dq, %dk, %dv = cp.sdpa_backward %do, %q, %k, %v, %o, %l
      : (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>,
         tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64xf32>)
      -> (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
  return %dq : tensor<1x2x64x16xf32>
}

// -----

func.func @no_heads(%q: tensor<64x16xf32>, %k: tensor<64x16xf32>, %v: tensor<64x16xf32>)
    -> tensor<64x16xf32> {
  // expected-error @+1 {{'cp.sdpa' op strategy=ulysses distributes attention by heads, but this attention has no heads dim (rank 2)}}
  %o = cp.sdpa %q, %k, %v : (tensor<64x16xf32>, tensor<64x16xf32>, tensor<64x16xf32>) -> tensor<64x16xf32>
  return %o : tensor<64x16xf32>
}
