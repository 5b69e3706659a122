// Causal GQA attention over packed documents on one device: the same
// computation as doc_ring.mlir.in's ring with document ids, as cp.sdpa with
// an explicit boolean mask (query i sees key j iff both are in the same
// document; causality from is_causal).
func.func @doc_ring(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x48x16xf32>,
                    %v: tensor<1x2x48x16xf32>, %seg: tensor<48xi32>)
    -> tensor<1x4x48x16xf32> {
  %init = tensor.empty() : tensor<48x48xi1>
  %keep = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>,
                       affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%seg, %seg : tensor<48xi32>, tensor<48xi32>) outs(%init : tensor<48x48xi1>) {
  ^bb0(%a: i32, %b: i32, %o: i1):
    %same = arith.cmpi eq, %a, %b : i32
    linalg.yield %same : i1
  } -> tensor<48x48xi1>
  %out, %lse = cp.sdpa %q, %k, %v mask %keep {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<48x48xi1>)
      -> (tensor<1x4x48x16xf32>, tensor<1x4x48xf32>)
  return %out : tensor<1x4x48x16xf32>
}

// Forward and backward with the same-document mask: out, dq, dk, dv.
func.func @doc_ring_bwd(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x48x16xf32>,
                        %v: tensor<1x2x48x16xf32>, %seg: tensor<48xi32>,
                        %dout: tensor<1x4x48x16xf32>)
    -> (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
        tensor<1x2x48x16xf32>) {
  %init = tensor.empty() : tensor<48x48xi1>
  %keep = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>,
                       affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%seg, %seg : tensor<48xi32>, tensor<48xi32>) outs(%init : tensor<48x48xi1>) {
  ^bb0(%a: i32, %b: i32, %o: i1):
    %same = arith.cmpi eq, %a, %b : i32
    linalg.yield %same : i1
  } -> tensor<48x48xi1>
  %out, %lse = cp.sdpa %q, %k, %v mask %keep {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<48x48xi1>)
      -> (tensor<1x4x48x16xf32>, tensor<1x4x48xf32>)
  %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %out, %lse mask %keep {is_causal, enable_gqa}
      : (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>,
         tensor<1x2x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48xf32>, tensor<48x48xi1>)
      -> (tensor<1x4x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>)
  return %out, %dq, %dk, %dv : tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>,
                               tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>
}
