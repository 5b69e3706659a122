// RUN: cp-opt %s --split-input-file --cp-lower-to-runtime | FileCheck %s
// RUN: cp-opt %s --split-input-file --cp-lower-to-llvm | FileCheck %s --check-prefix=LLVM

// The patterns lower cp ops wherever they are nested: a ring schedule as an
// scf.for over steps, with the shift, the step's block attention in the arms
// of an scf.if / scf.index_switch and the merge inside the loop body. The
// loop structure stays; the calls take its place inside.

shard.grid @grid(shape = 4)

// CHECK-LABEL: func.func @ring_loop
// CHECK: call @cprt_c_rank()
// CHECK: call @cprt_c_block_fwd_f32(
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(
// CHECK:   %[[SEND:.+]] = memref.alloc() : memref<1x2x4x8xf32>
// CHECK:   memref.copy %{{.+}}, %[[SEND]]
// CHECK:   %[[H:.+]] = func.call @cprt_c_shift_start_f32(
// CHECK:   func.call @cprt_c_shift_start_f32(
// CHECK:   func.call @cprt_c_shift_wait_f32(%[[H]],
// CHECK:   func.call @cprt_c_shift_wait_f32(
// CHECK:   scf.if %{{.+}} -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) {
// CHECK:     func.call @cprt_c_block_fwd_f32(
// CHECK:     scf.yield
// CHECK:   } else {
// CHECK:     func.call @cprt_c_block_fwd_f32(
// CHECK:     scf.yield
// CHECK:   }
// CHECK:   func.call @cprt_c_merge_f32(
// CHECK:   scf.yield
// CHECK: }
// CHECK-NOT: cp.
// CHECK-DAG: func.func private @cprt_c_shift_start_f32(memref<*xf32>, memref<*xf32>, i64, i64) -> i64
// CHECK-DAG: func.func private @cprt_c_merge_f32(
// LLVM-LABEL: llvm.func @ring_loop
// LLVM: llvm.call @cprt_c_shift_start_f32
// LLVM: llvm.call @cprt_c_block_fwd_f32
// LLVM: llvm.call @cprt_c_merge_f32
func.func @ring_loop(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = shard.process_linear_index on @grid : index
  %o0, %l0 = cp.block_attention %q, %k, %v {causal = #cp.causal<causal>} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
  %res:4 = scf.for %i = %c1 to %c4 step %c1 iter_args(%kk = %k, %vv = %v, %o = %o0, %l = %l0) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) {
    %t = cp.shift_start %kk, %vv on @grid offset = 1 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
    %k1, %v1 = cp.shift_wait %t : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
    %le = arith.cmpi ule, %i, %r : index
    %ob, %lb = scf.if %le -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) {
      %a, %b = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<kv_head_half>} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      scf.yield %a, %b : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
    } else {
      %a, %b = cp.block_attention %q, %k1, %v1 {causal = #cp.causal<q_tail_half>} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
      scf.yield %a, %b : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
    }
    %m, %ml = cp.merge_partial %o, %l, %ob, %lb : (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>)
    scf.yield %k1, %v1, %m, %ml : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  }
  return %res#2, %res#3 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
}

// -----

shard.grid @grid(shape = 2)

// The step's behaviour chosen by an scf.index_switch between the shift's
// start and its wait (the compute overlaps the transfer).
// CHECK-LABEL: func.func @switch_steps
// CHECK: scf.for
// CHECK:   %[[H:.+]] = func.call @cprt_c_shift_start_bf16(
// CHECK:   scf.index_switch %{{.+}} -> tensor<1x1x4x8xf32>
// CHECK:   case 0 {
// CHECK:     func.call @cprt_c_block_fwd_bf16(
// CHECK:   default {
// CHECK:     func.call @cprt_c_block_fwd_bf16(
// CHECK:   func.call @cprt_c_shift_wait_bf16(%[[H]],
// CHECK:   func.call @cprt_c_merge_f32(
// CHECK-NOT: cp.
func.func @switch_steps(%q: tensor<1x1x4x8xbf16>, %k: tensor<1x1x4x8xbf16>, %o0: tensor<1x1x4x8xf32>, %l0: tensor<1x1x4xf32>, %n: index) -> tensor<1x1x4x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %res:3 = scf.for %i = %c0 to %n step %c1 iter_args(%kk = %k, %o = %o0, %l = %l0) -> (tensor<1x1x4x8xbf16>, tensor<1x1x4x8xf32>, tensor<1x1x4xf32>) {
    %t = cp.shift_start %kk on @grid offset = 1 : tensor<1x1x4x8xbf16>
    %ob, %lb = scf.index_switch %i -> tensor<1x1x4x8xf32>, tensor<1x1x4xf32>
    case 0 {
      %a, %b = cp.block_attention %q, %kk, %kk {causal = #cp.causal<causal>} : (tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>) -> (tensor<1x1x4x8xf32>, tensor<1x1x4xf32>)
      scf.yield %a, %b : tensor<1x1x4x8xf32>, tensor<1x1x4xf32>
    }
    default {
      %a, %b = cp.block_attention %q, %kk, %kk {causal = #cp.causal<not_causal>} : (tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>) -> (tensor<1x1x4x8xf32>, tensor<1x1x4xf32>)
      scf.yield %a, %b : tensor<1x1x4x8xf32>, tensor<1x1x4xf32>
    }
    %k1 = cp.shift_wait %t : tensor<1x1x4x8xbf16>
    %m, %ml = cp.merge_partial %o, %l, %ob, %lb : (tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x4x8xf32>, tensor<1x1x4xf32>)
    scf.yield %k1, %m, %ml : tensor<1x1x4x8xbf16>, tensor<1x1x4x8xf32>, tensor<1x1x4xf32>
  }
  return %res#1 : tensor<1x1x4x8xf32>
}

// -----

shard.grid @grid(shape = 2)

// A wait in a nested region (scf.execute_region) still finds its start.
// CHECK-LABEL: func.func @wait_nested
// CHECK: %[[H:.+]] = call @cprt_c_shift_start_i64(
// CHECK: scf.execute_region
// CHECK:   func.call @cprt_c_shift_wait_i64(%[[H]],
func.func @wait_nested(%x: tensor<8xi64>) -> tensor<8xi64> {
  %t = cp.shift_start %x on @grid offset = 1 : tensor<8xi64>
  %r = scf.execute_region -> tensor<8xi64> {
    %y = cp.shift_wait %t : tensor<8xi64>
    scf.yield %y : tensor<8xi64>
  }
  return %r : tensor<8xi64>
}
