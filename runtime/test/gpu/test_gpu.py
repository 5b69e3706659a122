#!/usr/bin/env python3
"""GPU tests of the CUDA runtime (kernels, merge, permutations, rings, NCCL).

Every check draws fresh random inputs and compares against a float64
reference computed by torch on the GPU from an explicit visibility matrix
(written independently of the kernels), and, for plain/causal/GQA cases,
against torch's scaled_dot_product_attention.

Tolerance (stated, used everywhere): relative Frobenius error
||got - ref|| / ||ref|| <= 1e-2 for out, dq, dk, dv (bf16 and fp16 inputs,
fp32 accumulation); LSE max |got - ref| <= 1e-2 on finite rows and exactly
-inf where the reference is -inf; fully masked rows must give out == 0; a
NaN anywhere fails.

Usage: python3 test_gpu.py [--lib build-gpu/src/cuda/libcprt_cuda.so] [--quick]
       [--only kernels,merge,accumulate,rings,cudnn,comm,errors,hopper,accumulate_cudnn,auto] [--cudnn]
"""
import argparse
import ctypes as C
import itertools
import math
import sys
import time

import torch
import torch.nn.functional as F

import cprt_cuda as cc

TOL = 1e-2
DT = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}
dev = "cuda"
results = []


def report(name, ok, detail=""):
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)


def relerr(got, ref):
    got = got.double()
    if torch.isnan(got).any():
        return float("nan")
    n = ref.norm().item()
    return (got - ref).norm().item() / max(n, 1e-30)


def visibility(B, Hq, Sq, Skv, step, qpos=None, kvpos=None, causal=False, window=0,
               docs=None, bmask=None, strides=(0, 0, 0), need_pos=False):
    """[B,Hq,Sq,Skv] bool visibility, following Attention.h literally."""
    i = torch.arange(Sq, device=dev)[:, None]
    j = torch.arange(Skv, device=dev)[None, :]
    if step == "skip":
        v = torch.zeros(Sq, Skv, dtype=torch.bool, device=dev)
    elif step == "not_causal":
        v = torch.ones(Sq, Skv, dtype=torch.bool, device=dev)
    elif step == "causal":
        v = j <= i
    elif step == "causal_strict":
        v = j < i
    elif step == "kv_head_half":
        v = (j < Skv // 2).expand(Sq, Skv)
    else:
        v = (i >= Sq // 2).expand(Sq, Skv)
    qp = (qpos if qpos is not None else torch.arange(Sq, device=dev))[:, None]
    kp = (kvpos if kvpos is not None else torch.arange(Skv, device=dev))[None, :]
    uses = qpos is not None or kvpos is not None or causal or window > 0 or docs is not None
    if uses:
        v = v & (qp >= 0) & (kp >= 0)
        if causal or window > 0:
            v = v & (kp <= qp)
        if window > 0:
            v = v & (kp > qp - window)
        if docs is not None:
            v = v & (docs[qp.clamp(min=0)] == docs[kp.clamp(min=0)])
    v = v.expand(B, Hq, Sq, Skv).clone()
    add = None
    if bmask is not None:
        bs, hs, rs = strides
        b = torch.arange(B, device=dev)[:, None, None, None]
        h = torch.arange(Hq, device=dev)[None, :, None, None]
        idx = b * bs + h * hs + qp.clamp(min=0)[None, None] * rs + kp.clamp(min=0)[None, None]
        vals = bmask.flatten()[idx]
        if bmask.dtype == torch.bool or bmask.dtype == torch.uint8:
            v = v & (vals != 0)
        else:
            add = vals.double()
    return v, add


def reference(q, k, v, vis, add, scale, dout=None):
    """float64 attention with explicit visibility; returns out, lse (, grads)."""
    G = q.shape[1] // k.shape[1]
    q64 = q.double().requires_grad_(dout is not None)
    k64 = k.double().requires_grad_(dout is not None)
    v64 = v.double().requires_grad_(dout is not None)
    kk = k64.repeat_interleave(G, dim=1)
    vv = v64.repeat_interleave(G, dim=1)
    s = (q64 @ kk.transpose(-1, -2)) * scale
    if add is not None:
        s = s + add
    s = s.masked_fill(~vis, float("-inf"))
    lse = torch.logsumexp(s, -1)
    lse_safe = torch.where(torch.isinf(lse), torch.zeros_like(lse), lse)
    p = torch.exp(s - lse_safe[..., None])
    out = p @ vv
    if dout is None:
        return out.detach(), lse.detach()
    out.backward(dout.double())
    return out.detach(), lse.detach(), q64.grad, k64.grad, v64.grad


def attn_desc(B, Hq, Hkv, Sq, Skv, D, dtype, out_dtype, step, scale, t, mask):
    a = cc.Attn()
    a.batch, a.heads_q, a.heads_kv, a.seq_q, a.seq_kv, a.head_dim = B, Hq, Hkv, Sq, Skv, D
    a.dtype, a.out_dtype, a.grad_dtype = DT[dtype], DT[out_dtype], 0
    a.step_causal = cc.STEP[step]
    a.scale = scale
    for name, ten in t.items():
        setattr(a, name, ten.data_ptr())
    for name, val in mask.items():
        setattr(a, name, val)
    return a


def check_kernel(name, B=1, Hq=4, Hkv=4, Sq=128, Skv=128, D=64, dtype=torch.bfloat16,
                 out_dtype=None, step="not_causal", backward=True, positions=None,
                 causal=False, window=0, docs=False, bmask=None, sdpa=None, backend=0):
    lib = LIB
    out_dtype = out_dtype or dtype
    scale = 1.0 / math.sqrt(D) if (Sq + Skv) % 2 == 0 else 0.3
    q = torch.randn(B, Hq, Sq, D, device=dev).to(dtype)
    k = torch.randn(B, Hkv, Skv, D, device=dev).to(dtype)
    v = torch.randn(B, Hkv, Skv, D, device=dev).to(dtype)
    out = torch.full((B, Hq, Sq, D), float("nan"), device=dev).to(out_dtype)
    lse = torch.full((B, Hq, Sq), float("nan"), device=dev)
    mask, keep = {}, []
    qpos = kvpos = dids = None
    P = max(Sq, Skv)
    if positions:
        P = 2 * max(Sq, Skv)
        qpos = torch.randperm(P, device=dev)[:Sq].sort().values
        kvpos = torch.randperm(P, device=dev)[:Skv]
        qpos[torch.rand(Sq, device=dev) < 0.1] = -1
        kvpos[torch.rand(Skv, device=dev) < 0.1] = -1
        mask["q_pos"], mask["kv_pos"] = qpos.data_ptr(), kvpos.data_ptr()
        keep += [qpos, kvpos]
    mask["causal"] = int(causal)
    mask["window_left"] = window
    if docs:
        dids = torch.cumsum((torch.rand(P, device=dev) < 0.03).int(), 0).int()
        mask["doc_ids"], mask["doc_len"] = dids.data_ptr(), P
        keep.append(dids)
    strides = (0, 0, 0)
    if bmask is not None:
        if bmask == "bool":
            m = (torch.rand(B, 1, P, P, device=dev) < 0.7).to(torch.uint8)
            mask["bool_mask"] = m.data_ptr()
        else:
            m = torch.randn(B, Hq, P, P, device=dev) * 2
            m[torch.rand_like(m) < 0.05] = float("-inf")
            mask["add_mask"] = m.data_ptr()
        strides = (m.stride(0) if m.shape[0] > 1 else 0, m.stride(1) if m.shape[1] > 1 else 0,
                   m.stride(2))
        mask["mask_b_stride"], mask["mask_h_stride"], mask["mask_row_stride"] = strides
        keep.append(m)
        bmask = m
    vis, add = visibility(B, Hq, Sq, Skv, step, qpos, kvpos, causal, window, dids, bmask, strides)
    a = attn_desc(B, Hq, Hkv, Sq, Skv, D, dtype, out_dtype, step, scale,
                  {"q": q, "k": k, "v": v, "out": out, "lse": lse}, mask)
    a.backend = backend
    cc.check(lib, lib.cprt_cuda_attention_forward(C.byref(a)), name)
    torch.cuda.synchronize()
    if backward:
        dout = torch.randn(B, Hq, Sq, D, device=dev).to(dtype)
        ro, rl, rdq, rdk, rdv = reference(q, k, v, vis, add, scale, dout)
    else:
        ro, rl = reference(q, k, v, vis, add, scale)
    eo = relerr(out, ro)
    fin = torch.isfinite(rl)
    el = (lse.double()[fin] - rl[fin]).abs().max().item() if fin.any() else 0.0
    inf_ok = bool(torch.all(lse[~fin] == float("-inf"))) and not torch.isnan(lse).any()
    zero_ok = bool(torch.all(out.float()[~fin] == 0))
    ok = eo <= TOL and el <= TOL and inf_ok and zero_ok
    detail = f"out {eo:.1e} lse {el:.1e}"
    if not inf_ok or not zero_ok:
        detail += f" masked-rows(-inf {inf_ok}, zero {zero_ok})"
    if backward and D <= 128:
        for gd in (torch.float32, dtype):
            dq = torch.full_like(q, float("nan"), dtype=gd)
            dk = torch.full_like(k, float("nan"), dtype=gd)
            dv = torch.full_like(v, float("nan"), dtype=gd)
            a.dout, a.dq, a.dk, a.dv = dout.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr()
            a.grad_dtype = DT[gd]
            cc.check(lib, lib.cprt_cuda_attention_backward(C.byref(a)), name + " bwd")
            torch.cuda.synchronize()
            errs = [relerr(x, r) if r.norm() > 0 else (0.0 if torch.all(x == 0) else 1.0)
                    for x, r in ((dq, rdq), (dk, rdk), (dv, rdv))]
            ok = ok and all(e <= TOL for e in errs)
            detail += f" | grads({str(gd)[6:]}) dq {errs[0]:.1e} dk {errs[1]:.1e} dv {errs[2]:.1e}"
    if sdpa is not None:
        # torch SDPA (its own kernels) on the same inputs
        with torch.no_grad():
            ts = F.scaled_dot_product_attention(q, k, v, is_causal=(sdpa == "causal"),
                                                scale=scale, enable_gqa=Hq != Hkv)
        es = relerr(out.float(), ts.double())
        ok = ok and es <= TOL
        detail += f" | vs sdpa {es:.1e}"
    report(name, ok, detail)


def kernel_suite(quick):
    dts = [torch.bfloat16, torch.float16]
    for dtype, D in itertools.product(dts, [64, 128]):
        tag = f"{str(dtype)[6:]} D{D}"
        for step in cc.STEP:
            check_kernel(f"kernel {tag} step={step}", D=D, dtype=dtype, step=step, Sq=192, Skv=192)
        check_kernel(f"kernel {tag} ragged 100x77 causal", D=D, dtype=dtype, step="causal",
                     Sq=100, Skv=77)
        check_kernel(f"kernel {tag} ragged 77x130 q_tail_half", D=D, dtype=dtype,
                     step="q_tail_half", Sq=77, Skv=130)
        check_kernel(f"kernel {tag} gqa 8:2 causal", Hq=8, Hkv=2, D=D, dtype=dtype,
                     step="causal", Sq=256, Skv=256, sdpa="causal")
        check_kernel(f"kernel {tag} sdpa plain B2", B=2, D=D, dtype=dtype, Sq=320, Skv=320,
                     sdpa="plain")
        check_kernel(f"kernel {tag} out fp32", D=D, dtype=dtype, out_dtype=torch.float32)
        if quick and D == 128:
            continue
        check_kernel(f"kernel {tag} positions+pads", D=D, dtype=dtype, positions=True)
        check_kernel(f"kernel {tag} positions causal", D=D, dtype=dtype, positions=True,
                     causal=True)
        check_kernel(f"kernel {tag} window 40", D=D, dtype=dtype, window=40, Sq=200, Skv=200)
        check_kernel(f"kernel {tag} docs causal", D=D, dtype=dtype, docs=True, causal=True,
                     Sq=256, Skv=256)
        check_kernel(f"kernel {tag} positions docs window strict", D=D, dtype=dtype,
                     positions=True, docs=True, window=64, step="causal_strict")
        check_kernel(f"kernel {tag} bool mask", D=D, dtype=dtype, bmask="bool", Sq=130, Skv=96)
        check_kernel(f"kernel {tag} add mask gqa", Hq=4, Hkv=2, D=D, dtype=dtype, bmask="add",
                     positions=True)
    for dtype in dts:
        check_kernel(f"kernel {str(dtype)[6:]} D256 fwd causal", D=256, dtype=dtype,
                     step="causal", backward=False, Sq=200, Skv=200, sdpa=None)
        check_kernel(f"kernel {str(dtype)[6:]} D256 fwd window", D=256, dtype=dtype,
                     window=50, backward=False, sdpa=None)
    # fp32 and head dims without a flash kernel: the naive kernels of
    # NaiveAttention.cu, forward and backward (compiled fp32 modules).
    for dtype, D in ((torch.float32, 16), (torch.float32, 64), (torch.bfloat16, 16)):
        tag = f"{str(dtype)[6:]} D{D}"
        check_kernel(f"naive {tag} gqa 4:2 causal", Hq=4, Hkv=2, D=D, dtype=dtype,
                     step="causal", Sq=96, Skv=96, sdpa="causal")
        check_kernel(f"naive {tag} ragged 70x50 q_tail_half", D=D, dtype=dtype,
                     step="q_tail_half", Sq=70, Skv=50)
        check_kernel(f"naive {tag} positions docs window", D=D, dtype=dtype, positions=True,
                     docs=True, window=24)
        check_kernel(f"naive {tag} add mask gqa", Hq=4, Hkv=2, D=D, dtype=dtype, bmask="add",
                     positions=True)
    # long-ish causal vs SDPA flash
    check_kernel("kernel bf16 D128 S=2048 causal vs sdpa", Hq=8, Hkv=8, D=128, Sq=2048,
                 Skv=2048, step="causal", sdpa="causal", backward=True)


def check_accumulate(name, B=1, Hq=4, Hkv=4, Sq=192, Skv1=160, Skv2=192, D=64,
                     dtype=torch.bfloat16, first="not_causal", step="not_causal", mask2=None,
                     backend=0):
    """Accumulate-mode forward (ForwardArgs::accumulate): block 1 (keys k1,
    step `first`) written as an fp32 partial (out, lse), then block 2 (keys
    k2, step `step`, optional mask `mask2`) merged into it by the forward.
    Checked against float64 attention over the union of both key sets; rows
    block 2 cannot see must keep out and lse bit for bit."""
    lib = LIB
    scale = 1.0 / math.sqrt(D) if (Sq + Skv2) % 2 == 0 else 0.3
    q = torch.randn(B, Hq, Sq, D, device=dev).to(dtype)
    k1 = torch.randn(B, Hkv, Skv1, D, device=dev).to(dtype)
    v1 = torch.randn(B, Hkv, Skv1, D, device=dev).to(dtype)
    k2 = torch.randn(B, Hkv, Skv2, D, device=dev).to(dtype)
    v2 = torch.randn(B, Hkv, Skv2, D, device=dev).to(dtype)
    out = torch.full((B, Hq, Sq, D), float("nan"), device=dev)
    lse = torch.full((B, Hq, Sq), float("nan"), device=dev)
    a1 = attn_desc(B, Hq, Hkv, Sq, Skv1, D, dtype, torch.float32, first, scale,
                   {"q": q, "k": k1, "v": v1, "out": out, "lse": lse}, {})
    a1.backend = backend
    cc.check(lib, lib.cprt_cuda_attention_forward(C.byref(a1)), name + " (block 1)")
    torch.cuda.synchronize()
    out0, lse0 = out.clone(), lse.clone()
    mask = {}
    qpos = kvpos = bm = None
    causal, strides = False, (0, 0, 0)
    if mask2 == "bool":  # random keep-mask with dead rows
        bm = (torch.rand(B, 1, Sq, Skv2, device=dev) < 0.7).to(torch.uint8)
        bm[:, :, ::9] = 0
        strides = (bm.stride(0) if B > 1 else 0, 0, bm.stride(2))
        mask["bool_mask"] = bm.data_ptr()
    elif mask2 == "causal_pos":  # keys start at position 40: rows 0..39 see nothing
        qpos = torch.arange(Sq, device=dev, dtype=torch.int64)
        kvpos = torch.arange(Skv2, device=dev, dtype=torch.int64) + 40
        causal = True
    elif mask2 == "pads":
        qpos = torch.arange(Sq, device=dev, dtype=torch.int64)
        kvpos = torch.arange(Skv2, device=dev, dtype=torch.int64)
        qpos[torch.rand(Sq, device=dev) < 0.1] = -1
        kvpos[::3] = -1
    if qpos is not None:
        mask["q_pos"], mask["kv_pos"] = qpos.data_ptr(), kvpos.data_ptr()
    mask["causal"] = int(causal)
    mask["mask_b_stride"], mask["mask_h_stride"], mask["mask_row_stride"] = strides
    a2 = attn_desc(B, Hq, Hkv, Sq, Skv2, D, dtype, torch.float32, step, scale,
                   {"q": q, "k": k2, "v": v2, "out": out, "lse": lse}, mask)
    a2.backend = backend
    a2.accumulate = 1
    cc.check(lib, lib.cprt_cuda_attention_forward(C.byref(a2)), name)
    torch.cuda.synchronize()
    vis1, _ = visibility(B, Hq, Sq, Skv1, first)
    vis2, _ = visibility(B, Hq, Sq, Skv2, step, qpos, kvpos, causal, 0, None, bm, strides)
    ro, rl = reference(q, torch.cat([k1, k2], 2), torch.cat([v1, v2], 2),
                       torch.cat([vis1, vis2], -1), None, scale)
    eo = relerr(out, ro)
    fin = torch.isfinite(rl)
    el = (lse.double()[fin] - rl[fin]).abs().max().item() if fin.any() else 0.0
    nan_free = not (torch.isnan(out).any() or torch.isnan(lse).any())
    inf_ok = bool(torch.all(lse[~fin] == float("-inf")))
    zero_ok = bool(torch.all(out[~fin] == 0))
    blind = ~vis2.any(-1)  # rows block 2 cannot see: untouched, bit for bit
    same = bool(torch.equal(out.view(torch.int32)[blind], out0.view(torch.int32)[blind]) and
                torch.equal(lse.view(torch.int32)[blind], lse0.view(torch.int32)[blind]))
    ok = eo <= TOL and el <= TOL and nan_free and inf_ok and zero_ok and same
    detail = (f"out {eo:.1e} lse {el:.1e} untouched rows {int(blind.sum())} "
              f"bitwise-same {same}")
    if not (nan_free and inf_ok and zero_ok):
        detail += f" (no-NaN {nan_free}, -inf {inf_ok}, zero {zero_ok})"
    report(name, ok, detail)


def accumulate_suite(backend=0):
    """Accumulate-mode forward; backend 1 = cuDNN (with its flash fallback)."""
    pre = "accumulate" + {0: "", 1: " cudnn", 2: " auto"}[backend]
    for dtype, D in itertools.product([torch.bfloat16, torch.float16], [64, 128]):
        tag = f"{str(dtype)[6:]} D{D}"
        for step in cc.STEP:
            check_accumulate(f"{pre} {tag} step={step}", D=D, dtype=dtype, step=step,
                             backend=backend)
        # partial with -inf rows (q_tail_half head rows) / all -inf (skip)
        check_accumulate(f"{pre} {tag} first=q_tail_half step=causal", D=D, dtype=dtype,
                         first="q_tail_half", step="causal", backend=backend)
        check_accumulate(f"{pre} {tag} first=skip step=kv_head_half", D=D, dtype=dtype,
                         first="skip", step="kv_head_half", backend=backend)
        check_accumulate(f"{pre} {tag} first=q_tail_half step=q_tail_half", D=D, dtype=dtype,
                         first="q_tail_half", step="q_tail_half", backend=backend)
        check_accumulate(f"{pre} {tag} gqa 8:2 first=causal step=causal", Hq=8, Hkv=2, D=D,
                         dtype=dtype, first="causal", step="causal", backend=backend)
        check_accumulate(f"{pre} {tag} gqa 8:2 B2 step=causal_strict", B=2, Hq=8, Hkv=2, D=D,
                         dtype=dtype, first="not_causal", step="causal_strict",
                         backend=backend)
        check_accumulate(f"{pre} {tag} ragged 100x(77+100) not_causal", Sq=100, Skv1=77,
                         Skv2=100, D=D, dtype=dtype, backend=backend)
        check_accumulate(f"{pre} {tag} ragged 100x(77+130) q_tail_half", Sq=100, Skv1=77,
                         Skv2=130, D=D, dtype=dtype, step="q_tail_half", backend=backend)
        # fully masked rows (flash fallback under cuDNN)
        check_accumulate(f"{pre} {tag} bool mask dead rows", D=D, dtype=dtype,
                         mask2="bool", backend=backend)
        check_accumulate(f"{pre} {tag} causal by position (rows 0-39 blind)", D=D,
                         dtype=dtype, mask2="causal_pos", step="not_causal", backend=backend)
        check_accumulate(f"{pre} {tag} positions+pads causal", D=D, dtype=dtype,
                         mask2="pads", step="causal", first="q_tail_half", backend=backend)
    # CTAs entirely above q_tail_half's rows (no key tiles: must not touch)
    check_accumulate(f"{pre} bf16 D128 S=512 q_tail_half", Sq=512, Skv1=256, Skv2=512,
                     D=128, step="q_tail_half", backend=backend)
    check_accumulate(f"{pre} fp16 D64 S=640 first=q_tail_half step=q_tail_half", Sq=640,
                     Skv1=300, Skv2=640, D=64, dtype=torch.float16, first="q_tail_half",
                     step="q_tail_half", backend=backend)
    for dtype in [torch.bfloat16, torch.float16]:
        for step in ["causal_strict", "q_tail_half"]:
            check_accumulate(f"{pre} {str(dtype)[6:]} D256 step={step}", D=256, dtype=dtype,
                             step=step, backend=backend)
    # a typed out is refused with a clear message
    t = {n: torch.zeros(1, 4, 64, 64, device=dev).to(torch.bfloat16) for n in ("q", "k", "v",
                                                                                "out")}
    t["lse"] = torch.zeros(1, 4, 64, device=dev)
    a = attn_desc(1, 4, 4, 64, 64, 64, torch.bfloat16, torch.bfloat16, "not_causal", 0.125, t,
                  {})
    a.backend = backend
    a.accumulate = 1
    rc = LIB.cprt_cuda_attention_forward(C.byref(a))
    msg = LIB.cprt_cuda_last_error().decode()
    report(f"{pre} typed out rejected", rc != 0 and "fp32 out" in msg, msg)


def merge_and_permute():
    rows, d = 1000, 128
    o1, o2 = torch.randn(rows, d, device=dev), torch.randn(rows, d, device=dev)
    l1, l2 = torch.randn(rows, device=dev) * 3, torch.randn(rows, device=dev) * 3
    l1[::7] = float("-inf")
    l2[::5] = float("-inf")
    o1[::7] = 0
    o2[::5] = 0
    o1d, o2d, l1d, l2d = o1.double(), o2.double(), l1.double(), l2.double()
    lr = torch.logaddexp(l1d, l2d)
    ls = torch.where(torch.isinf(lr), torch.zeros_like(lr), lr)
    orf = torch.exp(l1d - ls)[:, None] * o1d + torch.exp(l2d - ls)[:, None] * o2d
    out, lse = o1.clone(), l1.clone()
    cc.check(LIB, LIB.cprt_cuda_merge(out.data_ptr(), lse.data_ptr(), o2.data_ptr(),
                                      l2.data_ptr(), rows, d, None), "merge")
    torch.cuda.synchronize()
    fin = torch.isfinite(lr)
    ok = (not torch.isnan(out).any() and relerr(out, orf) < 1e-6 and
          torch.all(lse[~fin] == float("-inf")) and
          (lse.double()[fin] - lr[fin]).abs().max().item() < 1e-5)
    report("merge fp32 (with -inf rows)", bool(ok))
    # gather / scatter round trip with padding
    outer, S, L, inner = 6, 100, 60, 48
    x = torch.randn(outer, S, inner // 4, device=dev)
    idx = torch.randperm(S, device=dev)[:L]
    idx[::9] = -1
    g = torch.full((outer, L, inner // 4), float("nan"), device=dev)
    cc.check(LIB, LIB.cprt_cuda_gather_rows(x.data_ptr(), g.data_ptr(), idx.data_ptr(), outer,
                                            S, L, inner, None), "gather")
    y = torch.zeros_like(x)
    cc.check(LIB, LIB.cprt_cuda_scatter_rows(g.data_ptr(), y.data_ptr(), idx.data_ptr(), outer,
                                             L, S, inner, None), "scatter")
    torch.cuda.synchronize()
    ref_g = torch.where((idx >= 0)[None, :, None], x[:, idx.clamp(min=0)], torch.zeros(()).to(x))
    ref_y = torch.zeros_like(x)
    ref_y[:, idx[idx >= 0]] = x[:, idx[idx >= 0]]
    report("gather/scatter rows", bool(torch.equal(g, ref_g) and torch.equal(y, ref_y)))


def run_ring(world, balancer, rotate, causal, B=1, Hq=4, Hkv=2, S=512, D=64,
             dtype=torch.bfloat16, backward=True, window=0, docs=False, transport=0, iters=0,
             tensors=None, check_ref=True, name=None, cpu_oracle=False, backend=0,
             ulysses=0):
    if tensors is None:
        q = torch.randn(B, Hq, S, D, device=dev).to(dtype)
        k = torch.randn(B, Hkv, S, D, device=dev).to(dtype)
        v = torch.randn(B, Hkv, S, D, device=dev).to(dtype)
        dout = torch.randn(B, Hq, S, D, device=dev).to(dtype)
    else:
        q, k, v, dout = tensors
    out = torch.full_like(q, float("nan"))
    lse = torch.full((B, Hq, S), float("nan"), device=dev)
    dq, dk, dv = (torch.full_like(x, float("nan")) for x in (q, k, v))
    r = cc.Ring()
    r.world, r.transport, r.balancer, r.rotate = world, transport, cc.BALANCER[balancer], \
        cc.ROTATE[rotate]
    r.causal, r.backward, r.window_left = int(causal), int(backward), window
    r.backend = backend
    r.ulysses_size = ulysses
    r.batch, r.heads_q, r.heads_kv, r.seq, r.head_dim, r.dtype = B, Hq, Hkv, S, D, DT[dtype]
    dids = None
    if docs:
        dids = torch.cumsum((torch.rand(S) < 0.02).int(), 0).int()
        r.doc_ids_host = dids.data_ptr()
    for nm, t in (("q", q), ("k", k), ("v", v), ("out", out), ("lse", lse), ("dout", dout),
                  ("dq", dq), ("dk", dk), ("dv", dv)):
        setattr(r, nm, t.data_ptr())
    ms = C.c_float(0)
    r.iters = iters
    r.ms_per_iter_host = C.addressof(ms)
    cc.check(LIB, LIB.cprt_cuda_ring_run(C.byref(r)), f"ring W={world}")
    torch.cuda.synchronize()
    if not check_ref:
        return ms.value, r
    cpu_errs = []
    if cpu_oracle:
        # the same ring on the CPU backend (the runtime's oracle), same inputs
        outs = [torch.full_like(x, float("nan")) for x in (out, lse, dq, dk, dv)]
        r2 = cc.Ring.from_buffer_copy(r)
        r2.transport = 2
        r2.iters = 0
        for nm, t in zip(("out", "lse", "dq", "dk", "dv"), outs):
            setattr(r2, nm, t.data_ptr())
        cc.check(LIB, LIB.cprt_cuda_ring_run(C.byref(r2)), f"cpu ring W={world}")
        torch.cuda.synchronize()
        gpu = (out, lse, dq, dk, dv) if backward else (out, lse)
        for g, c in zip(gpu, outs):
            fin = torch.isfinite(c)
            cpu_errs.append(relerr(g[fin], c[fin].double()))
    vis, _ = visibility(B, Hq, S, S, "not_causal", causal=causal, window=window,
                        docs=dids.to(dev) if docs else None)
    scale = 1.0 / math.sqrt(D)
    if backward:
        ro, rl, rdq, rdk, rdv = reference(q, k, v, vis, None, scale, dout)
    else:
        ro, rl = reference(q, k, v, vis, None, scale)
    fin = torch.isfinite(rl)
    errs = [relerr(out, ro), (lse.double()[fin] - rl[fin]).abs().max().item()]
    if backward:
        errs += [relerr(dq, rdq), relerr(dk, rdk), relerr(dv, rdv)]
    ok = all(e <= TOL for e in errs + cpu_errs) and not torch.isnan(lse).any()
    name = name or (f"ring {'nccl' if transport else 'virtual'}{' cudnn' if backend else ''} W={world} {balancer} {rotate} "
                    f"{'causal' if causal else 'full'}" + (f" window{window}" if window else "")
                    + (" docs" if docs else "")
                    + (f" ulysses{ulysses}" if ulysses > 1 else ""))
    report(name + (" (+cpu oracle)" if cpu_oracle else ""), ok,
           " ".join(f"{e:.1e}" for e in errs) +
           (" | vs cpu " + " ".join(f"{e:.1e}" for e in cpu_errs) if cpu_errs else "") +
           f" steps {r.steps_computed}+{r.steps_skipped} comm {r.comm_ops}")
    return ms.value, r


def ring_suite(quick):
    worlds = [1, 2, 3, 4, 8]
    for W in worlds:
        for bal in ["none", "headtail", "striped"]:
            run_ring(W, bal, "ring", True, cpu_oracle=(bal == "headtail"))
        run_ring(W, "none", "ring", False, dtype=torch.float16, D=128)
    for W in [2, 4] if quick else [2, 3, 4, 8]:
        run_ring(W, "headtail", "allgather", True)
        run_ring(W, "headtail", "alltoall", True)
        run_ring(W, "ptrr", "ring", True)
        run_ring(W, "perdoc", "ring", True, docs=True, cpu_oracle=True)
        run_ring(W, "headtail", "ring", True, window=100, cpu_oracle=True)
        run_ring(W, "headtail", "ring", True, S=500)  # padding (S % 2W != 0)
    run_ring(4, "headtail", "ring", True, B=2, Hq=8, Hkv=8, S=1024, D=128)
    hybrid_suite(quick)
    # NCCL communicator with one rank (one GPU lent)
    for rot in ["ring", "allgather", "alltoall"]:
        run_ring(1, "headtail", rot, True, transport=1)


def hybrid_suite(quick):
    """Ulysses (ulysses_size == world) and the hybrid 2-D strategy (Ulysses
    groups x a ring) on virtual ranks, device memory end to end, forward and
    backward against the float64 reference: KV heads split (Hkv % U == 0) and
    replicated (U % Hkv == 0), padding (S % 2W != 0), fp16, causal and not."""
    cases = [(2, 2, "headtail", True, {}), (4, 4, "headtail", True, {}),
             (4, 2, "headtail", True, {}), (4, 2, "none", False, {}),
             (4, 4, "headtail", True, dict(Hq=8, Hkv=8)),
             (4, 2, "headtail", True, dict(S=500)),
             (4, 2, "striped", True, dict(dtype=torch.float16, D=128))]
    if not quick:
        cases += [(8, 2, "headtail", True, dict(Hq=8, Hkv=2)),
                  (8, 4, "headtail", True, dict(Hq=8, Hkv=2)),
                  (8, 8, "none", True, dict(Hq=8, Hkv=1)),
                  (6, 3, "headtail", True, dict(Hq=6, Hkv=3, S=600))]
    else:
        cases += [(8, 4, "headtail", True, dict(Hq=8, Hkv=2))]
    for W, U, bal, causal, kw in cases:
        run_ring(W, bal, "ring", causal, ulysses=U, **kw)


def fwd_counts():
    """(Hopper kernel enabled, Hopper launches, mma.sync launches) so far."""
    h, m = C.c_int64(0), C.c_int64(0)
    on = LIB.cprt_cuda_forward_kernel_counts(C.byref(h), C.byref(m))
    return bool(on), h.value, m.value


def runs_kernel(name, want, fn, mma_too=False):
    """Runs fn (which reports its own numbers) and checks which flash forward
    kernel it launched: want "hopper" (every launch, or at least one when
    mma_too) or "mma" (no Hopper launch)."""
    _, h0, m0 = fwd_counts()
    fn()
    _, h1, m1 = fwd_counts()
    dh, dm = h1 - h0, m1 - m0
    ok = (dh > 0 and (mma_too or dm == 0)) if want == "hopper" else (dh == 0 and dm > 0)
    report(f"{name} [{want}]", ok, f"launches: hopper {dh}, mma.sync {dm}")


def hopper_suite():
    """Forwards that the Hopper (sm_90a) kernel takes on an sm_90 device
    when built and not forced off (CPRT_HOPPER_FWD=0), else the mma.sync kernels:
    every step behaviour, ragged S (not a multiple of the 128-row / 128-key tiles),
    GQA, accumulate mode and rings, against the float64 reference; problems it
    must decline go to mma.sync. bf16 D=128 first, then every other element
    type / head dim (hopper_config_cases)."""
    on = fwd_counts()[0]
    hop = on and torch.cuda.get_device_capability() == (9, 0)
    want = "hopper" if hop else "mma"
    print(f"hopper suite: kernel built and enabled {on}, device "
          f"{torch.cuda.get_device_capability()}: expecting {want}")
    bf = torch.bfloat16
    for step in cc.STEP:
        runs_kernel(f"hopper step={step} 640", want, lambda: check_kernel(
            f"hopper step={step} 640", D=128, step=step, Sq=640, Skv=640, backward=False))
    for nm, kw in (("ragged 1000x777 causal", dict(Sq=1000, Skv=777, step="causal")),
                   ("ragged 777x1500 q_tail_half", dict(Sq=777, Skv=1500, step="q_tail_half")),
                   ("ragged 300x1000 kv_head_half", dict(Sq=300, Skv=1000, step="kv_head_half")),
                   ("ragged 129x257 causal_strict", dict(Sq=129, Skv=257, step="causal_strict")),
                   ("tiny 1x1", dict(Sq=1, Skv=1)),
                   ("gqa 8:2 B2 1000 causal", dict(B=2, Hq=8, Hkv=2, Sq=1000, Skv=1000,
                                                   step="causal", sdpa="causal")),
                   ("gqa 16:1 300 plain", dict(Hq=16, Hkv=1, Sq=300, Skv=300, sdpa="plain")),
                   ("S=4096 causal", dict(Sq=4096, Skv=4096, step="causal", sdpa="causal"))):
        runs_kernel(f"hopper {nm}", want, lambda: check_kernel(
            f"hopper {nm}", D=128, backward=False, **kw))
    # fp32 out (not accumulating: the accumulating kernel into a (0, -inf) partial),
    # with rows that see nothing
    for step in ("not_causal", "causal", "causal_strict", "q_tail_half", "skip"):
        runs_kernel(f"hopper out fp32 step={step} 700x500", want, lambda: check_kernel(
            f"hopper out fp32 step={step} 700x500", D=128, step=step, Sq=700, Skv=500,
            out_dtype=torch.float32, backward=False))
    # declined: masks beyond the step behaviour (positions, windows), at every head dim
    for nm, kw in (("positions causal", dict(positions=True, causal=True)),
                   ("fp16 D64 window 40", dict(dtype=torch.float16, D=64, window=40)),
                   ("D256 positions", dict(D=256, positions=True))):
        kw.setdefault("D", 128)
        runs_kernel(f"hopper declines {nm}", "mma", lambda: check_kernel(
            f"hopper declines {nm}", Sq=300, Skv=300, backward=False, **kw))
    for step in cc.STEP:
        nm = f"hopper accumulate step={step}"
        if step == "skip":  # nothing to merge: the backend launches no kernel
            check_accumulate(nm, D=128, step=step)
            continue
        runs_kernel(nm, want, lambda: check_accumulate(nm, D=128, Sq=640, Skv1=500, Skv2=640,
                                                       step=step))
    runs_kernel("hopper accumulate gqa 8:2 B2 causal_strict", want, lambda: check_accumulate(
        "hopper accumulate gqa 8:2 B2 causal_strict", B=2, Hq=8, Hkv=2, D=128, Sq=700,
        Skv1=300, Skv2=700, step="causal_strict", first="causal"))
    runs_kernel("hopper accumulate ragged 1000x(777+1000) q_tail_half", want,
                lambda: check_accumulate("hopper accumulate ragged 1000x(777+1000) q_tail_half",
                                         D=128, Sq=1000, Skv1=777, Skv2=1000, first="q_tail_half",
                                         step="q_tail_half"))
    # the same problem through Hopper and through mma.sync (the oracle), same inputs
    if hop:
        hopper_vs_mma(4096, True)
        hopper_vs_mma(3000, False)
    # rings: every ring step's forward (bf16, D=128)
    for W, bal, causal in ((2, "headtail", True), (4, "headtail", True), (8, "headtail", True),
                           (4, "none", True), (4, "striped", True), (3, "headtail", False),
                           (8, "none", False)):
        nm = f"hopper ring W={W} {bal} {'causal' if causal else 'full'}"
        # S % 2W == 0: no padding (S=2304 for W=3)
        runs_kernel(nm, want, lambda: run_ring(W, bal, "ring", causal, Hq=4, Hkv=2,
                                               S=2304 if W == 3 else 2048, D=128,
                                               backward=False, name=nm))
    # a padded ring (2048 % 6 != 0) masks the pads by position: mma.sync
    runs_kernel("hopper declines padded ring W=3", "mma", lambda: run_ring(
        3, "headtail", "ring", False, Hq=4, Hkv=2, S=2048, D=128, backward=False,
        name="hopper declines padded ring W=3 (S=2048)"))
    runs_kernel("hopper ring W=4 headtail causal f+b", want, lambda: run_ring(
        4, "headtail", "ring", True, B=2, Hq=8, Hkv=8, S=1000, D=128,
        name="hopper ring W=4 headtail causal f+b (S=1000)"))
    # the other element type / head dim instantiations of the kernel
    for dtype, D in ((torch.bfloat16, 64), (torch.float16, 64), (torch.float16, 128),
                     (torch.bfloat16, 256), (torch.float16, 256)):
        hopper_config_cases(dtype, D, want, hop)
    # kernel 9 (3 K/V stages, CPRT_HOPPER_VARIANT=9) where it fits in shared memory
    with env_var("CPRT_HOPPER_VARIANT", "9"):
        for dtype, D in ((torch.bfloat16, 64), (torch.float16, 64), (torch.float16, 128)):
            tag = f"hopper 3-stage {str(dtype)[6:]} D{D}"
            runs_kernel(f"{tag} ragged 1000x777 causal", want, lambda: check_kernel(
                f"{tag} ragged 1000x777 causal", D=D, dtype=dtype, step="causal", Sq=1000,
                Skv=777, backward=False))
            runs_kernel(f"{tag} gqa 8:2 S=2048 plain", want, lambda: check_kernel(
                f"{tag} gqa 8:2 S=2048 plain", Hq=8, Hkv=2, D=D, dtype=dtype, Sq=2048,
                Skv=2048, sdpa="plain", backward=False))
            runs_kernel(f"{tag} accumulate causal_strict", want, lambda: check_accumulate(
                f"{tag} accumulate causal_strict", D=D, dtype=dtype, Sq=700, Skv1=300,
                Skv2=700, step="causal_strict"))


class env_var:
    """Sets an environment variable for a with-block (the runtime reads
    CPRT_HOPPER_FWD / CPRT_HOPPER_VARIANT on every call)."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __enter__(self):
        import os
        self.old = os.environ.get(self.name)
        os.environ[self.name] = self.value

    def __exit__(self, *exc):
        import os
        if self.old is None:
            del os.environ[self.name]
        else:
            os.environ[self.name] = self.old


def hopper_config_cases(dtype, D, want, hop):
    """The Hopper kernel at one (element type, head dim) other than bf16 D=128
    (its own template instance: wgmma type suffix, P packing, TMA data type,
    panels per tile, 64-key tiles at D=256): every step behaviour, ragged S (not
    a multiple of the 128-row / 128- or 64-key tiles), GQA, fp32 out, accumulate
    mode, rings, and against the mma.sync kernels on the same inputs."""
    tag = f"hopper {str(dtype)[6:]} D{D}"
    for step in cc.STEP:
        runs_kernel(f"{tag} step={step} 640", want, lambda: check_kernel(
            f"{tag} step={step} 640", D=D, dtype=dtype, step=step, Sq=640, Skv=640,
            backward=False))
    for nm, kw in (("ragged 1000x777 causal", dict(Sq=1000, Skv=777, step="causal")),
                   ("ragged 777x1500 q_tail_half", dict(Sq=777, Skv=1500, step="q_tail_half")),
                   ("ragged 300x1000 kv_head_half", dict(Sq=300, Skv=1000, step="kv_head_half")),
                   ("ragged 129x257 causal_strict", dict(Sq=129, Skv=257, step="causal_strict")),
                   ("ragged 200x100 causal_strict", dict(Sq=200, Skv=100, step="causal_strict")),
                   ("tiny 1x1", dict(Sq=1, Skv=1)),
                   ("gqa 8:2 B2 1000 causal", dict(B=2, Hq=8, Hkv=2, Sq=1000, Skv=1000,
                                                   step="causal", sdpa="causal")),
                   ("gqa 16:1 300 plain", dict(Hq=16, Hkv=1, Sq=300, Skv=300, sdpa="plain")),
                   ("S=2048 causal", dict(Sq=2048, Skv=2048, step="causal", sdpa="causal"))):
        runs_kernel(f"{tag} {nm}", want, lambda: check_kernel(
            f"{tag} {nm}", D=D, dtype=dtype, backward=False, **kw))
    for step in ("not_causal", "causal_strict", "q_tail_half", "skip"):
        runs_kernel(f"{tag} out fp32 step={step} 700x500", want, lambda: check_kernel(
            f"{tag} out fp32 step={step} 700x500", D=D, dtype=dtype, step=step, Sq=700,
            Skv=500, out_dtype=torch.float32, backward=False))
    for step in cc.STEP:
        nm = f"{tag} accumulate step={step}"
        if step == "skip":  # nothing to merge: the backend launches no kernel
            check_accumulate(nm, D=D, dtype=dtype, step=step)
            continue
        runs_kernel(nm, want, lambda: check_accumulate(nm, D=D, dtype=dtype, Sq=640, Skv1=500,
                                                       Skv2=640, step=step))
    runs_kernel(f"{tag} accumulate gqa 8:2 B2 causal_strict", want, lambda: check_accumulate(
        f"{tag} accumulate gqa 8:2 B2 causal_strict", B=2, Hq=8, Hkv=2, D=D, dtype=dtype,
        Sq=700, Skv1=300, Skv2=700, step="causal_strict", first="causal"))
    runs_kernel(f"{tag} accumulate ragged 1000x(777+1000) q_tail_half", want,
                lambda: check_accumulate(f"{tag} accumulate ragged 1000x(777+1000) q_tail_half",
                                         D=D, dtype=dtype, Sq=1000, Skv1=777, Skv2=1000,
                                         first="q_tail_half", step="q_tail_half"))
    if hop:
        hopper_vs_mma(2048, True, dtype=dtype, D=D)
        hopper_vs_mma(1500, False, dtype=dtype, D=D)
    # rings (forward): head-tail causal (every ring step's behaviour) and a full one
    for W, bal, causal, S in ((4, "headtail", True, 2048), (3, "headtail", False, 2304)):
        nm = f"{tag} ring W={W} {bal} {'causal' if causal else 'full'}"
        runs_kernel(nm, want, lambda: run_ring(W, bal, "ring", causal, Hq=4, Hkv=2, S=S, D=D,
                                               dtype=dtype, backward=False, name=nm))
    if D <= 128:  # the backward (mma.sync) on the Hopper forward's out / LSE
        nm = f"{tag} ring W=4 headtail causal f+b (S=1000)"
        runs_kernel(nm, want, lambda: run_ring(4, "headtail", "ring", True, B=2, Hq=8, Hkv=8,
                                               S=1000, D=D, dtype=dtype, name=nm))


def hopper_vs_mma(S, causal, Hq=8, Hkv=4, dtype=torch.bfloat16, D=128):
    """out / lse of the Hopper kernel against the mma.sync kernels (CPRT_HOPPER_FWD=0)."""
    import os
    q = torch.randn(1, Hq, S, D, device=dev).to(dtype)
    k = torch.randn(1, Hkv, S, D, device=dev).to(dtype)
    v = torch.randn(1, Hkv, S, D, device=dev).to(dtype)
    res = []
    for force_off in (False, True):
        out = torch.full_like(q, float("nan"))
        lse = torch.full((1, Hq, S), float("nan"), device=dev)
        step = "causal" if causal else "not_causal"
        a = attn_desc(1, Hq, Hkv, S, S, D, dtype, dtype, step,
                      1 / math.sqrt(D), {"q": q, "k": k, "v": v, "out": out, "lse": lse}, {})
        old = os.environ.get("CPRT_HOPPER_FWD")
        if force_off:
            os.environ["CPRT_HOPPER_FWD"] = "0"
        try:
            cc.check(LIB, LIB.cprt_cuda_attention_forward(C.byref(a)), "hopper vs mma")
        finally:
            if force_off:
                if old is None:
                    del os.environ["CPRT_HOPPER_FWD"]
                else:
                    os.environ["CPRT_HOPPER_FWD"] = old
        torch.cuda.synchronize()
        res.append((out, lse))
    eo = relerr(res[0][0], res[1][0].double())
    el = (res[0][1] - res[1][1]).abs().max().item()
    tag = "" if (dtype, D) == (torch.bfloat16, 128) else f" {str(dtype)[6:]} D{D}"
    report(f"hopper{tag} vs mma.sync S={S} {'causal' if causal else 'full'} gqa {Hq}:{Hkv}",
           eo <= TOL and el <= TOL, f"out {eo:.1e} lse {el:.1e}")


def cudnn_suite():
    """The cuDNN backend (and its flash fallback) against the same references."""
    for dtype, D in itertools.product([torch.bfloat16, torch.float16], [64, 128]):
        tag = f"{str(dtype)[6:]} D{D}"
        for step in cc.STEP:
            check_kernel(f"cudnn {tag} step={step}", D=D, dtype=dtype, step=step, Sq=192,
                         Skv=192, backend=1)
        check_kernel(f"cudnn {tag} gqa 8:2 causal", Hq=8, Hkv=2, D=D, dtype=dtype,
                     step="causal", Sq=256, Skv=256, sdpa="causal", backend=1)
        check_kernel(f"cudnn {tag} out fp32 ragged 100x77", D=D, dtype=dtype,
                     out_dtype=torch.float32, Sq=100, Skv=77, backend=1)
        check_kernel(f"cudnn {tag} window (flash fallback)", D=D, dtype=dtype, window=40,
                     backend=1)
    for W in [1, 2, 4, 8]:
        run_ring(W, "headtail", "ring", True, backend=1)
        run_ring(W, "none", "ring", False, D=128, backend=1)
    accumulate_suite(backend=1)


def auto_suite():
    """backend 2: per problem the faster of flash and cuDNN (measured on the
    first call); every path must meet the same references."""
    for dtype, D in itertools.product([torch.bfloat16, torch.float16], [64, 128]):
        tag = f"{str(dtype)[6:]} D{D}"
        for step in ["not_causal", "causal", "kv_head_half", "q_tail_half", "causal_strict"]:
            check_kernel(f"auto {tag} step={step}", D=D, dtype=dtype, step=step, Sq=320,
                         Skv=320, backend=2)
        check_kernel(f"auto {tag} gqa 8:2 causal 1024", Hq=8, Hkv=2, D=D, dtype=dtype,
                     step="causal", Sq=1024, Skv=1024, sdpa="causal", backend=2)
        check_kernel(f"auto {tag} window (flash path)", D=D, dtype=dtype, window=40, backend=2)
    for W in [1, 2, 4]:
        run_ring(W, "headtail", "ring", True, S=2048, D=128, backend=2)
        run_ring(W, "none", "alltoall", False, S=1000, D=128, backend=2)
    accumulate_suite(backend=2)


def comm_suite():
    for W in [1, 2, 3, 4, 8]:
        rc = LIB.cprt_cuda_comm_test(0, W, -1, 20000)
        report(f"comm virtual W={W} shift/allgather/alltoallv/reducescatter/barrier", rc == 0,
               LIB.cprt_cuda_last_error().decode())
    rc = LIB.cprt_cuda_comm_test(1, 1, -1, 20000)
    report("comm nccl W=1 shift/allgather/alltoallv/reducescatter/barrier", rc == 0,
           LIB.cprt_cuda_last_error().decode())
    for W in [2, 4]:
        t = time.time()
        rc = LIB.cprt_cuda_comm_test(0, W, W - 1, 1000)
        dt = time.time() - t
        msg = LIB.cprt_cuda_last_error().decode()
        report(f"comm virtual W={W} silent rank fails in time", rc == 3 and dt < 5,
               f"rc {rc} after {dt:.1f} s: {msg}")


def errors_suite():
    # Invalid arguments come back as an error message, not a crash.
    a = cc.Attn()
    a.batch, a.heads_q, a.heads_kv, a.seq_q, a.seq_kv, a.head_dim = 1, 3, 2, 8, 8, 64
    a.dtype = 1
    rc = LIB.cprt_cuda_attention_forward(C.byref(a))
    msg = LIB.cprt_cuda_last_error().decode()
    report("invalid GQA heads rejected", rc != 0 and "multiple" in msg, msg)


def main():
    global LIB
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--cudnn", action="store_true",
                    help="test the cuDNN and auto backends (default: when the library has them)")
    args = ap.parse_args()
    LIB = cc.load(args.lib)
    # cuDNN suites run whenever the library has the cuDNN backend.
    has_cudnn = args.cudnn or LIB.cprt_cuda_default_backend() == 2
    torch.manual_seed(int(time.time()))
    t0 = time.time()
    suites = {"kernels": lambda: kernel_suite(args.quick), "merge": merge_and_permute,
              "accumulate": accumulate_suite,
              "rings": lambda: ring_suite(args.quick), "cudnn": cudnn_suite, "comm": comm_suite,
              "errors": errors_suite, "hopper": hopper_suite,
              # the cuDNN accumulate cases alone (also part of "cudnn")
              "accumulate_cudnn": lambda: accumulate_suite(backend=1), "auto": auto_suite}
    only = args.only.split(",") if args.only else []
    for name, fn in suites.items():
        if only and name not in only:
            continue
        if name in ("cudnn", "auto") and not (has_cudnn or name in only):
            print(f"suite {name}: not run (library built without the cuDNN backend)")
            continue
        if name == "accumulate_cudnn" and name not in only:
            continue
        try:
            fn()
        except Exception as e:  # a crash in a suite is a failure, keep going
            report(f"suite {name} raised", False, repr(e))
    bad = [r for r in results if not r[1]]
    print(f"\n{len(results) - len(bad)}/{len(results)} GPU checks passed "
          f"({time.time() - t0:.0f} s)")
    for r in bad:
        print("FAILED:", r[0], r[2])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
