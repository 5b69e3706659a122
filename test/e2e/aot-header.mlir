// cp-run --emit-header/--emit-object: the C header describes the entry's
// C interface and how each tensor is sharded.
// RUN: %cp-run %S/../../examples/aot/causal_attention.mlir --entry causal_attention --ranks 4 --pipeline "rotate=ring load-balance=head_tail" --emit-object %t.o --emit-header %t.h --quiet
// RUN: FileCheck %s < %t.h
// RUN: test -s %t.o

// CHECK: #define CAUSAL_ATTENTION_NUM_INPUTS 3
// CHECK: #define CAUSAL_ATTENTION_NUM_OUTPUTS 1
// CHECK: #define CAUSAL_ATTENTION_GRID_SIZE 4
// CHECK: causal_attention_inputs[3] = {
// CHECK-NEXT: {"f32", 4, 4, {1, 4, 64, 32}, {1, 4, 256, 32}, 2, 1, 256}, /* argument #0: tensor<1x4x64x32xf32>, sharded, head_tail */
// CHECK: causal_attention_outputs[1] = {
// CHECK-NEXT: {"f32", 4, 4, {1, 4, 64, 32}, {1, 4, 256, 32}, 2, 1, 256}, /* result #0:
// CHECK: void _mlir_ciface_causal_attention(cp_memref_4d *in0, cp_memref_4d *in1, cp_memref_4d *in2, cp_memref_4d *out0);
