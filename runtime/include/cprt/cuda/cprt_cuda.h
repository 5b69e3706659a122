/*===- cprt_cuda.h - C ABI of the CUDA runtime pieces ---------------------===*
 *
 * For foreign callers (Python ctypes, torch tensors' data_ptr()) and hosts
 * of compiled code: every pointer is a device pointer unless its name says
 * host. Functions return 0 on success, else a cprt_status value; the message
 * is in cprt_cuda_last_error() (thread-local). No exception crosses this
 * ABI. The test and benchmark harnesses (the sharded ring run, the
 * communicator self-test, the kernel counters) are exported by the same
 * library but declared in runtime/src/cuda/cprt_cuda_harness.h, which is not
 * installed.
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
int cprt_cuda_attention_forward(const cprt_cuda_attn *a);
/* Uses out and lse of the forward; writes dq, dk, dv (grad_dtype). */
int cprt_cuda_attention_backward(const cprt_cuda_attn *a);
int cprt_cuda_merge(float *out, float *lse, const float *out_b, const float *lse_b, int64_t rows,
                    int64_t d, void *stream);
int cprt_cuda_gather_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                          int64_t seq_src, int64_t seq_dst, int64_t inner_bytes, void *stream);
int cprt_cuda_scatter_rows(const void *src, void *dst, const int64_t *idx, int64_t outer,
                           int64_t seq_src, int64_t seq_dst, int64_t inner_bytes, void *stream);

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
