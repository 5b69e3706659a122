/*===- cprt_cuda.h - C ABI of the CUDA runtime pieces ---------------------===*
 *
 * For tests, benchmarks and foreign callers (Python ctypes, torch tensors'
 * data_ptr()): every pointer is a device pointer unless its name says host.
 * Functions return 0 on success, else a cprt_status value; the message is
 * in cprt_cuda_last_error() (thread-local). No exception crosses this ABI.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_CUDA_CPRT_CUDA_H
#define CPRT_CUDA_CPRT_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One block attention (contiguous or strided [B,H,S,D] views). */
typedef struct cprt_cuda_attn {
  int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
  int32_t dtype;      /* q/k/v/dout: 1 bf16, 2 fp16 */
  int32_t out_dtype;  /* 0 fp32 or = dtype */
  int32_t grad_dtype; /* dq/dk/dv: 0 fp32 or = dtype */
  int32_t step_causal;/* cprt::StepCausal */
  float scale;        /* 0: 1/sqrt(D) */
  void *q, *k, *v, *out;
  float *lse;
  void *dout, *dq, *dk, *dv;
  /* element strides (b, h, s); all zero = contiguous */
  int64_t q_stride[3], k_stride[3], v_stride[3], out_stride[3];
  /* mask (MaskSpec; device pointers) */
  const int64_t *q_pos, *kv_pos;
  int32_t causal;
  int64_t window_left;
  const int32_t *doc_ids;
  int64_t doc_len;
  const uint8_t *bool_mask;
  const float *add_mask;
  int64_t mask_b_stride, mask_h_stride, mask_row_stride;
  void *stream; /* cudaStream_t; 0 = legacy default stream */
  int32_t backend; /* 0 flash kernels, 1 cuDNN (flash fallback), 2 auto (faster
                      of the two, measured per problem), -1 the default */
  int32_t accumulate; /* forward: merge into the fp32 partial (out, lse)
                         (ForwardArgs::accumulate); out_dtype must be 0 */
} cprt_cuda_attn;

/* The backend -1 stands for: 2 (auto) when the library was built with the
 * cuDNN backend, else 0 (flash kernels). */
int cprt_cuda_default_backend(void);
/* Flash forward kernels: writes how many flash forwards this process ran
 * with the Hopper (sm_90a) kernel and with the mma.sync kernels (either
 * pointer may be null); returns 1 when the Hopper kernel is built and not
 * forced off (CPRT_HOPPER_FWD=0), else 0 (docs/hopper.md). */
int cprt_cuda_forward_kernel_counts(int64_t *hopper, int64_t *mma);

int cprt_cuda_attention_forward(const cprt_cuda_attn *a);
/* Uses out and lse of the forward; writes dq, dk, dv (grad_dtype). */
int cprt_cuda_attention_backward(const cprt_cuda_attn *a);
int cprt_cuda_merge(float *out, float *lse, const float *out_b, const float *lse_b, int64_t rows,
                    int64_t d, void *stream);
int cprt_cuda_gather_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                          int64_t seq_src, int64_t seq_dst, int64_t inner_bytes, void *stream);
int cprt_cuda_scatter_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                           int64_t seq_src, int64_t seq_dst, int64_t inner_bytes, void *stream);

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

/* Compiled code's whole-sequence attention on this GPU: register
 * cprt_cuda_offload_sdpa with cprt_c_set_sdpa_offload (cprt_compiler.h) and
 * cp.sdpa lowered to cprt_c_sdpa_fwd_* runs as ring attention over `world`
 * virtual ranks of this GPU (configure: balancer / rotate as cprt_balancer /
 * cprt_rotate, backend as in cprt_cuda_attn; the default -1 is the runtime's
 * default backend). Host buffers are copied
 * in and out per call; bf16/f16 self-attention only. */
int cprt_cuda_configure_offload(int32_t world, int32_t balancer,
                                int32_t rotate, int32_t backend);
int32_t cprt_cuda_offload_sdpa(int32_t dtype, int64_t B, int64_t Hq,
                               int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D,
                               const void *q, const void *k, const void *v,
                               void *out, float *lse, float scale,
                               int32_t causal, void *user);

const char *cprt_cuda_last_error(void);
int cprt_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif
