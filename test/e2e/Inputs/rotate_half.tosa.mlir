module {
  func.func @rotate_half(%arg0: tensor<1x2x24x8xf32>, %arg1: tensor<1x2x24x8xf32>, %arg2: tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32> {
    %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x2x24x24xf32>}> : () -> tensor<1x2x24x24xf32>
    %1 = "tosa.const"() <{values = dense<true> : tensor<24x24xi1>}> : () -> tensor<24x24xi1>
    %2 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
    %3 = tosa.const_shape  {values = dense<[1, 2, 24, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %4 = tosa.const_shape  {values = dense<0> : tensor<4xindex>} : () -> !tosa.shape<4>
    %5 = tosa.const_shape  {values = dense<[0, 0, 0, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %6 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
    %7 = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]> : tensor<24xi64>}> : () -> tensor<24xi64>
    %8 = tosa.const_shape  {values = dense<[1, 24]> : tensor<2xindex>} : () -> !tosa.shape<2>
    %9 = tosa.const_shape  {values = dense<[24, 1]> : tensor<2xindex>} : () -> !tosa.shape<2>
    %10 = tosa.const_shape  {values = dense<[2, 24, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %11 = tosa.const_shape  {values = dense<[2, 8, 24]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %12 = tosa.const_shape  {values = dense<[1, 2, 24, 24]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %13 = tosa.const_shape  {values = dense<[1, 1, 24, 24]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %14 = tosa.const_shape  {values = dense<[2, 24, 24]> : tensor<3xindex>} : () -> !tosa.shape<3>
    %15 = tosa.const_shape  {values = dense<[1, 2, 24, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
    %16 = "tosa.const"() <{values = dense_resource<torch_tensor_24_8_torch.float32> : tensor<1x1x24x8xf32>}> : () -> tensor<1x1x24x8xf32>
    %17 = "tosa.const"() <{values = dense_resource<torch_tensor_24_8_torch.float32_1> : tensor<1x1x24x8xf32>}> : () -> tensor<1x1x24x8xf32>
    %18 = "tosa.const"() <{values = dense<0.594603539> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
    %19 = "tosa.const"() <{values = dense<0> : tensor<1x1xi64>}> : () -> tensor<1x1xi64>
    %20 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
    %21 = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1xf32>}> : () -> tensor<1x1xf32>
    %22 = "tosa.const"() <{values = dense<0xFFF0000000000000> : tensor<1x1x1x1xf64>}> : () -> tensor<1x1x1x1xf64>
    %23 = tosa.mul %arg0, %16, %2 : (tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %24 = tosa.slice %arg0, %4, %3 : (tensor<1x2x24x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x24x4xf32>
    %25 = tosa.slice %arg0, %5, %3 : (tensor<1x2x24x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x24x4xf32>
    %26 = tosa.negate %25, %6, %6 : (tensor<1x2x24x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x24x4xf32>
    %27 = tosa.concat %26, %24 {axis = 3 : i32} : (tensor<1x2x24x4xf32>, tensor<1x2x24x4xf32>) -> tensor<1x2x24x8xf32>
    %28 = tosa.mul %27, %17, %2 : (tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %29 = tosa.add %23, %28 : (tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32>
    %30 = tosa.mul %arg1, %16, %2 : (tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %31 = tosa.slice %arg1, %4, %3 : (tensor<1x2x24x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x24x4xf32>
    %32 = tosa.slice %arg1, %5, %3 : (tensor<1x2x24x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x24x4xf32>
    %33 = tosa.negate %32, %6, %6 : (tensor<1x2x24x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x24x4xf32>
    %34 = tosa.concat %33, %31 {axis = 3 : i32} : (tensor<1x2x24x4xf32>, tensor<1x2x24x4xf32>) -> tensor<1x2x24x8xf32>
    %35 = tosa.mul %34, %17, %2 : (tensor<1x2x24x8xf32>, tensor<1x1x24x8xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %36 = tosa.add %30, %35 : (tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>) -> tensor<1x2x24x8xf32>
    %37 = tosa.mul %29, %18, %2 : (tensor<1x2x24x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x24x8xf32>
    %38 = tosa.reshape %7, %8 : (tensor<24xi64>, !tosa.shape<2>) -> tensor<1x24xi64>
    %39 = tosa.reshape %7, %9 : (tensor<24xi64>, !tosa.shape<2>) -> tensor<24x1xi64>
    %40 = tosa.cast %39 : (tensor<24x1xi64>) -> tensor<24x1xi32>
    %41 = tosa.cast %38 : (tensor<1x24xi64>) -> tensor<1x24xi32>
    %42 = tosa.sub %41, %40 : (tensor<1x24xi32>, tensor<24x1xi32>) -> tensor<24x24xi32>
    %43 = tosa.cast %42 : (tensor<24x24xi32>) -> tensor<24x24xi64>
    %44 = tosa.greater_equal %19, %43 : (tensor<1x1xi64>, tensor<24x24xi64>) -> tensor<24x24xi1>
    %45 = tosa.logical_and %44, %1 : (tensor<24x24xi1>, tensor<24x24xi1>) -> tensor<24x24xi1>
    %46 = tosa.select %45, %20, %21 : (tensor<24x24xi1>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<24x24xf32>
    %47 = tosa.transpose %36 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x2x24x8xf32>) -> tensor<1x2x8x24xf32>
    %48 = tosa.mul %47, %18, %2 : (tensor<1x2x8x24xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x8x24xf32>
    %49 = tosa.reshape %37, %10 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %50 = tosa.reshape %48, %11 : (tensor<1x2x8x24xf32>, !tosa.shape<3>) -> tensor<2x8x24xf32>
    %51 = tosa.matmul %49, %50, %6, %6 : (tensor<2x24x8xf32>, tensor<2x8x24xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x24x24xf32>
    %52 = tosa.reshape %51, %12 : (tensor<2x24x24xf32>, !tosa.shape<4>) -> tensor<1x2x24x24xf32>
    %53 = tosa.reshape %46, %13 : (tensor<24x24xf32>, !tosa.shape<4>) -> tensor<1x1x24x24xf32>
    %54 = tosa.add %52, %53 : (tensor<1x2x24x24xf32>, tensor<1x1x24x24xf32>) -> tensor<1x2x24x24xf32>
    %55 = tosa.reduce_max %54 {axis = 3 : i32} : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x1xf32>
    %56 = tosa.sub %54, %55 : (tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>) -> tensor<1x2x24x24xf32>
    %57 = tosa.exp %56 : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf32>
    %58 = tosa.reduce_sum %57 {axis = 3 : i32} : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x1xf32>
    %59 = tosa.reciprocal %58 : (tensor<1x2x24x1xf32>) -> tensor<1x2x24x1xf32>
    %60 = tosa.mul %57, %59, %2 : (tensor<1x2x24x24xf32>, tensor<1x2x24x1xf32>, tensor<1xi8>) -> tensor<1x2x24x24xf32>
    %61 = tosa.cast %54 : (tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf64>
    %62 = tosa.equal %61, %22 : (tensor<1x2x24x24xf64>, tensor<1x1x1x1xf64>) -> tensor<1x2x24x24xi1>
    %63 = tosa.reduce_all %62 {axis = 3 : i32} : (tensor<1x2x24x24xi1>) -> tensor<1x2x24x1xi1>
    %64 = tosa.select %63, %0, %60 : (tensor<1x2x24x1xi1>, tensor<1x2x24x24xf32>, tensor<1x2x24x24xf32>) -> tensor<1x2x24x24xf32>
    %65 = tosa.reshape %64, %14 : (tensor<1x2x24x24xf32>, !tosa.shape<3>) -> tensor<2x24x24xf32>
    %66 = tosa.reshape %arg2, %10 : (tensor<1x2x24x8xf32>, !tosa.shape<3>) -> tensor<2x24x8xf32>
    %67 = tosa.matmul %65, %66, %6, %6 : (tensor<2x24x24xf32>, tensor<2x24x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x24x8xf32>
    %68 = tosa.reshape %67, %15 : (tensor<2x24x8xf32>, !tosa.shape<4>) -> tensor<1x2x24x8xf32>
    return %68 : tensor<1x2x24x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_24_8_torch.float32: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F41510A3F98B87E3FB9FC7F3FF8FF7F3F41510A3F98B87E3FB9FC7F3FF8FF7F3F3311D5BEA5E57A3FE5F27F3FDFFF7F3F3311D5BEA5E57A3FE5F27F3FDFFF7F3F26707DBFEF90743F83E27F3FB5FF7F3F26707DBFEF90743F83E27F3FB5FF7F3F305527BFA7CA6B3F94CB7F3F7AFF7F3F305527BFA7CA6B3F94CB7F3F7AFF7F3F2C3C913E40A9603F19AE7F3F2EFF7F3F2C3C913E40A9603F19AE7F3F2EFF7F3FB8CD753F3249533F128A7F3FD2FE7F3FB8CD753F3249533F128A7F3FD2FE7F3FBDFF403FB3CC433F815F7F3F65FE7F3FBDFF403FB3CC433F815F7F3F65FE7F3FF6FD14BE5F5B323F652E7F3FE7FD7F3FF6FD14BE5F5B323F652E7F3FE7FD7F3FD53F69BFD4211F3FC2F67E3F59FD7F3FD53F69BFD4211F3FC2F67E3F59FD7F3F64CD56BF41510A3F98B87E3FB9FC7F3F64CD56BF41510A3F98B87E3FB9FC7F3F7205913BC03DE83EE8737E3F09FC7F3F7205913BC03DE83EE8737E3F09FC7F3FD006583FF386B93EB5287E3F48FB7F3FD006583FF386B93EB5287E3F48FB7F3F6F4E683F99F5883E00D77D3F76FA7F3F6F4E683F99F5883E00D77D3F76FA7F3FD7040C3EDF0B2E3ECC7E7D3F94F97F3FD7040C3EDF0B2E3ECC7E7D3F94F97F3FE87A42BFAADE903D1A207D3FA1F87F3FE87A42BFAADE903D1A207D3FA1F87F3F2C2975BFE333EFBCEDBA7C3F9DF77F3F2C2975BFE333EFBCEDBA7C3F9DF77F3F36E28CBED3EF03BE494F7C3F88F67F3F36E28CBED3EF03BE494F7C3F88F67F3F840A293FAFA768BE2EDD7B3F62F57F3F840A293FAFA768BE2EDD7B3F62F57F3FBF1B7D3F3586A5BEA1647B3F2CF47F3FBF1B7D3F3586A5BEA1647B3F2CF47F3F22F0D03E3311D5BEA5E57A3FE5F27F3F22F0D03E3311D5BEA5E57A3FE5F27F3FFC370CBF9A3D01BF3C607A3F8DF17F3FFC370CBF9A3D01BF3C607A3F8DF17F3F6FFD7FBF03A816BF6AD4793F24F07F3F6FFD7FBF03A816BF6AD4793F24F07F3FBF6708BF10912ABF3442793FABEE7F3FBF6708BF10912ABF3442793FABEE7F3F",
      torch_tensor_24_8_torch.float32_1: "0x040000000000000000000000000000000000000000000000000000000000000000000000A46A573F7775CC3D57D6233C6E12833AA46A573F7775CC3D57D6233C6E12833AB7C7683FF96F4B3E3ED4A33C6912033BB7C7683FF96F4B3E3ED4A33C6912033BC381103E6D4E973E1FB9F53C939B443BC381103E6D4E973E1FB9F53C939B443BCFBD41BFD861C73EDBCB233D5812833BCFBD41BFD861C73EDBCB233D5812833B107C75BF4477F53EF4B64C3DDED6A33B107C75BF4477F53EF4B64C3DDED6A33B8C0F8FBE698C103FD19C753D599BC43B8C0F8FBE698C103FD19C753D599BC43B4630283F73EB243F323E8F3DC75FE53B4630283F73EB243F323E8F3DC75FE53B95467D3FA6A4373F50AAA33D1312033C95467D3FA6A4373F50AAA33D1312033C3201D33E1D88483F3E12B83D3B74133C3201D33E1D88483F3E12B83D3B74133CF8440BBFA46A573F7675CC3D58D6233CF8440BBFA46A573F7675CC3D58D6233C5CFF7FBF2B26643F72D3E03D6B38343C5CFF7FBF2B26643F72D3E03D6B38343CD85C09BF1D9A6E3FAC2BF53D719A443CD85C09BF1D9A6E3FAC2BF53D719A443C2220D73EC0AB763FD0BE043E6BFC543C2220D73EC0AB763FD0BE043E6BFC543C72987D3F6F467C3F64E40E3E575E653C72987D3F6F467C3F64E40E3E575E653C4479263FD55B7F3F4F06193E34C0753C4479263FD55B7F3F4F06193E34C0753C106893BE0EE47F3F5024233E0111833C106893BE0EE47F3F5024233E0111833C251E76BFBFDD7D3F233E2D3EDE418B3C251E76BFBFDD7D3F233E2D3EDE418B3CB34040BF144E793F8753373EB372933CB34040BF144E793F8753373EB372933C6979193EB940723F3A64413E7EA39B3C6979193EB940723F3A64413E7EA39B3CC8B6693FB7C7683FF86F4B3E3FD4A33CC8B6693FB7C7683FF86F4B3E3FD4A33C102F563F49FB5C3F8376553EF504AC3C102F563F49FB5C3F8376553EF504AC3C150511BC9EF94E3F96775F3EA035B43C150511BC9EF94E3F96775F3EA035B43CE6A158BF8AE63E3FF072693E3F66BC3CE6A158BF8AE63E3FF072693E3F66BC3C"
    }
  }
#-}
