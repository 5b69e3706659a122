// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=4" | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-context-parallel="grid-size=3 load-balance=striped pad=true" | FileCheck %s --check-prefix=PAD

// TOSA data movement that leaves the sequence whole commutes with the
// split: rotate_half slices the head dim (as torch-mlir's TOSA export of
// Llama's RoPE does), and the slice sizes become local.

// CHECK-LABEL: func.func @rotate_half
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x16x8xf32> {cp.sharding = #cp.sharding<{{.+}}>})
// CHECK-DAG: %[[LO:.+]] = tosa.const_shape {values = dense<0> : tensor<4xindex>}
// CHECK-DAG: %[[HI:.+]] = tosa.const_shape {values = dense<[0, 0, 0, 4]> : tensor<4xindex>}
// CHECK-DAG: %[[SZ1:.+]] = tosa.const_shape {values = dense<[1, 2, 16, 4]> : tensor<4xindex>}
// CHECK: %[[X1:.+]] = tosa.slice %[[Q]], %[[LO]], %[[SZ1]] : (tensor<1x2x16x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x16x4xf32>
// CHECK: %[[SZ2:.+]] = tosa.const_shape {values = dense<[1, 2, 16, 4]> : tensor<4xindex>}
// CHECK: %[[X2:.+]] = tosa.slice %[[Q]], %[[HI]], %[[SZ2]] : (tensor<1x2x16x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x16x4xf32>
// CHECK: %[[N:.+]] = tosa.negate %[[X2]], %{{.+}}, %{{.+}} : (tensor<1x2x16x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x16x4xf32>
// CHECK: %[[R:.+]] = tosa.concat %[[N]], %[[X1]] {axis = 3 : i32} : (tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x8xf32>
// CHECK: cp.ring_attention %[[R]], %[[Q]], %[[Q]]

// PAD-LABEL: func.func @rotate_half
// PAD: tosa.slice %{{.+}} : (tensor<1x2x22x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x22x4xf32>
func.func @rotate_half(%q: tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32> {
  %lo = tosa.const_shape {values = dense<0> : tensor<4xindex>} : () -> !tosa.shape<4>
  %hi = tosa.const_shape {values = dense<[0, 0, 0, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %sz = tosa.const_shape {values = dense<[1, 2, 64, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %zp = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %x1 = tosa.slice %q, %lo, %sz : (tensor<1x2x64x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x64x4xf32>
  %x2 = tosa.slice %q, %hi, %sz : (tensor<1x2x64x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x64x4xf32>
  %n = tosa.negate %x2, %zp, %zp : (tensor<1x2x64x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x64x4xf32>
  %r = tosa.concat %n, %x1 {axis = 3 : i32} : (tensor<1x2x64x4xf32>, tensor<1x2x64x4xf32>) -> tensor<1x2x64x8xf32>
  %o = cp.sdpa %r, %q, %q {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}

// -----

// GPT-2's fused QKV split: slices of the last dim of [1, 64, 3 * 16], and
// tosa.identity / tosa.reverse (of the head dim) / tosa.pad (of the model
// dim) on the way.
// CHECK-LABEL: func.func @qkv_split
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x16x48xf32> {cp.sharding = #cp.sharding<{{.+}}>})
// CHECK: %[[I:.+]] = tosa.identity %[[X]] : (tensor<1x16x48xf32>) -> tensor<1x16x48xf32>
// CHECK: %[[P:.+]] = tosa.pad %[[I]], %{{.+}}, %{{.+}} : (tensor<1x16x48xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<1x16x50xf32>
// CHECK: %[[SZ:.+]] = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>}
// CHECK: tosa.slice %[[P]], %{{.+}}, %[[SZ]] : (tensor<1x16x50xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x16x16xf32>
// CHECK: tosa.reverse %{{.+}} {axis = 3 : i32} : (tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
func.func @qkv_split(%x: tensor<1x64x48xf32>) -> tensor<1x2x64x8xf32> {
  %pads = tosa.const_shape {values = dense<[0, 0, 0, 0, 1, 1]> : tensor<6xindex>} : () -> !tosa.shape<6>
  %pv = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %start = tosa.const_shape {values = dense<[0, 0, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %size = tosa.const_shape {values = dense<[1, 64, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %shape = tosa.const_shape {values = dense<[1, 64, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %i = tosa.identity %x : (tensor<1x64x48xf32>) -> tensor<1x64x48xf32>
  %p = tosa.pad %i, %pads, %pv : (tensor<1x64x48xf32>, !tosa.shape<6>, tensor<1xf32>) -> tensor<1x64x50xf32>
  %q = tosa.slice %p, %start, %size : (tensor<1x64x50xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x64x16xf32>
  %q4 = tosa.reshape %q, %shape : (tensor<1x64x16xf32>, !tosa.shape<4>) -> tensor<1x64x2x8xf32>
  %qt = tosa.transpose %q4 {perms = array<i32: 0, 2, 1, 3>} : (tensor<1x64x2x8xf32>) -> tensor<1x2x64x8xf32>
  %qr = tosa.reverse %qt {axis = 3 : i32} : (tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  %o = cp.sdpa %qr, %qt, %qt {is_causal} : (tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) -> tensor<1x2x64x8xf32>
  return %o : tensor<1x2x64x8xf32>
}
