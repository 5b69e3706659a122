// REQUIRES: ptxas
// cp-run --backend cuda compiles ahead of time: an object with the host code
// (calls of the runtime's mgpu* / cprt_gpu_* entry points) and the kernels
// embedded as an sm_90 fatbin, and the header the launcher is generated
// from (runtime/src/cuda/launcher; docs/gpu.md).

// RUN: %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --ranks 2 --pipeline "rotate=ring load-balance=head_tail expand=false" --backend cuda --emit-object %t.o --emit-header %t.h --quiet
// RUN: FileCheck %s --check-prefix=HDR < %t.h
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=SYMS
// HDR: #define LLAMA_BLOCK_F32_GRID_SIZE 2
// HDR: {"f32", 4, 3, {1, 32, 64}, {1, 64, 64}, 1, 1, 64}
// HDR: void _mlir_ciface_llama_block_f32(cp_memref_3d *in0, cp_memref_3d *out0);
// SYMS-DAG: T _mlir_ciface_llama_block_f32
// SYMS-DAG: U cprt_gpu_ring_fwd_f32
// SYMS-DAG: U cprt_gpu_gemm_f32_f32
// SYMS-DAG: U cprt_gpu_shard_i64
// SYMS-DAG: U mgpuLaunchKernel
// SYMS-DAG: U mgpuModuleLoad
// SYMS-DAG: U mgpuMemAlloc
// SYMS-NOT: U malloc

// A bad --gpu-lowering is a usage error.
// RUN: not %cp-run %fixtures/Inputs/llama_block_f32.linalg.mlir --entry llama_block_f32 --backend cuda --gpu-lowering "chip" --emit-object %t2.o 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: error: cannot parse --gpu-lowering 'chip'
