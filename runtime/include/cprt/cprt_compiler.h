/*===- cprt_compiler.h - Runtime entry points for compiled code ---*- C -*-===*
 *
 * What `--cp-lower-to-runtime` emits calls to. Every tensor crosses as an
 * MLIR *unranked memref*: two arguments (int64_t rank, const cprt_memref *),
 * the ranked descriptor {allocated, aligned, offset, sizes[rank],
 * strides[rank]}. Buffers must be contiguous (identity layout); a
 * non-contiguous buffer is an error.
 *
 * Names carry the element type of their main tensors as a suffix (MLIR gives
 * one symbol one type): attention entry points `_f32`, `_bf16`, `_f16` (the
 * query's type; masks are f32 additive, positions i64, segment ids i32, LSE
 * and partial outputs f32); data-movement entry points also `_f64`, `_i1`,
 * `_i8`, `_i32`, `_i64`.
 *
 * Errors are sticky per thread: the first failing call records its message
 * (with the rank) and marks the rank's communicator failed so peers stop
 * promptly; later calls on that thread return at once. The runner checks
 * cprt_c_failed() after the entry function returns.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_CPRT_COMPILER_H
#define CPRT_CPRT_COMPILER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ranked memref descriptor (sizes and strides follow `offset`). */
typedef struct cprt_memref {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes_and_strides[];
} cprt_memref;

#define CPRT_MR int64_t, const cprt_memref *

/* Flags of the attention entry points. */
enum {
  CPRT_C_CAUSAL = 1,
  CPRT_C_HAS_MASK = 2,
  CPRT_C_HAS_LSE = 4,
  CPRT_C_HAS_SEGMENTS = 8,
  CPRT_C_HAS_POSITIONS = 16,
  CPRT_C_GQA = 32,
};

/* Offload of whole-sequence attention (single-device cp.sdpa) to a device:
 * a host that runs compiled code with a GPU registers a function, and
 * cprt_c_sdpa_fwd_* calls it (for unmasked attention) instead of the CPU
 * kernel. Pointers are host memory; returns a cprt_status. Pass NULL to
 * unregister. See runtime/include/cprt/cuda/cprt_cuda.h. */
typedef int32_t (*cprt_c_sdpa_offload_fn)(
    int32_t dtype, int64_t B, int64_t Hq, int64_t Hkv, int64_t Sq, int64_t Skv,
    int64_t D, const void *q, const void *k, const void *v, void *out,
    float *lse, float scale, int32_t causal, void *user);
void cprt_c_set_sdpa_offload(cprt_c_sdpa_offload_fn fn, void *user);

int32_t cprt_c_failed(void);
const char *cprt_c_error(void);
void cprt_c_clear_error(void);
/* This thread's rank (0 without a context). */
int64_t cprt_c_rank(void);

#define CPRT_C_ATTENTION_DECLS(T)                                              \
  void cprt_c_sdpa_fwd_##T(CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/,         \
                           CPRT_MR /*mask f32*/, CPRT_MR /*out*/,              \
                           CPRT_MR /*lse f32*/, double scale, int32_t flags);  \
  void cprt_c_sdpa_bwd_##T(CPRT_MR /*dout*/, CPRT_MR /*q*/, CPRT_MR /*k*/,      \
                           CPRT_MR /*v*/, CPRT_MR /*out*/, CPRT_MR /*lse*/,    \
                           CPRT_MR /*mask*/, CPRT_MR /*dq*/, CPRT_MR /*dk*/,   \
                           CPRT_MR /*dv*/, double scale, int32_t flags);       \
  void cprt_c_ring_fwd_##T(CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/,         \
                           CPRT_MR /*mask f32 [..,L,S]*/, CPRT_MR /*seg i32*/, \
                           CPRT_MR /*out*/, CPRT_MR /*lse*/, double scale,     \
                           int32_t flags, int32_t rotate, int32_t balancer,    \
                           int64_t seq_len, int64_t window);                   \
  void cprt_c_ring_bwd_##T(CPRT_MR /*dout*/, CPRT_MR /*q*/, CPRT_MR /*k*/,      \
                           CPRT_MR /*v*/, CPRT_MR /*out*/, CPRT_MR /*lse*/,    \
                           CPRT_MR /*mask*/, CPRT_MR /*seg*/, CPRT_MR /*dq*/,  \
                           CPRT_MR /*dk*/, CPRT_MR /*dv*/, double scale,       \
                           int32_t flags, int32_t rotate, int32_t balancer,    \
                           int64_t seq_len, int64_t window);                   \
  void cprt_c_block_fwd_##T(CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/,        \
                            CPRT_MR /*mask f32*/, CPRT_MR /*q_pos i64*/,       \
                            CPRT_MR /*kv_pos i64*/, CPRT_MR /*q_seg i32*/,     \
                            CPRT_MR /*kv_seg i32*/, CPRT_MR /*out f32*/,       \
                            CPRT_MR /*lse f32*/, double scale, int32_t flags,  \
                            int32_t step, int64_t window);                     \
  void cprt_c_block_bwd_##T(CPRT_MR /*dout*/, CPRT_MR /*q*/, CPRT_MR /*k*/,     \
                            CPRT_MR /*v*/, CPRT_MR /*out*/, CPRT_MR /*lse*/,   \
                            CPRT_MR /*mask*/, CPRT_MR /*q_pos*/,               \
                            CPRT_MR /*kv_pos*/, CPRT_MR /*q_seg*/,             \
                            CPRT_MR /*kv_seg*/, CPRT_MR /*dq f32*/,            \
                            CPRT_MR /*dk f32*/, CPRT_MR /*dv f32*/,            \
                            double scale, int32_t flags, int32_t step,         \
                            int64_t window);

CPRT_C_ATTENTION_DECLS(f32)
CPRT_C_ATTENTION_DECLS(bf16)
CPRT_C_ATTENTION_DECLS(f16)

/* Ring attention with per_document_head_tail balancing (DocumentsCApi.cpp):
 * the parameters of cprt_c_ring_*, but `seg` holds the document ids of the
 * whole sequence ([seq_len] i32, original order), from which the runtime
 * computes the layout; q/k/v have that layout's local length (every rank
 * padded to the most loaded one; a mismatch is an error). No mask or
 * window; `balancer` must be per_document_head_tail. */
#define CPRT_C_RING_DOCS_DECLS(T)                                              \
  void cprt_c_ring_docs_fwd_##T(                                               \
      CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/, CPRT_MR /*mask (unused)*/,  \
      CPRT_MR /*docs i32 [S]*/, CPRT_MR /*out*/, CPRT_MR /*lse*/,              \
      double scale, int32_t flags, int32_t rotate, int32_t balancer,           \
      int64_t seq_len, int64_t window);                                        \
  void cprt_c_ring_docs_bwd_##T(                                               \
      CPRT_MR /*dout*/, CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/,           \
      CPRT_MR /*out*/, CPRT_MR /*lse*/, CPRT_MR /*mask (unused)*/,             \
      CPRT_MR /*docs i32 [S]*/, CPRT_MR /*dq*/, CPRT_MR /*dk*/,                \
      CPRT_MR /*dv*/, double scale, int32_t flags, int32_t rotate,             \
      int32_t balancer, int64_t seq_len, int64_t window);

CPRT_C_RING_DOCS_DECLS(f32)
CPRT_C_RING_DOCS_DECLS(bf16)
CPRT_C_RING_DOCS_DECLS(f16)

/* The original positions of this rank's local tokens under
 * per_document_head_tail balancing (DocumentPositions.cpp): `docs` holds the
 * document ids of the whole sequence ([seq_len] i32, original order), `out`
 * ([L] i64, L = ceil(seq_len / W), the layout's local length; a mismatch is
 * an error) receives the position of every local slot, padding slot j as
 * seq_len + j. Lowered cp.global_position with `documents` reads it. */
void cprt_c_document_positions(CPRT_MR /*docs i32 [S]*/,
                               CPRT_MR /*out i64 [L]*/, int64_t seq_len);

/* cprt_c_shard_<T> / cprt_c_unshard_<T> under per_document_head_tail
 * (DocumentShard.cpp): `docs` holds the document ids of the whole sequence
 * ([S] i32, original order, S the global tensor's dim), from which the
 * runtime lays the sequence out; `balancer` must be per_document_head_tail
 * and the local tensor must have the layout's local length. */
#define CPRT_C_SHARD_DOCS_DECLS(T)                                             \
  void cprt_c_shard_docs_##T(CPRT_MR /*global*/, CPRT_MR /*local*/,            \
                             int64_t elem_bytes, int32_t dim,                  \
                             int32_t balancer, CPRT_MR /*docs i32 [S]*/);      \
  void cprt_c_unshard_docs_##T(CPRT_MR /*local*/, CPRT_MR /*global*/,          \
                               int64_t elem_bytes, int32_t dim,                \
                               int32_t balancer, CPRT_MR /*docs i32 [S]*/);
CPRT_C_SHARD_DOCS_DECLS(f32)
CPRT_C_SHARD_DOCS_DECLS(bf16)
CPRT_C_SHARD_DOCS_DECLS(f16)
CPRT_C_SHARD_DOCS_DECLS(f64)
CPRT_C_SHARD_DOCS_DECLS(i1)
CPRT_C_SHARD_DOCS_DECLS(i8)
CPRT_C_SHARD_DOCS_DECLS(i32)
CPRT_C_SHARD_DOCS_DECLS(i64)

/* (out, lse) = merge((out_a, lse_a), (out_b, lse_b)); all f32; the
 * destination may alias either input. */
void cprt_c_merge_f32(CPRT_MR, CPRT_MR, CPRT_MR, CPRT_MR, CPRT_MR, CPRT_MR);

#define CPRT_C_MOVEMENT_DECLS(T)                                               \
  /* The local shard of a whole tensor along dim (global length from its   \
   * shape; the balancer's permutation, padding zeroed). */                   \
  void cprt_c_shard_##T(CPRT_MR /*global*/, CPRT_MR /*local*/,                 \
                        int64_t elem_bytes, int32_t dim, int32_t balancer);    \
  /* All-gather the local shards and undo the permutation. */                 \
  void cprt_c_unshard_##T(CPRT_MR /*local*/, CPRT_MR /*global*/,               \
                          int64_t elem_bytes, int32_t dim, int32_t balancer);  \
  /* Concatenate every rank's tensor along dim in rank order. */              \
  void cprt_c_all_gather_##T(CPRT_MR /*in*/, CPRT_MR /*out*/,                  \
                             int64_t elem_bytes, int32_t dim);                 \
  /* Start sending `send` to rank + offset and receiving `recv` from        \
   * rank - offset; returns a handle for cprt_c_shift_wait. */                \
  int64_t cprt_c_shift_start_##T(CPRT_MR /*send*/, CPRT_MR /*recv*/,           \
                                 int64_t elem_bytes, int64_t offset);          \
  /* Completes a shift; `send` is passed again so that it stays alive (and \
   * unmodified) until the transfer is done. */                               \
  void cprt_c_shift_wait_##T(int64_t handle, CPRT_MR /*send*/);            \
  /* Ulysses (cp.seq_to_heads): this rank's sequence shard (all heads, the  \
   * balancer's order, local length from the shape) to H/W heads of the     \
   * whole sequence in original order (seq_len positions, padding dropped), \
   * through one all-to-all. */                                              \
  void cprt_c_seq_to_heads_##T(CPRT_MR /*local*/, CPRT_MR /*heads*/,         \
                               int64_t elem_bytes, int32_t head_dim,         \
                               int32_t seq_dim, int32_t balancer,            \
                               int64_t seq_len);                             \
  /* The inverse (cp.heads_to_seq); padding slots are zeroed. */             \
  void cprt_c_heads_to_seq_##T(CPRT_MR /*heads*/, CPRT_MR /*local*/,         \
                               int64_t elem_bytes, int32_t head_dim,         \
                               int32_t seq_dim, int32_t balancer,            \
                               int64_t seq_len);

CPRT_C_MOVEMENT_DECLS(f32)
CPRT_C_MOVEMENT_DECLS(bf16)
CPRT_C_MOVEMENT_DECLS(f16)
CPRT_C_MOVEMENT_DECLS(f64)
CPRT_C_MOVEMENT_DECLS(i1)
CPRT_C_MOVEMENT_DECLS(i8)
CPRT_C_MOVEMENT_DECLS(i32)
CPRT_C_MOVEMENT_DECLS(i64)

/* Element-wise reduction over all ranks. */
enum { CPRT_C_REDUCE_SUM = 0, CPRT_C_REDUCE_MAX = 1, CPRT_C_REDUCE_MIN = 2 };
void cprt_c_all_reduce_f32(CPRT_MR /*in*/, CPRT_MR /*out*/, int32_t kind);
void cprt_c_all_reduce_f64(CPRT_MR, CPRT_MR, int32_t kind);
void cprt_c_all_reduce_i32(CPRT_MR, CPRT_MR, int32_t kind);
void cprt_c_all_reduce_i64(CPRT_MR, CPRT_MR, int32_t kind);

/* Flags of cprt_c_matmul_f32. */
enum {
  CPRT_C_MATMUL_TRANS_A = 1,    /* a holds op(A)^T: [.., K, M] */
  CPRT_C_MATMUL_TRANS_B = 2,    /* b holds op(B)^T: [.., N, K] */
  CPRT_C_MATMUL_ACCUMULATE = 4, /* c += op(A) op(B); else c = op(A) op(B) */
};

/* Matrix product of compiled code (cp-lower-to-llvm's linalg-to-blas):
 * c[.., M, N] (+)= op(a) op(b) through a BLAS on this rank's threads. Rank 2
 * or 3 (a leading batch dim; an operand of rank 2 or batch 1 is broadcast
 * over c's batch). Operands may be strided views (any row and batch stride)
 * but their last dim must have unit stride. */
void cprt_c_matmul_f32(CPRT_MR /*a*/, CPRT_MR /*b*/, CPRT_MR /*c*/,
                       int32_t flags);

/* Combiners of the seq_scan entry points (values of #cp.scan_kind). */
enum { CPRT_C_SCAN_SUM = 0, CPRT_C_SCAN_PROD = 1 };

/* Inclusive scan along `dim` of this rank's sequence shard in original
 * sequence order (cp.seq_scan): every element becomes the sum (CPRT_C_SCAN_SUM) or
 * product (CPRT_C_SCAN_PROD) of the elements at original positions up to its own, on
 * all ranks; `balancer` and `seq_len` give the layout (none, head_tail or
 * striped; padding slots contribute nothing). Floats accumulate in double.
 * `in` and `out` may be the same buffer. */
void cprt_c_seq_scan_f32(CPRT_MR /*in*/, CPRT_MR /*out*/, int32_t dim,
                         int32_t balancer, int64_t seq_len, int32_t kind);
void cprt_c_seq_scan_f64(CPRT_MR, CPRT_MR, int32_t dim, int32_t balancer,
                         int64_t seq_len, int32_t kind);
void cprt_c_seq_scan_i32(CPRT_MR, CPRT_MR, int32_t dim, int32_t balancer,
                         int64_t seq_len, int32_t kind);
void cprt_c_seq_scan_i64(CPRT_MR, CPRT_MR, int32_t dim, int32_t balancer,
                         int64_t seq_len, int32_t kind);

/* Hybrid (Ulysses x ring) attention on a grid of ulysses_size x ring_size
 * ranks (ulysses_size * ring_size = the world size; rank = u +
 * ulysses_size * r, so a Ulysses group is consecutive ranks). Tensors are
 * this rank's sequence shards [.., H, L, D] in the balancer's layout over
 * all ranks (as for cprt_c_ring_*; balancer none, head_tail or striped):
 * all-to-all over the Ulysses group to Hq/ulysses_size heads, ring attention
 * over the ring group, all-to-all back (runtime/include/cprt/Hybrid.h; GQA:
 * KV heads split when they divide ulysses_size, else replicated). flags:
 * CPRT_C_CAUSAL, CPRT_C_HAS_LSE (forward; the backward always reads lse);
 * no masks or segment ids yet. The grid communicators are split from the
 * rank's communicator on first use. */
#define CPRT_C_HYBRID_DECLS(T)                                                 \
  void cprt_c_hybrid_fwd_##T(CPRT_MR /*q*/, CPRT_MR /*k*/, CPRT_MR /*v*/,       \
                             CPRT_MR /*out*/, CPRT_MR /*lse f32*/,             \
                             double scale, int32_t flags, int32_t rotate,      \
                             int32_t balancer, int64_t seq_len,                \
                             int64_t window, int64_t ulysses_size,             \
                             int64_t ring_size);                               \
  void cprt_c_hybrid_bwd_##T(CPRT_MR /*dout*/, CPRT_MR /*q*/, CPRT_MR /*k*/,    \
                             CPRT_MR /*v*/, CPRT_MR /*out*/, CPRT_MR /*lse*/,  \
                             CPRT_MR /*dq*/, CPRT_MR /*dk*/, CPRT_MR /*dv*/,   \
                             double scale, int32_t flags, int32_t rotate,      \
                             int32_t balancer, int64_t seq_len,                \
                             int64_t window, int64_t ulysses_size,             \
                             int64_t ring_size);
CPRT_C_HYBRID_DECLS(f32)
CPRT_C_HYBRID_DECLS(bf16)
CPRT_C_HYBRID_DECLS(f16)

#undef CPRT_MR

#ifdef __cplusplus
}
#endif

#endif /* CPRT_CPRT_COMPILER_H */
