// Rank-3 flex attention as torch-mlir exports it for a model with one KV
// head (batch and heads folded: 4 query heads, 1 KV head, GQA): Gemma2's
// soft-capped scores (tanh(s / 50) * 50) and a causal sliding window of 8,
// on 24 tokens. Its modifiers read positions only.
func.func @flex_rank3(%q: tensor<4x24x16xf32>, %k: tensor<1x24x16xf32>,
                      %v: tensor<1x24x16xf32>) -> tensor<4x24x16xf32> {
  %o = cp.flex_attention %q, %k, %v {enable_gqa, scale = 0.25 : f64} : (tensor<4x24x16xf32>, tensor<1x24x16xf32>, tensor<1x24x16xf32>) -> tensor<4x24x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %causal = arith.cmpi sge, %qi, %ki : index
      %d = arith.subi %qi, %ki : index
      %c8 = arith.constant 8 : index
      %near = arith.cmpi slt, %d, %c8 : index
      %keep = arith.andi %causal, %near : i1
      cp.yield %keep : i1
    } score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
      %c = arith.constant 50.0 : f32
      %x = arith.divf %s, %c : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %c : f32
      cp.yield %r : f32
    }
  return %o : tensor<4x24x16xf32>
}
