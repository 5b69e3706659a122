/*===- cprt_cuda_harness.h - test and benchmark harnesses of libcprt_cuda -===*
 *
 * Not installed: what the GPU tests and benchmarks (runtime/test/gpu,
 * bench/gpu, through the ctypes binding runtime/test/gpu/cprt_cuda.py) and
 * the offload (CudaOffload.cpp) call besides the public C ABI of
 * cprt/cuda/cprt_cuda.h. The library exports these symbols; conventions as
 * in cprt_cuda.h (0 on success, else a cprt_status; cprt_cuda_last_error()).
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_SRC_CUDA_CPRT_CUDA_HARNESS_H
#define CPRT_SRC_CUDA_CPRT_CUDA_HARNESS_H

#include "cprt/cuda/cprt_cuda.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flash forward kernels: writes how many flash forwards this process ran
 * with the Hopper (sm_90a) kernel and with the mma.sync kernels (either
 * pointer may be null); returns 1 when the Hopper kernel is built and not
 * forced off (CPRT_HOPPER_FWD=0), else 0 (docs/hopper.md). */
int cprt_cuda_forward_kernel_counts(int64_t *hopper, int64_t *mma);

/* Ring attention over global tensors [B,H,S,D] (device, contiguous): shards
 * them with the balancer, runs `world` ranks and unshards the results. */
typedef struct cprt_cuda_ring {
  int32_t world;
  int32_t transport; /* 0 virtual ranks on this GPU, 1 NCCL (world 1, or one rank
                        per process: see rank / nccl_id_file below),
                        2 the CPU oracle (CpuBackend + thread ranks, host copies) */
  int32_t balancer;  /* cprt::Balancer */
  int32_t rotate;    /* cprt::RotateMethod */
  int32_t causal;
  int32_t backward;  /* also run the backward (needs dout, dq, dk, dv) */
  float scale;
  int64_t window_left;
  const int32_t *doc_ids_host; /* [S] host, or null */
  int64_t batch, heads_q, heads_kv, seq, head_dim;
  int32_t dtype;
  const void *q, *k, *v;
  void *out;
  float *lse;
  const void *dout;
  void *dq, *dk, *dv;
  const uint8_t *bool_mask;
  const float *add_mask;
  int64_t mask_b_stride, mask_h_stride, mask_row_stride;
  int32_t iters;          /* timed repetitions (0 = 1, untimed) */
  float *ms_per_iter_host;/* out: mean wall ms per iteration (forward[+backward]) */
  int32_t steps_computed, steps_skipped, comm_ops; /* out: rank 0's stats */
  int32_t backend; /* as in cprt_cuda_attn: 0 flash, 1 cuDNN, 2 auto, -1 default */
  /* NCCL with world > 1 (transport 1): this process is rank `rank` of `world`
   * (one process per GPU, on its current CUDA device). Rank 0 writes a fresh
   * NCCL unique id to nccl_id_file, the others wait for it (use a new path per
   * call; rank 0 removes it once every rank joined). Every rank passes the
   * full global q/k/v/dout (the same data), shards its own part, and gets the
   * full results: the shards are all-gathered over NCCL and unsharded. Timing
   * is synchronised by barriers; ms_per_iter_host and the stats are this rank's.
   * A null nccl_id_file keeps the single-rank behaviour (world must be 1). */
  int32_t rank;
  const char *nccl_id_file;
  int64_t timeout_ms; /* communicator operations (0: CPRT_TIMEOUT_MS, else 60 s);
                         the id rendezvous and NCCL init always use the default */
  /* > 1: the hybrid 2-D strategy (cprt/Hybrid.h) with Ulysses groups of this
   * many consecutive ranks and a ring of world / ulysses_size groups over the
   * same balancer; ulysses_size == world is Ulysses alone. 0 or 1: the ring.
   * Must divide world; explicit masks and document ids are not supported. */
  int32_t ulysses_size;
} cprt_cuda_ring;

int cprt_cuda_ring_run(cprt_cuda_ring *r);

/* Checks every collective of a communicator against known data (transport
 * 0: virtual ranks, 1: NCCL with world 1). silent_rank >= 0 makes that rank
 * skip everything: the others must fail within timeout_ms, not hang. */
int cprt_cuda_comm_test(int32_t transport, int32_t world, int32_t silent_rank,
                        int64_t timeout_ms);
/* The same self-test as one rank of a multi-process NCCL job (transport 1,
 * one process per GPU, this process's current device; the id rendezvous as in
 * cprt_cuda_ring, nccl_id_file a new path per call). The rendezvous and NCCL
 * init use the default timeout (CPRT_TIMEOUT_MS, else 60 s), the collectives
 * timeout_ms. The silent rank joins the communicator, skips every collective,
 * sleeps timeout_ms + 1 s and then calls a barrier: the others fail within
 * timeout_ms with an error naming the operation (communicator aborted), and
 * the silent rank's late barrier fails too, so every rank returns an error.
 * transport 0 / null nccl_id_file: as cprt_cuda_comm_test (rank ignored). */
int cprt_cuda_comm_test_rank(int32_t transport, int32_t world, int32_t rank,
                             const char *nccl_id_file, int32_t silent_rank,
                             int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* CPRT_SRC_CUDA_CPRT_CUDA_HARNESS_H */
