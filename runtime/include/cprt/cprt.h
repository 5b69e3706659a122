/*===- cprt.h - C ABI of the cp runtime ---------------------------*- C -*-===*
 *
 * What compiled MLIR modules and launchers call. Every function returns a
 * cprt_status (0 = success); on failure cprt_last_error() returns a message
 * for the calling thread. No C++ exception ever crosses this boundary.
 *
 * Distributed functions act on the calling thread's *current rank context*
 * (communicator + rank + kernel backend), set by a launcher:
 * cprt_run_threads() (N ranks as threads of this process) or
 * cprt_init_mpi() (one rank per MPI process).
 *
 * Tensors are contiguous [B, H, S, D] of `dtype` elements; lse is fp32
 * [B, Hq, S]. Sequence lengths S are local (per rank) unless named global.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_CPRT_H
#define CPRT_CPRT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Enumerations are passed as int32_t (a C enum's size is implementation
 * defined, and C callers may pass any value: the runtime checks the range). */
typedef int32_t cprt_status;
enum {
  CPRT_OK = 0,
  CPRT_ERR_INVALID = 1,  /* bad argument / shape / unknown enum */
  CPRT_ERR_COMM = 2,     /* a peer failed or ranks disagree */
  CPRT_ERR_TIMEOUT = 3,  /* an operation did not complete in time */
  CPRT_ERR_INTERNAL = 4, /* anything else (bad_alloc, ...) */
};

typedef int32_t cprt_dtype;
enum { CPRT_F32 = 0, CPRT_BF16 = 1, CPRT_F16 = 2 };

/* Per-step causal behaviour (#cp.causal<...>). */
typedef int32_t cprt_step_causal;
enum {
  CPRT_SKIP = 0,
  CPRT_NOT_CAUSAL = 1,
  CPRT_CAUSAL = 2,
  CPRT_CAUSAL_STRICT = 3,
  CPRT_KV_HEAD_HALF = 4,
  CPRT_Q_TAIL_HALF = 5,
};

typedef int32_t cprt_rotate;
enum {
  CPRT_ROTATE_ALLGATHER = 0,
  CPRT_ROTATE_ALLTOALL = 1,
  CPRT_ROTATE_RING = 2,
};

typedef int32_t cprt_balancer;
enum {
  CPRT_BALANCE_NONE = 0,
  CPRT_BALANCE_HEAD_TAIL = 1,
  CPRT_BALANCE_STRIPED = 2,
  CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL = 3,
  CPRT_BALANCE_PTRR = 4,
};

/* Optional masking (pass NULL for none). Positions index doc_ids and the
 * masks: for local calls positions default to local indices; ring calls use
 * global (original) positions. Masks are [mask_b, mask_h, Sq, Skv]-shaped
 * through strides: element b*b_stride + h*h_stride + qpos*row_stride + kpos
 * (a stride of 0 broadcasts). */
typedef struct cprt_mask {
  const int64_t *q_pos;  /* local calls only; NULL = 0..Sq-1; <0 = padding */
  const int64_t *kv_pos; /* local calls only; NULL = 0..Skv-1 */
  int32_t causal;        /* by position: key k visible iff k <= q */
  int64_t window_left;   /* > 0: q - w < k <= q */
  const int32_t *doc_ids; int64_t doc_len;
  const uint8_t *bool_mask; /* nonzero = keep */
  const float *add_mask;    /* added to the scaled scores */
  int64_t b_stride, h_stride, row_stride;
} cprt_mask;

/* ---- errors ------------------------------------------------------------ */
const char *cprt_last_error(void);

/* ---- launchers and the current rank context ---------------------------- */
typedef int (*cprt_rank_fn)(int rank, int size, void *user);
/* Runs fn on nranks threads, each with its own rank context (thread
 * communicator + CPU backend with max(1, cores / nranks) OpenMP threads).
 * Returns the first failure: a non-zero return or error of any rank. A rank
 * that fails marks the group failed so the others stop promptly.
 * timeout_ms <= 0: CPRT_TIMEOUT_MS or 60000. */
cprt_status cprt_run_threads(int nranks, cprt_rank_fn fn, void *user,
                             int64_t timeout_ms);
/* Initialises MPI (if needed) and sets this thread's context to a rank of
 * MPI_COMM_WORLD. CPRT_ERR_INVALID if the runtime was built without MPI. */
cprt_status cprt_init_mpi(int *argc, char ***argv, int64_t timeout_ms);
cprt_status cprt_finalize_mpi(void);
/* Single-rank context on this thread (no communication). */
cprt_status cprt_init_local(void);
int cprt_rank(void);  /* -1 without a context */
int cprt_size(void);
int cprt_has_mpi(void);
cprt_status cprt_barrier(void);
/* Communicator timeout of the current context. */
cprt_status cprt_set_timeout_ms(int64_t timeout_ms);

/* ---- local kernels (no communication) ---------------------------------- */
/* out = softmax(q k^T scale + mask) v. scale 0 = 1/sqrt(D). lse may be NULL. */
cprt_status cprt_sdpa_fwd(cprt_dtype dtype, int64_t B, int64_t Hq, int64_t Hkv,
                          int64_t Sq, int64_t Skv, int64_t D, const void *q,
                          const void *k, const void *v, void *out, float *lse,
                          float scale, int32_t is_causal, const cprt_mask *mask);
/* dq, dk, dv from dout and the forward's out, lse. */
cprt_status cprt_sdpa_bwd(cprt_dtype dtype, int64_t B, int64_t Hq, int64_t Hkv,
                          int64_t Sq, int64_t Skv, int64_t D, const void *dout,
                          const void *q, const void *k, const void *v,
                          const void *out, const float *lse, void *dq, void *dk,
                          void *dv, float scale, int32_t is_causal,
                          const cprt_mask *mask);
/* One ring step's block: out_f32/lse partial results in fp32 for merging. */
cprt_status cprt_block_attention_fwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                     int64_t Hkv, int64_t Sq, int64_t Skv,
                                     int64_t D, const void *q, const void *k,
                                     const void *v, float *out_f32, float *lse,
                                     float scale, cprt_step_causal step,
                                     const cprt_mask *mask);
/* Backward of one block, adding into fp32 accumulators dq/dk/dv. */
cprt_status cprt_block_attention_bwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                     int64_t Hkv, int64_t Sq, int64_t Skv,
                                     int64_t D, const void *dout, const void *q,
                                     const void *k, const void *v,
                                     const void *out, const float *lse,
                                     float *dq_f32, float *dk_f32,
                                     float *dv_f32, float scale,
                                     cprt_step_causal step,
                                     const cprt_mask *mask);
/* out/lse (fp32, rows x D) <- merge(out/lse, out_b/lse_b). */
cprt_status cprt_merge_partial(float *out, float *lse, const float *out_b,
                               const float *lse_b, int64_t rows, int64_t D);

/* ---- distributed (current context) ------------------------------------- */
/* Balanced layout of a global sequence: local length L (padded) and, if
 * positions != NULL, this rank's L original positions (-1 = padding).
 * doc_ids ([S_global]) only for per-document balancing. */
cprt_status cprt_layout(cprt_balancer balancer, int64_t S_global,
                        const int32_t *doc_ids, int64_t *local_len,
                        int64_t *positions);
/* Ring attention on local shards ([B, H, L, D], L from cprt_layout). The
 * mask's q_pos/kv_pos/causal must be unset (use is_causal). */
cprt_status cprt_ring_attention_fwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                    int64_t Hkv, int64_t L, int64_t D,
                                    const void *q, const void *k, const void *v,
                                    void *out, float *lse, float scale,
                                    int32_t is_causal, cprt_rotate rotate,
                                    cprt_balancer balancer, int64_t S_global,
                                    const cprt_mask *mask);
cprt_status cprt_ring_attention_bwd(cprt_dtype dtype, int64_t B, int64_t Hq,
                                    int64_t Hkv, int64_t L, int64_t D,
                                    const void *dout, const void *q,
                                    const void *k, const void *v,
                                    const void *out, const float *lse,
                                    void *dq, void *dk, void *dv, float scale,
                                    int32_t is_causal, cprt_rotate rotate,
                                    cprt_balancer balancer, int64_t S_global,
                                    const cprt_mask *mask);
/* Shard: this rank's slice (shape[dim] -> L) of a global buffer whose
 * shape[dim] == S_global, permuted by the balancer; padding zeroed. */
cprt_status cprt_shard(const void *global, void *local, const int64_t *shape,
                       int32_t ndim, int32_t dim, int64_t elem_bytes,
                       cprt_balancer balancer, const int32_t *doc_ids);
/* Unshard: all-gathers the local slices and writes the global buffer in
 * original order (shape is the global shape; padding dropped). */
cprt_status cprt_unshard(const void *local, void *global, const int64_t *shape,
                         int32_t ndim, int32_t dim, int64_t elem_bytes,
                         cprt_balancer balancer, const int32_t *doc_ids);

#ifdef __cplusplus
}
#endif

#endif /* CPRT_CPRT_H */
