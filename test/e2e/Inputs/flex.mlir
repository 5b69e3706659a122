// Flex attention with a mask_mod (causal within a sliding window of 12) and
// a score_mod (a relative-position bias), on 40 tokens.
func.func @flex(%q: tensor<1x2x40x16xf32>, %k: tensor<1x2x40x16xf32>,
                %v: tensor<1x2x40x16xf32>) -> tensor<1x2x40x16xf32> {
  %o = cp.flex_attention %q, %k, %v : (tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>) -> tensor<1x2x40x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %causal = arith.cmpi sge, %qi, %ki : index
      %d = arith.subi %qi, %ki : index
      %c12 = arith.constant 12 : index
      %near = arith.cmpi slt, %d, %c12 : index
      %keep = arith.andi %causal, %near : i1
      cp.yield %keep : i1
    } score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
      %d = arith.subi %ki, %qi : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %c = arith.constant 0.0625 : f32
      %bias = arith.mulf %df, %c : f32
      %r = arith.addf %s, %bias : f32
      cp.yield %r : f32
    }
  return %o : tensor<1x2x40x16xf32>
}
