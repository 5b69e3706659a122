module {
  func.func @scan_positions(%arg0: tensor<1x2x24x8xf32>, %arg1: tensor<1x2x24x8xf32>, %arg2: tensor<1x2x24x8xf32>, %arg3: tensor<1x24xi64>) -> tensor<1x2x24x8xf32> {
    %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x2x24x24xf32>}> : () -> tensor<1x2x24x24xf32>
    %1 = "tosa.const"() <{values = dense<true> : tensor<24x24xi1>}> : () -> tensor<24x24xi1>
    %2 = tosa.const_shape  {values = dense<[1, 24, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %3 = "tosa.const"() <{values = dense<0> : tensor<1xi64>}> : () -> tensor<1xi64>
    %4 = tosa.const_shape  {values = dense<0> : tensor<3xindex>} : () -> !tosa.shape<3>
    %5 = tosa.const_shape  {values = dense<[0, 0, 1, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
    %6 = tosa.const_shape  {values = dense<[0, 0, 2, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
    %7 = tosa.const_shape  {values = dense<[0, 0, 4, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
    %8 = tosa.const_shape  {values = dense<[0, 0, 8, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
    %9 = tosa.const_shape  {values = dense<[0, 0, 16, 0, 0, 0]> : tensor<6xindex>} : () -> !tosa.shape<6>
    %10 = tosa.const_shape  {values = dense<[1, 24]> : tensor<2xindex>} : () -> !tosa.shape<2>
    %11 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
    %12 = tosa.const_shape  {values = dense<[1, 1, 24, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %13 = tosa.const_shape  {values = dense<[2, 24, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %14 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
    %15 = tosa.const_shape  {values = dense<[1, 2, 24, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %16 = tosa.const_shape  {values = dense<[48, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %17 = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]> : tensor<24xi64>}> : () -> tensor<24xi64>
    %18 = tosa.const_shape  {values = dense<[24, 1]> : tensor<2xindex>} : () -> !tosa.shape<2>
    %19 = tosa.const_shape  {values = dense<[2, 8, 24]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %20 = tosa.const_shape  {values = dense<[1, 2, 24, 24]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %21 = tosa.const_shape  {values = dense<[1, 1, 24, 24]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %22 = tosa.const_shape  {values = dense<[2, 24, 24]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %23 = "tosa.const"() <{values = dense<1> : tensor<1x1xi32>}> : () -> tensor<1x1xi32>
    %24 = "tosa.const"() <{values = dense<1.000000e-01> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
    %25 = "tosa.const"() <{values = dense<5.000000e-02> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %26 = "tosa.const"() <{values = dense<1.000000e-01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %27 = "tosa.const"() <{values = dense<0.594603539> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %28 = "tosa.const"() <{values = dense<0> : tensor<1x1xi64>}> : () -> tensor<1x1xi64>
    %29 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
    %30 = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
    %31 = "tosa.const"() <{values = dense<0xFFF0000000000000> : tensor<1x1x1x1xf64>}> : () -> tensor<1x1x1x1xf64>
    %32 = tosa.reshape %arg3, %2 : (tensor<1x24xi64>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %33 = tosa.pad %32, %5, %3 : (tensor<1x24x1xi64>, !tosa.shape<6>, tensor<1xi64>) -> tensor<1x25x1xi64>
    %34 = tosa.slice %33, %4, %2 : (tensor<1x25x1xi64>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %35 = tosa.add %32, %34 : (tensor<1x24x1xi64>, tensor<1x24x1xi64>) -> tensor<1x24x1xi64>
    %36 = tosa.pad %35, %6, %3 : (tensor<1x24x1xi64>, !tosa.shape<6>, tensor<1xi64>) -> tensor<1x26x1xi64>
    %37 = tosa.slice %36, %4, %2 : (tensor<1x26x1xi64>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %38 = tosa.add %35, %37 : (tensor<1x24x1xi64>, tensor<1x24x1xi64>) -> tensor<1x24x1xi64>
    %39 = tosa.pad %38, %7, %3 : (tensor<1x24x1xi64>, !tosa.shape<6>, tensor<1xi64>) -> tensor<1x28x1xi64>
    %40 = tosa.slice %39, %4, %2 : (tensor<1x28x1xi64>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %41 = tosa.add %38, %40 : (tensor<1x24x1xi64>, tensor<1x24x1xi64>) -> tensor<1x24x1xi64>
    %42 = tosa.pad %41, %8, %3 : (tensor<1x24x1xi64>, !tosa.shape<6>, tensor<1xi64>) -> tensor<1x32x1xi64>
    %43 = tosa.slice %42, %4, %2 : (tensor<1x32x1xi64>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %44 = tosa.add %41, %43 : (tensor<1x24x1xi64>, tensor<1x24x1xi64>) -> tensor<1x24x1xi64>
    %45 = tosa.pad %44, %9, %3 : (tensor<1x24x1xi64>, !tosa.shape<6>, tensor<1xi64>) -> tensor<1x40x1xi64>
    %46 = tosa.slice %45, %4, %2 : (tensor<1x40x1xi64>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x24x1xi64>
    %47 = tosa.add %44, %46 : (tensor<1x24x1xi64>, tensor<1x24x1xi64>) -> tensor<1x24x1xi64>
    %48 = tosa.reshape %47, %10 : (tensor<1x24x1xi64>, !tosa.shape<2>) -> tensor<1x24xi64>
    %49 = tosa.mul %48, %arg3, %11 : (tensor<1x24xi64>, tensor<1x24xi64>, tensor<1xi8>) -> tensor<1x24xi64>
    %50 = tosa.cast %49 : (tensor<1x24xi64>) -> tensor<1x24xi32>
    %51 = tosa.sub %50, %23 : (tensor<1x24xi32>, tensor<1x1xi32>) -> tensor<1x24xi32>
    %52 = tosa.cast %51 : (tensor<1x24xi32>) -> tensor<1x24xf32>
    %53 = tosa.mul %52, %24, %11 : (tensor<1x24xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x24xf32>
    %54 = tosa.sin %53 : (tensor<1x24xf32>) -> tensor<1x24xf32>
    %55 = tosa.reshape %54, %12 : (tensor<1x24xf32>, !tosa.shape<4>) -> tensor<1x1x24x1xf32>
    %56 = tosa.reshape %arg1, %13 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %57 = tosa.pad %56, %5, %14 : (tensor<2x24x8xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x25x8xf32>
    %58 = tosa.slice %57, %4, %13 : (tensor<2x25x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %59 = tosa.add %56, %58 : (tensor<2x24x8xf32>, tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %60 = tosa.pad %59, %6, %14 : (tensor<2x24x8xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x26x8xf32>
    %61 = tosa.slice %60, %4, %13 : (tensor<2x26x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %62 = tosa.add %59, %61 : (tensor<2x24x8xf32>, tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %63 = tosa.pad %62, %7, %14 : (tensor<2x24x8xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x28x8xf32>
    %64 = tosa.slice %63, %4, %13 : (tensor<2x28x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %65 = tosa.add %62, %64 : (tensor<2x24x8xf32>, tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %66 = tosa.pad %65, %8, %14 : (tensor<2x24x8xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x32x8xf32>
    %67 = tosa.slice %66, %4, %13 : (tensor<2x32x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %68 = tosa.add %65, %67 : (tensor<2x24x8xf32>, tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %69 = tosa.pad %68, %9, %14 : (tensor<2x24x8xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<2x40x8xf32>
    %70 = tosa.slice %69, %4, %13 : (tensor<2x40x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %71 = tosa.add %68, %70 : (tensor<2x24x8xf32>, tensor<2x24x8xf32>) -> tensor<2x24x8xf32>
    %72 = tosa.reshape %71, %15 : (tensor<2x24x8xf32>, !tosa.shape<4>) -> tensor<1x2x24x8xf32>
    %73 = tosa.mul %72, %25, %11 : (tensor<1x2x24x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %74 = tosa.reshape %arg0, %16 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<48x8x1xf32>
    %75 = tosa.pad %74, %5, %14 : (tensor<48x8x1xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<48x9x1xf32>
    %76 = tosa.slice %75, %4, %16 : (tensor<48x9x1xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<48x8x1xf32>
    %77 = tosa.add %74, %76 : (tensor<48x8x1xf32>, tensor<48x8x1xf32>) -> tensor<48x8x1xf32>
    %78 = tosa.pad %77, %6, %14 : (tensor<48x8x1xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<48x10x1xf32>
    %79 = tosa.slice %78, %4, %16 : (tensor<48x10x1xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<48x8x1xf32>
    %80 = tosa.add %77, %79 : (tensor<48x8x1xf32>, tensor<48x8x1xf32>) -> tensor<48x8x1xf32>
    %81 = tosa.pad %80, %7, %14 : (tensor<48x8x1xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<48x12x1xf32>
    %82 = tosa.slice %81, %4, %16 : (tensor<48x12x1xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<48x8x1xf32>
    %83 = tosa.add %80, %82 : (tensor<48x8x1xf32>, tensor<48x8x1xf32>) -> tensor<48x8x1xf32>
    %84 = tosa.reshape %83, %15 : (tensor<48x8x1xf32>, !tosa.shape<4>) -> tensor<1x2x24x8xf32>
    %85 = tosa.mul %84, %26, %11 : (tensor<1x2x24x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %86 = tosa.add %arg0, %55 : (tensor<1x2x24x8xf32>, tensor<1x1x24x1xf32>) -> tensor<1x2x24x8xf32>
    %87 = tosa.add %86, %85 : (tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32>
    %88 = tosa.add %arg1, %73 : (tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32>
    %89 = tosa.mul %87, %27, %11 : (tensor<1x2x24x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %90 = tosa.reshape %17, %10 : (tensor<24xi64>, !tosa.shape<2>) -> tensor<1x24xi64>
    %91 = tosa.reshape %17, %18 : (tensor<24xi64>, !tosa.shape<2>) -> tensor<24x1xi64>
    %92 = tosa.cast %91 : (tensor<24x1xi64>) -> tensor<24x1xi32>
    %93 = tosa.cast %90 : (tensor<1x24xi64>) -> tensor<1x24xi32>
    %94 = tosa.sub %93, %92 : (tensor<1x24xi32>, tensor<24x1xi32>) -> tensor<24x24xi32>
    %95 = tosa.cast %94 : (tensor<24x24xi32>) -> tensor<24x24xi64>
    %96 = tosa.greater_equal %28, %95 : (tensor<1x1xi64>, tensor<24x24xi64>) -> tensor<24x24xi1>
    %97 = tosa.logical_and %96, %1 : (tensor<24x24xi1>, tensor<24x24xi1>) -> tensor<24x24xi1>
    %98 = tosa.select %97, %29, %30 : (tensor<24x24xi1>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<24x24xf32>
    %99 = tosa.transpose %88 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x2x24x8xf32>) -> tensor<1x2x8x24xf32>
    %100 = tosa.mul %99, %27, %11 : (tensor<1x2x8x24xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x8x24xf32>
    %101 = tosa.reshape %89, %13 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %102 = tosa.reshape %100, %19 : (tensor<1x2x8x24xf32>, !tosa.shape<3>) -> tensor<2x8x24xf32>
    %103 = tosa.matmul %101, %102, %14, %14 : (tensor<2x24x8xf32>, tensor<2x8x24xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x24x24xf32>
    %104 = tosa.reshape %103, %20 : (tensor<2x24x24xf32>, !tosa.shape<4>) -> tensor<1x2x24x24xf32>
    %105 = tosa.reshape %98, %21 : (tensor<24x24xf32>, !tosa.shape<4>) -> tensor<1x1x24x24xf32>
    %106 = tosa.add %104, %105 : (tensor<1x2x24x24xf32>, tensor<1x1x24x24xf32>) -> tensor<1x2x24x24xf32>
    %107 = tosa.reduce_max %106 {axis = 3 : i32} : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x1xf32>
    %108 = tosa.sub %106, %107 : (tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>) -> tensor<1x2x24x24xf32>
    %109 = tosa.exp %108 : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf32>
    %110 = tosa.reduce_sum %109 {axis = 3 : i32} : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x1xf32>
    %111 = tosa.reciprocal %110 : (tensor<1x2x24x1xf32>) -> tensor<1x2x24x1xf32>
    %112 = tosa.mul %109, %111, %11 : (tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>, tensor<1xi8>) -> tensor<1x2x24x24xf32>
    %113 = tosa.cast %106 : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf64>
    %114 = tosa.equal %113, %31 : (tensor<1x2x24x24xf64>, tensor<1x1x1x1xf64>) -> tensor<1x2x24x24xi1>
    %115 = tosa.reduce_all %114 {axis = 3 : i32} : (tensor<1x2x24x24xi1>) -> tensor<1x2x24x1xi1>
    %116 = tosa.select %115, %0, %112 : (tensor<1x2x24x1xi1>, tensor<1x2x24x24xf32>, tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf32>
    %117 = tosa.reshape %116, %22 : (tensor<1x2x24x24xf32>, !tosa.shape<3>) -> tensor<2x24x24xf32>
    %118 = tosa.reshape %arg2, %13 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %119 = tosa.matmul %117, %118, %14, %14 : (tensor<2x24x24xf32>, tensor<2x24x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x24x8xf32>
    %120 = tosa.reshape %119, %15 : (tensor<2x24x8xf32>, !tosa.shape<4>) -> tensor<1x2x24x8xf32>
    return %120 : tensor<1x2x24x8xf32>
  }
}
