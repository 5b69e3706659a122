// flex_attention with a document mask_mod (torch's packed-sequence
// `doc[q_idx] == doc[kv_idx] and q_idx >= kv_idx`), GQA 4 / 2 heads.
func.func @docs_flex(%q: tensor<1x4x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                     %v: tensor<1x2x64x16xf32>, %doc: tensor<64xi32>)
    -> tensor<1x4x64x16xf32> {
  %o = cp.flex_attention %q, %k, %v {enable_gqa, scale = 0.25 : f64}
      : (tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
      -> tensor<1x4x64x16xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %dq = tensor.extract %doc[%qi] : tensor<64xi32>
      %dk = tensor.extract %doc[%ki] : tensor<64xi32>
      %same = arith.cmpi eq, %dq, %dk : i32
      %causal = arith.cmpi uge, %qi, %ki : index
      %keep = arith.andi %same, %causal : i1
      cp.yield %keep : i1
    }
  return %o : tensor<1x4x64x16xf32>
}
