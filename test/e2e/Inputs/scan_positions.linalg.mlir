#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, 0)>
#map3 = affine_map<(d0) -> (d0)>
#map4 = affine_map<(d0, d1) -> (0, d1)>
#map5 = affine_map<(d0, d1) -> (d0, 0)>
#map6 = affine_map<(d0, d1) -> ()>
#map7 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map8 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#map9 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
module {
  func.func @scan_positions(%arg0: tensor<1x2x24x8xf32>, %arg1: tensor<1x2x24x8xf32>, %arg2: tensor<1x2x24x8xf32>, %arg3: tensor<1x24xi64>) -> tensor<1x2x24x8xf32> {
    %cst = arith.constant 0.000000e+00 : f32
    %c0_i64 = arith.constant 0 : i64
    %c1_i64 = arith.constant 1 : i64
    %cst_0 = arith.constant 0xFF800000 : f32
    %true = arith.constant true
    %cst_1 = arith.constant 1.000000e-01 : f64
    %cst_2 = arith.constant 5.000000e-02 : f64
    %cst_3 = arith.constant 0.59460355750136051 : f64
    %cst_4 = arith.constant 0xFFF0000000000000 : f64
    %cst_5 = arith.constant dense<true> : tensor<24x24xi1>
    %cst_6 = arith.constant dense<0xFF800000> : tensor<f32>
    %cst_7 = arith.constant dense<0.000000e+00> : tensor<f32>
    %cst_8 = arith.constant dense<0.000000e+00> : tensor<1x2x24x24xf32>
    %0 = tensor.empty() : tensor<1x24xi64>
    %1 = linalg.fill ins(%c0_i64 : i64) outs(%0 : tensor<1x24xi64>) -> tensor<1x24xi64>
    %2 = tensor.empty() : tensor<1xi64>
    %3 = linalg.fill ins(%c0_i64 : i64) outs(%2 : tensor<1xi64>) -> tensor<1xi64>
    %4:2 = tm_tensor.scan dimension(1) inclusive(true) ins(%arg3 : tensor<1x24xi64>) outs(%1, %3 : tensor<1x24xi64>, tensor<1xi64>) {
    ^bb0(%arg4: i64, %arg5: i64):
      %60 = arith.addi %arg4, %arg5 : i64
      tm_tensor.yield %60 : i64
    } -> tensor<1x24xi64>, tensor<1xi64>
    %5 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%4#0, %arg3 : tensor<1x24xi64>, tensor<1x24xi64>) outs(%0 : tensor<1x24xi64>) {
    ^bb0(%in: i64, %in_17: i64, %out: i64):
      %60 = arith.muli %in, %in_17 : i64
      linalg.yield %60 : i64
    } -> tensor<1x24xi64>
    %6 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<1x24xi64>) outs(%0 : tensor<1x24xi64>) {
    ^bb0(%in: i64, %out: i64):
      %60 = arith.subi %in, %c1_i64 : i64
      linalg.yield %60 : i64
    } -> tensor<1x24xi64>
    %7 = tensor.empty() : tensor<1x24xf32>
    %8 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%6 : tensor<1x24xi64>) outs(%7 : tensor<1x24xf32>) {
    ^bb0(%in: i64, %out: f32):
      %60 = arith.sitofp %in : i64 to f32
      linalg.yield %60 : f32
    } -> tensor<1x24xf32>
    %9 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%8 : tensor<1x24xf32>) outs(%7 : tensor<1x24xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.truncf %cst_1 : f64 to f32
      %61 = arith.mulf %in, %60 : f32
      linalg.yield %61 : f32
    } -> tensor<1x24xf32>
    %10 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%9 : tensor<1x24xf32>) outs(%7 : tensor<1x24xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = math.sin %in : f32
      linalg.yield %60 : f32
    } -> tensor<1x24xf32>
    %expanded = tensor.expand_shape %10 [[0], [1, 2, 3]] output_shape [1, 1, 24, 1] : tensor<1x24xf32> into tensor<1x1x24x1xf32>
    %11 = tensor.empty() : tensor<1x2x24x8xf32>
    %12 = linalg.fill ins(%cst : f32) outs(%11 : tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32>
    %13 = tensor.empty() : tensor<1x2x8xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
    %15:2 = tm_tensor.scan dimension(2) inclusive(true) ins(%arg1 : tensor<1x2x24x8xf32>) outs(%12, %14 : tensor<1x2x24x8xf32>, tensor<1x2x8xf32>) {
    ^bb0(%arg4: f32, %arg5: f32):
      %60 = arith.addf %arg4, %arg5 : f32
      tm_tensor.yield %60 : f32
    } -> tensor<1x2x24x8xf32>, tensor<1x2x8xf32>
    %16 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%15#0 : tensor<1x2x24x8xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.truncf %cst_2 : f64 to f32
      %61 = arith.mulf %in, %60 : f32
      linalg.yield %61 : f32
    } -> tensor<1x2x24x8xf32>
    %17 = tensor.empty() : tensor<1x2x24xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<1x2x24xf32>) -> tensor<1x2x24xf32>
    %19:2 = tm_tensor.scan dimension(3) inclusive(true) ins(%arg0 : tensor<1x2x24x8xf32>) outs(%12, %18 : tensor<1x2x24x8xf32>, tensor<1x2x24xf32>) {
    ^bb0(%arg4: f32, %arg5: f32):
      %60 = arith.addf %arg4, %arg5 : f32
      tm_tensor.yield %60 : f32
    } -> tensor<1x2x24x8xf32>, tensor<1x2x24xf32>
    %20 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%19#0 : tensor<1x2x24x8xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.truncf %cst_1 : f64 to f32
      %61 = arith.mulf %in, %60 : f32
      linalg.yield %61 : f32
    } -> tensor<1x2x24x8xf32>
    %21 = linalg.generic {indexing_maps = [#map1, #map2, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %expanded : tensor<1x2x24x8xf32>, tensor<1x1x24x1xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.addf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x8xf32>
    %22 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%21, %20 : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.addf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x8xf32>
    %23 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1, %16 : tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.addf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x8xf32>
    %24 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%22 : tensor<1x2x24x8xf32>) outs(%11 : tensor<1x2x24x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.truncf %cst_3 : f64 to f32
      %61 = arith.mulf %in, %60 : f32
      linalg.yield %61 : f32
    } -> tensor<1x2x24x8xf32>
    %25 = tensor.empty() : tensor<24xi64>
    %26 = linalg.generic {indexing_maps = [#map3], iterator_types = ["parallel"]} outs(%25 : tensor<24xi64>) {
    ^bb0(%out: i64):
      %60 = linalg.index 0 : index
      %61 = arith.index_cast %60 : index to i64
      linalg.yield %61 : i64
    } -> tensor<24xi64>
    %expanded_9 = tensor.expand_shape %26 [[0, 1]] output_shape [1, 24] : tensor<24xi64> into tensor<1x24xi64>
    %expanded_10 = tensor.expand_shape %26 [[0, 1]] output_shape [24, 1] : tensor<24xi64> into tensor<24x1xi64>
    %27 = tensor.empty() : tensor<24x24xi64>
    %28 = linalg.generic {indexing_maps = [#map4, #map5, #map], iterator_types = ["parallel", "parallel"]} ins(%expanded_9, %expanded_10 : tensor<1x24xi64>, tensor<24x1xi64>) outs(%27 : tensor<24x24xi64>) {
    ^bb0(%in: i64, %in_17: i64, %out: i64):
      %60 = arith.subi %in, %in_17 : i64
      linalg.yield %60 : i64
    } -> tensor<24x24xi64>
    %29 = tensor.empty() : tensor<24x24xi1>
    %30 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%28 : tensor<24x24xi64>) outs(%29 : tensor<24x24xi1>) {
    ^bb0(%in: i64, %out: i1):
      %60 = arith.cmpi sle, %in, %c0_i64 : i64
      linalg.yield %60 : i1
    } -> tensor<24x24xi1>
    %31 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%30, %cst_5 : tensor<24x24xi1>, tensor<24x24xi1>) outs(%29 : tensor<24x24xi1>) {
    ^bb0(%in: i1, %in_17: i1, %out: i1):
      %60 = arith.andi %in, %in_17 : i1
      linalg.yield %60 : i1
    } -> tensor<24x24xi1>
    %32 = tensor.empty() : tensor<24x24xf32>
    %33 = linalg.generic {indexing_maps = [#map, #map6, #map6, #map], iterator_types = ["parallel", "parallel"]} ins(%31, %cst_7, %cst_6 : tensor<24x24xi1>, tensor<f32>, tensor<f32>) outs(%32 : tensor<24x24xf32>) {
    ^bb0(%in: i1, %in_17: f32, %in_18: f32, %out: f32):
      %60 = arith.select %in, %in_17, %in_18 : f32
      linalg.yield %60 : f32
    } -> tensor<24x24xf32>
    %34 = tensor.empty() : tensor<1x2x8x24xf32>
    %transposed = linalg.transpose ins(%23 : tensor<1x2x24x8xf32>) outs(%34 : tensor<1x2x8x24xf32>) permutation = [0, 1, 3, 2] 
    %35 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%transposed : tensor<1x2x8x24xf32>) outs(%34 : tensor<1x2x8x24xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.truncf %cst_3 : f64 to f32
      %61 = arith.mulf %in, %60 : f32
      linalg.yield %61 : f32
    } -> tensor<1x2x8x24xf32>
    %collapsed = tensor.collapse_shape %24 [[0, 1], [2], [3]] : tensor<1x2x24x8xf32> into tensor<2x24x8xf32>
    %collapsed_11 = tensor.collapse_shape %35 [[0, 1], [2], [3]] : tensor<1x2x8x24xf32> into tensor<2x8x24xf32>
    %36 = tensor.empty() : tensor<2x24x24xf32>
    %37 = linalg.fill ins(%cst : f32) outs(%36 : tensor<2x24x24xf32>) -> tensor<2x24x24xf32>
    %38 = linalg.batch_matmul ins(%collapsed, %collapsed_11 : tensor<2x24x8xf32>, tensor<2x8x24xf32>) outs(%37 : tensor<2x24x24xf32>) -> tensor<2x24x24xf32>
    %expanded_12 = tensor.expand_shape %38 [[0, 1], [2], [3]] output_shape [1, 2, 24, 24] : tensor<2x24x24xf32> into tensor<1x2x24x24xf32>
    %39 = tensor.empty() : tensor<1x2x24x24xf32>
    %40 = linalg.generic {indexing_maps = [#map1, #map7, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_12, %33 : tensor<1x2x24x24xf32>, tensor<24x24xf32>) outs(%39 : tensor<1x2x24x24xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.addf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x24xf32>
    %41 = tensor.empty() : tensor<1x2x24xi64>
    %42 = linalg.fill ins(%c0_i64 : i64) outs(%41 : tensor<1x2x24xi64>) -> tensor<1x2x24xi64>
    %43 = linalg.fill ins(%cst_0 : f32) outs(%17 : tensor<1x2x24xf32>) -> tensor<1x2x24xf32>
    %44:2 = linalg.generic {indexing_maps = [#map1, #map8, #map8], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%40 : tensor<1x2x24x24xf32>) outs(%43, %42 : tensor<1x2x24xf32>, tensor<1x2x24xi64>) {
    ^bb0(%in: f32, %out: f32, %out_17: i64):
      %60 = linalg.index 3 : index
      %61 = arith.index_cast %60 : index to i64
      %62 = arith.maximumf %in, %out : f32
      %63 = arith.cmpf ogt, %in, %out : f32
      %64 = arith.select %63, %61, %out_17 : i64
      linalg.yield %62, %64 : f32, i64
    } -> (tensor<1x2x24xf32>, tensor<1x2x24xi64>)
    %expanded_13 = tensor.expand_shape %44#0 [[0], [1], [2, 3]] output_shape [1, 2, 24, 1] : tensor<1x2x24xf32> into tensor<1x2x24x1xf32>
    %45 = linalg.generic {indexing_maps = [#map1, #map9, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%40, %expanded_13 : tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>) outs(%39 : tensor<1x2x24x24xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.subf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x24xf32>
    %46 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%45 : tensor<1x2x24x24xf32>) outs(%39 : tensor<1x2x24x24xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = math.exp %in : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x24xf32>
    %47 = tensor.empty() : tensor<1x2x24x1xf32>
    %48 = linalg.fill ins(%cst : f32) outs(%47 : tensor<1x2x24x1xf32>) -> tensor<1x2x24x1xf32>
    %49 = linalg.generic {indexing_maps = [#map1, #map9], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%46 : tensor<1x2x24x24xf32>) outs(%48 : tensor<1x2x24x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %60 = arith.addf %in, %out : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x1xf32>
    %50 = linalg.generic {indexing_maps = [#map1, #map9, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%46, %49 : tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>) outs(%39 : tensor<1x2x24x24xf32>) {
    ^bb0(%in: f32, %in_17: f32, %out: f32):
      %60 = arith.divf %in, %in_17 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x24xf32>
    %51 = tensor.empty() : tensor<1x2x24x24xi1>
    %52 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%40 : tensor<1x2x24x24xf32>) outs(%51 : tensor<1x2x24x24xi1>) {
    ^bb0(%in: f32, %out: i1):
      %60 = arith.extf %in : f32 to f64
      %61 = arith.cmpf oeq, %60, %cst_4 : f64
      linalg.yield %61 : i1
    } -> tensor<1x2x24x24xi1>
    %53 = tensor.empty() : tensor<1x2x24x1xi1>
    %54 = linalg.fill ins(%true : i1) outs(%53 : tensor<1x2x24x1xi1>) -> tensor<1x2x24x1xi1>
    %55 = linalg.generic {indexing_maps = [#map1, #map9], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%52 : tensor<1x2x24x24xi1>) outs(%54 : tensor<1x2x24x1xi1>) {
    ^bb0(%in: i1, %out: i1):
      %60 = arith.andi %in, %out : i1
      linalg.yield %60 : i1
    } -> tensor<1x2x24x1xi1>
    %56 = linalg.generic {indexing_maps = [#map9, #map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%55, %cst_8, %50 : tensor<1x2x24x1xi1>, tensor<1x2x24x24xf32>, tensor<1x2x24x24xf32>) outs(%39 : tensor<1x2x24x24xf32>) {
    ^bb0(%in: i1, %in_17: f32, %in_18: f32, %out: f32):
      %60 = arith.select %in, %in_17, %in_18 : f32
      linalg.yield %60 : f32
    } -> tensor<1x2x24x24xf32>
    %collapsed_14 = tensor.collapse_shape %56 [[0, 1], [2], [3]] : tensor<1x2x24x24xf32> into tensor<2x24x24xf32>
    %collapsed_15 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x24x8xf32> into tensor<2x24x8xf32>
    %57 = tensor.empty() : tensor<2x24x8xf32>
    %58 = linalg.fill ins(%cst : f32) outs(%57 : tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %59 = linalg.batch_matmul ins(%collapsed_14, %collapsed_15 : tensor<2x24x24xf32>, tensor<2x24x8xf32>) outs(%58 : tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %expanded_16 = tensor.expand_shape %59 [[0, 1], [2], [3]] output_shape [1, 2, 24, 8] : tensor<2x24x8xf32> into tensor<1x2x24x8xf32>
    return %expanded_16 : tensor<1x2x24x8xf32>
  }
}
