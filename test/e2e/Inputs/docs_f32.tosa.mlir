// Made from test/Fixtures/Inputs/sdpa_boolmask_f32.tosa.mlir for the document-mask tests: the bool mask is tosa.equal of the [1, S] ids reshaped to [1, 1, S, 1] and [1, 1, 1, S].
module {
  func.func @docs_tosa_f32(%arg0: tensor<1x4x64x16xf32>, %arg1: tensor<1x4x64x16xf32>, %arg2: tensor<1x4x64x16xf32>, %arg3: tensor<1x64xi32>) -> tensor<1x4x64x16xf32> {
    %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x4x64x64xf32>}> : () -> tensor<1x4x64x64xf32>
    %1 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
    %2 = tosa.const_shape  {values = dense<[4, 64, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %3 = tosa.const_shape  {values = dense<[4, 16, 64]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %4 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
    %5 = tosa.const_shape  {values = dense<[1, 4, 64, 64]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %6 = tosa.const_shape  {values = dense<[4, 64, 64]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %7 = tosa.const_shape  {values = dense<[1, 4, 64, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %8 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %9 = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %10 = "tosa.const"() <{values = dense<5.000000e-01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %11 = "tosa.const"() <{values = dense<0xFFF0000000000000> : tensor<1x1x1x1xf64>}> : () -> tensor<1x1x1x1xf64>
    %dshape_q = tosa.const_shape  {values = dense<[1, 1, 64, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %dshape_k = tosa.const_shape  {values = dense<[1, 1, 1, 64]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %dq = tosa.reshape %arg3, %dshape_q : (tensor<1x64xi32>, !tosa.shape<4>) -> tensor<1x1x64x1xi32>
    %dk = tosa.reshape %arg3, %dshape_k : (tensor<1x64xi32>, !tosa.shape<4>) -> tensor<1x1x1x64xi32>
    %same = tosa.equal %dq, %dk : (tensor<1x1x64x1xi32>, tensor<1x1x1x64xi32>) -> tensor<1x1x64x64xi1>
    %12 = tosa.select %same, %8, %9 : (tensor<1x1x64x64xi1>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x64x64xf32>
    %13 = tosa.mul %arg0, %10, %1 : (tensor<1x4x64x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x64x16xf32>
    %14 = tosa.transpose %arg1 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x4x64x16xf32>) -> tensor<1x4x16x64xf32>
    %15 = tosa.mul %14, %10, %1 : (tensor<1x4x16x64xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x16x64xf32>
    %16 = tosa.reshape %13, %2 : (tensor<1x4x64x16xf32>, !tosa.shape<3>) -> tensor<4x64x16xf32>
    %17 = tosa.reshape %15, %3 : (tensor<1x4x16x64xf32>, !tosa.shape<3>) -> tensor<4x16x64xf32>
    %18 = tosa.matmul %16, %17, %4, %4 : (tensor<4x64x16xf32>, tensor<4x16x64xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x64x64xf32>
    %19 = tosa.reshape %18, %5 : (tensor<4x64x64xf32>, !tosa.shape<4>) -> tensor<1x4x64x64xf32>
    %20 = tosa.add %19, %12 : (tensor<1x4x64x64xf32>, tensor<1x1x64x64xf32>) -> tensor<1x4x64x64xf32>
    %21 = tosa.reduce_max %20 {axis = 3 : i32} : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x1xf32>
    %22 = tosa.sub %20, %21 : (tensor<1x4x64x64xf32>, tensor<1x4x64x1xf32>) -> tensor<1x4x64x64xf32>
    %23 = tosa.exp %22 : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf32>
    %24 = tosa.reduce_sum %23 {axis = 3 : i32} : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x1xf32>
    %25 = tosa.reciprocal %24 : (tensor<1x4x64x1xf32>) -> tensor<1x4x64x1xf32>
    %26 = tosa.mul %23, %25, %1 : (tensor<1x4x64x64xf32>, tensor<1x4x64x1xf32>, tensor<1xi8>) -> tensor<1x4x64x64xf32>
    %27 = tosa.cast %20 : (tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf64>
    %28 = tosa.equal %27, %11 : (tensor<1x4x64x64xf64>, tensor<1x1x1x1xf64>) -> tensor<1x4x64x64xi1>
    %29 = tosa.reduce_all %28 {axis = 3 : i32} : (tensor<1x4x64x64xi1>) -> tensor<1x4x64x1xi1>
    %30 = tosa.select %29, %0, %26 : (tensor<1x4x64x1xi1>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) -> tensor<1x4x64x64xf32>
    %31 = tosa.reshape %30, %6 : (tensor<1x4x64x64xf32>, !tosa.shape<3>) -> tensor<4x64x64xf32>
    %32 = tosa.reshape %arg2, %2 : (tensor<1x4x64x16xf32>, !tosa.shape<3>) -> tensor<4x64x16xf32>
    %33 = tosa.matmul %31, %32, %4, %4 : (tensor<4x64x64xf32>, tensor<4x64x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x64x16xf32>
    %34 = tosa.reshape %33, %7 : (tensor<4x64x16xf32>, !tosa.shape<4>) -> tensor<1x4x64x16xf32>
    return %34 : tensor<1x4x64x16xf32>
  }
}
