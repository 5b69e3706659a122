// Causal attention on whole tensors, as a front end hands it to cp. The AOT
// example compiles it for 4 ranks:
//   cp-run causal_attention.mlir --entry causal_attention --ranks 4 \
//     --pipeline "rotate=ring load-balance=head_tail" \
//     --emit-object causal_attention.o --emit-header causal_attention.h
func.func @causal_attention(%q: tensor<1x4x256x32xf32>, %k: tensor<1x4x256x32xf32>,
                            %v: tensor<1x4x256x32xf32>) -> tensor<1x4x256x32xf32> {
  %o = cp.sdpa %q, %k, %v {is_causal}
      : (tensor<1x4x256x32xf32>, tensor<1x4x256x32xf32>, tensor<1x4x256x32xf32>) -> tensor<1x4x256x32xf32>
  return %o : tensor<1x4x256x32xf32>
}
