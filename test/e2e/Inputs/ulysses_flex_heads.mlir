// Flex attention whose modifiers read the head index (a per-head ALiBi
// slope and a per-head window) on S = 50 tokens, 4 heads: under
// strategy=ulysses a rank holds heads r*H/W.. and the modifiers must see
// the global head.
func.func @flex_heads(%q: tensor<1x4x50x16xf32>, %k: tensor<1x4x50x16xf32>,
                      %v: tensor<1x4x50x16xf32>) -> tensor<1x4x50x16xf32> {
  %o = cp.flex_attention %q, %k, %v : (tensor<1x4x50x16xf32>, tensor<1x4x50x16xf32>, tensor<1x4x50x16xf32>) -> tensor<1x4x50x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %causal = arith.cmpi sge, %qi, %ki : index
      %d = arith.subi %qi, %ki : index
      %c4 = arith.constant 4 : index
      %c1 = arith.constant 1 : index
      %h1 = arith.addi %h, %c1 : index
      %w = arith.muli %h1, %c4 : index
      %near = arith.cmpi slt, %d, %w : index
      %keep = arith.andi %causal, %near : i1
      cp.yield %keep : i1
    } score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
      %d = arith.subi %ki, %qi : index
      %dh = arith.muli %d, %h : index
      %di = arith.index_cast %dh : index to i64
      %df = arith.sitofp %di : i64 to f32
      %c = arith.constant 0.125 : f32
      %bias = arith.mulf %df, %c : f32
      %r = arith.addf %s, %bias : f32
      cp.yield %r : f32
    }
  return %o : tensor<1x4x50x16xf32>
}
