"""ctypes binding of libcprt_cuda.so (runtime/include/cprt/cuda/cprt_cuda.h, and
the harnesses of runtime/src/cuda/cprt_cuda_harness.h).

Used by the GPU tests and benchmarks: torch tensors are passed by data_ptr().
"""
import ctypes as C
import os

I64, I32, F32, VP = C.c_int64, C.c_int32, C.c_float, C.c_void_p
I64x3 = I64 * 3


class Attn(C.Structure):
    _fields_ = [
        ("batch", I64), ("heads_q", I64), ("heads_kv", I64), ("seq_q", I64),
        ("seq_kv", I64), ("head_dim", I64),
        ("dtype", I32), ("out_dtype", I32), ("grad_dtype", I32), ("step_causal", I32),
        ("scale", F32),
        ("q", VP), ("k", VP), ("v", VP), ("out", VP), ("lse", VP),
        ("dout", VP), ("dq", VP), ("dk", VP), ("dv", VP),
        ("q_stride", I64x3), ("k_stride", I64x3), ("v_stride", I64x3), ("out_stride", I64x3),
        ("q_pos", VP), ("kv_pos", VP), ("causal", I32), ("window_left", I64),
        ("doc_ids", VP), ("doc_len", I64), ("bool_mask", VP), ("add_mask", VP),
        ("mask_b_stride", I64), ("mask_h_stride", I64), ("mask_row_stride", I64),
        ("stream", VP), ("backend", I32), ("accumulate", I32),
    ]


class Ring(C.Structure):
    _fields_ = [
        ("world", I32), ("transport", I32), ("balancer", I32), ("rotate", I32),
        ("causal", I32), ("backward", I32), ("scale", F32), ("window_left", I64),
        ("doc_ids_host", VP),
        ("batch", I64), ("heads_q", I64), ("heads_kv", I64), ("seq", I64), ("head_dim", I64),
        ("dtype", I32),
        ("q", VP), ("k", VP), ("v", VP), ("out", VP), ("lse", VP), ("dout", VP),
        ("dq", VP), ("dk", VP), ("dv", VP),
        ("bool_mask", VP), ("add_mask", VP),
        ("mask_b_stride", I64), ("mask_h_stride", I64), ("mask_row_stride", I64),
        ("iters", I32), ("ms_per_iter_host", VP),
        ("steps_computed", I32), ("steps_skipped", I32), ("comm_ops", I32),
        ("backend", I32),
        # NCCL, one rank per process (transport 1, world > 1)
        ("rank", I32), ("nccl_id_file", C.c_char_p), ("timeout_ms", I64),
        # > 1: hybrid (Ulysses groups of this size x a ring); == world: Ulysses
        ("ulysses_size", I32),
    ]


STEP = {"skip": 0, "not_causal": 1, "causal": 2, "causal_strict": 3,
        "kv_head_half": 4, "q_tail_half": 5}
BALANCER = {"none": 0, "headtail": 1, "striped": 2, "perdoc": 3, "ptrr": 4}
ROTATE = {"allgather": 0, "alltoall": 1, "ring": 2}


def load(path=None):
    path = path or os.environ.get("CPRT_CUDA_LIB", "build-gpu/src/cuda/libcprt_cuda.so")
    lib = C.CDLL(os.path.abspath(path))
    for f in ("cprt_cuda_attention_forward", "cprt_cuda_attention_backward"):
        getattr(lib, f).argtypes = [C.POINTER(Attn)]
        getattr(lib, f).restype = C.c_int
    lib.cprt_cuda_ring_run.argtypes = [C.POINTER(Ring)]
    lib.cprt_cuda_ring_run.restype = C.c_int
    lib.cprt_cuda_merge.argtypes = [VP, VP, VP, VP, I64, I64, VP]
    lib.cprt_cuda_gather_rows.argtypes = [VP, VP, VP, I64, I64, I64, I64, VP]
    lib.cprt_cuda_scatter_rows.argtypes = [VP, VP, VP, I64, I64, I64, I64, VP]
    lib.cprt_cuda_comm_test.argtypes = [I32, I32, I32, I64]
    if hasattr(lib, "cprt_cuda_comm_test_rank"):
        lib.cprt_cuda_comm_test_rank.argtypes = [I32, I32, I32, C.c_char_p, I32, I64]
        lib.cprt_cuda_comm_test_rank.restype = C.c_int
    lib.cprt_cuda_last_error.restype = C.c_char_p
    return lib


def self_attention(q, k, v, out, lse, causal, backend=0, stream=None, dout=None, dq=None,
                   dk=None, dv=None):
    """An Attn descriptor for contiguous [B, H, S, D] torch tensors of one 16-bit type (bf16 or
    fp16; out and grads in the same type): full or top-left causal self-attention."""
    B, Hq, S, D = q.shape
    a = Attn()
    a.batch, a.heads_q, a.heads_kv, a.seq_q, a.seq_kv, a.head_dim = B, Hq, k.shape[1], S, S, D
    code = {"torch.bfloat16": 1, "torch.float16": 2}[str(q.dtype)]
    a.dtype, a.out_dtype, a.grad_dtype = code, code, code
    a.step_causal = STEP["causal" if causal else "not_causal"]
    for n, t in (("q", q), ("k", k), ("v", v), ("out", out), ("lse", lse), ("dout", dout),
                 ("dq", dq), ("dk", dk), ("dv", dv)):
        if t is not None:
            setattr(a, n, t.data_ptr())
    a.stream = stream
    a.backend = backend
    return a


def check(lib, rc, what):
    if rc != 0:
        raise RuntimeError(f"{what}: status {rc}: {lib.cprt_cuda_last_error().decode()}")
