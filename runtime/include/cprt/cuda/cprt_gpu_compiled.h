/*===- cprt_gpu_compiled.h - Running modules compiled for the GPU -*- C -*-===*
 *
 * What code compiled with `cp-lower-to-llvm{target=cuda}` needs, and what a
 * host that runs it calls. The compiled code calls
 *
 *  - the `mgpu*` entry points of MLIR's gpu-to-llvm lowering (module load,
 *    kernel launch, stream, event, device memory), provided here over the
 *    CUDA driver / runtime API (Debian's MLIR ships no mlir_cuda_runtime);
 *  - `cprt_gpu_<op>_<type>`: the entry points of cprt_compiler.h with the
 *    same signatures but device pointers (ring, per-document ring, hybrid
 *    and single-device attention, forward and backward, with masks and document ids; shard / unshard,
 *    Ulysses' seq_to_heads / heads_to_seq, all-gather and all-reduce over
 *    the rank's communicator);
 *  - `cprt_gpu_gemm_<in>_<out>(A, B, C, flags)`: C += op(A)·op(B) with
 *    cuBLAS (rank 2 or 3, row-major with unit inner stride; flags bit 0: A
 *    is stored [K, M], bit 1: B is stored [N, K]); in/out f32/f32,
 *    bf16/bf16, f16/f16, bf16/f32, f16/f32; fp32 accumulation.
 *
 * Everything runs on the calling thread's rank stream; the compiled
 * function returns without waiting: synchronise the stream (or call
 * cprt_gpu_synchronize) before reading results. Errors are sticky per
 * thread (cprt_gpu_failed / cprt_gpu_error); after the first one, later
 * launches and calls of that thread are skipped.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_CUDA_CPRT_GPU_COMPILED_H
#define CPRT_CUDA_CPRT_GPU_COMPILED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called once per rank, on the rank's own thread, with its context set. */
typedef void (*cprt_gpu_rank_fn)(int rank, int world, void *stream,
                                 void *user);

/* `world` virtual ranks on the current GPU (threads; device-to-device copies
 * as transport). Each rank gets a CudaBackend on its own stream and a rank
 * context, so compiled code's cprt_gpu_* / mgpu* calls use them. Returns 0,
 * or a cprt_status with the first rank's error in cprt_gpu_error(). */
int cprt_gpu_run_virtual_ranks(int world, cprt_gpu_rank_fn fn, void *user,
                               int64_t timeout_ms);
/* This process as rank `rank` of `world` over NCCL (one process per GPU, on
 * device `device`, -1: rank mod device count); the NCCL id goes through
 * `id_file` (rank 0 writes it; a new path per job). */
int cprt_gpu_run_nccl_rank(int rank, int world, int device,
                           const char *id_file, cprt_gpu_rank_fn fn,
                           void *user, int64_t timeout_ms);

/* The calling thread's sticky error (compiled code, mgpu*, cprt_gpu_*). */
int32_t cprt_gpu_failed(void);
const char *cprt_gpu_error(void);
void cprt_gpu_clear_error(void);
/* Waits for the calling rank's stream; 0 or a cprt_status (error recorded). */
int cprt_gpu_synchronize(void);
/* Launches / runtime calls / device bytes allocated (current, peak) by the
 * calling thread's compiled code since the rank started. */
void cprt_gpu_stats(int64_t *launches, int64_t *calls, int64_t *bytes_now,
                    int64_t *bytes_peak);

#ifdef __cplusplus
}
#endif

#endif
