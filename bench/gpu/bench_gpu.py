#!/usr/bin/env python3
"""GPU benchmarks: our flash kernels, cuDNN and auto backends vs PyTorch SDPA (flash, cuDNN), and the
ring over N virtual ranks on one GPU vs one plain attention of the same work.

B=1, H=16, D=128, bf16; S in {4096, 16384, 32768}; causal and not; the ring at
S=32768 (--ring-seq).
TFLOP/s: forward counts 4*B*H*S*S*D (half when causal); forward+backward
counts 3.5x the forward. Times are medians of CUDA-event timings
(triton.testing.do_bench) after warm-up; ring times are host wall time per
iteration with all ranks synchronised (includes launch/rendezvous cost).

  python3 bench/gpu/bench_gpu.py --lib build-gpu/src/cuda/libcprt_cuda.so --out bench.md
"""
import argparse
import ctypes as C
import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "runtime", "test", "gpu"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from triton.testing import do_bench  # noqa: E402

import cprt_cuda as cc  # noqa: E402

B, H, D = 1, 16, 128
dt = torch.bfloat16


def flops(S, causal, fb=False):
    f = 4.0 * B * H * S * S * D * (0.5 if causal else 1.0)
    return f * (3.5 if fb else 1.0)


def bench(fn):
    return do_bench(fn, warmup=50, rep=300, return_mode="median")  # ms


def ours(lib, q, k, v, causal, backend=0):
    S = q.shape[2]
    out = torch.empty_like(q)
    lse = torch.empty(B, H, S, device="cuda")
    dout = torch.randn_like(q)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    a = cc.self_attention(q, k, v, out, lse, causal, backend,
                          torch.cuda.current_stream().cuda_stream, dout, dq, dk, dv)
    ref = C.byref(a)

    def fwd():
        lib.cprt_cuda_attention_forward(ref)

    def fb():
        lib.cprt_cuda_attention_forward(ref)
        lib.cprt_cuda_attention_backward(ref)

    fwd()
    cc.check(lib, lib.cprt_cuda_attention_backward(ref), "bwd")
    torch.cuda.synchronize()
    return bench(fwd), bench(fb)


def torch_sdpa(backend, q, k, v, causal):
    qg, kg, vg = (x.detach().clone().requires_grad_() for x in (q, k, v))
    dout = torch.randn_like(q)
    with sdpa_kernel([backend]):
        def fwd():
            with torch.no_grad():
                F.scaled_dot_product_attention(q, k, v, is_causal=causal)

        def fb():
            o = F.scaled_dot_product_attention(qg, kg, vg, is_causal=causal)
            o.backward(dout)

        try:
            return bench(fwd), bench(fb)
        except Exception as e:  # backend unavailable for this shape
            print("  ", backend, "failed:", repr(e)[:200])
            return float("nan"), float("nan")


def ring(lib, S, W, causal, backward, balancer="headtail", iters=5, backend=0):
    q = torch.randn(B, H, S, D, device="cuda", dtype=dt)
    k, v, dout = torch.randn_like(q), torch.randn_like(q), torch.randn_like(q)
    out, dq, dk, dv = (torch.empty_like(q) for _ in range(4))
    lse = torch.empty(B, H, S, device="cuda")
    r = cc.Ring()
    r.world, r.transport, r.balancer, r.rotate = W, 0, cc.BALANCER[balancer], cc.ROTATE["ring"]
    r.causal, r.backward = int(causal), int(backward)
    r.backend = backend
    r.batch, r.heads_q, r.heads_kv, r.seq, r.head_dim = B, H, H, S, D
    r.dtype = {torch.bfloat16: 1, torch.float16: 2}[dt]
    for n, t in (("q", q), ("k", k), ("v", v), ("out", out), ("lse", lse), ("dout", dout),
                 ("dq", dq), ("dk", dk), ("dv", dv)):
        setattr(r, n, t.data_ptr())
    ms = C.c_float(0)
    r.iters = iters
    r.ms_per_iter_host = C.addressof(ms)
    cc.check(lib, lib.cprt_cuda_ring_run(C.byref(r)), f"ring W={W}")
    return ms.value


BACKENDS = {0: "flash", 1: "cuDNN", 2: "auto"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seqs", default="4096,16384,32768")
    ap.add_argument("--ring-seq", type=int, default=32768)
    ap.add_argument("--skip-ring", action="store_true")
    ap.add_argument("--cudnn", type=int, default=-1,
                    help="time our cuDNN and auto backends too (default: when the library has them)")
    ap.add_argument("--backends", default=None,
                    help="comma list of ours to time: 0 flash, 1 cuDNN, 2 auto (default: all built)")
    args = ap.parse_args()
    lib = cc.load(args.lib)
    has_cudnn = lib.cprt_cuda_default_backend() == 2 if args.cudnn < 0 else bool(args.cudnn)
    backends = (0, 1, 2) if has_cudnn else (0,)
    if args.backends:
        backends = tuple(int(x) for x in args.backends.split(","))
    torch.manual_seed(0)
    name = torch.cuda.get_device_name()
    ours_cols = [BACKENDS[b] for b in backends]
    head = (["S", "causal"] + [f"ours {c} fwd" for c in ours_cols] +
            ["torch flash fwd", "torch cuDNN fwd"] + [f"ours {c} f+b" for c in ours_cols] +
            ["torch flash f+b", "torch cuDNN f+b"])
    lines = [f"Device: {name}; date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
             f"torch {torch.__version__}; ours: flash = our mma.sync kernels, cuDNN = our cuDNN "
             "backend, auto = the runtime's default (faster of the two, measured per problem)",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    plain = {}
    for S in [int(x) for x in args.seqs.split(",")]:
        for causal in (False, True):
            q = torch.randn(B, H, S, D, device="cuda", dtype=dt)
            k, v = torch.randn_like(q), torch.randn_like(q)
            for be in backends:
                plain[(S, causal, be)] = ours(lib, q, k, v, causal, backend=be)
            ff, ffb = torch_sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, causal)
            cf, cfb = torch_sdpa(SDPBackend.CUDNN_ATTENTION, q, k, v, causal)
            tf = lambda ms, fb=False: flops(S, causal, fb) / (ms * 1e-3) / 1e12  # noqa: E731
            cells = ([f"{tf(plain[(S, causal, be)][0]):.0f}" for be in backends] +
                     [f"{tf(ff):.0f}", f"{tf(cf):.0f}"] +
                     [f"{tf(plain[(S, causal, be)][1], True):.0f}" for be in backends] +
                     [f"{tf(ffb, True):.0f}", f"{tf(cfb, True):.0f}"])
            row = f"| {S} | {'yes' if causal else 'no'} | " + " | ".join(cells) + " |"
            lines.append(row)
            print(row, flush=True)
            del q, k, v
            torch.cuda.empty_cache()
    if not args.skip_ring:
        S = args.ring_seq
        lines += ["", f"Ring over N virtual ranks on this one GPU, S={S} total, head-tail "
                  "balancing, p2p rotation; ms per iteration (all ranks, host wall time) and "
                  "efficiency = plain single attention (same backend) / ring.", "",
                  "| backend | N | causal | fwd ms | fwd eff | f+b ms | f+b eff |",
                  "|---|---|---|---|---|---|---|"]
        for be in backends:
            for causal in (False, True):
                if (S, causal, be) not in plain:
                    q = torch.randn(B, H, S, D, device="cuda", dtype=dt)
                    plain[(S, causal, be)] = ours(lib, q, q.clone(), q.clone(), causal, be)
                pf, pfb = plain[(S, causal, be)]
                for W in (1, 2, 4, 8):
                    rf = ring(lib, S, W, causal, False, backend=be)
                    rfb = ring(lib, S, W, causal, True, backend=be)
                    row = (f"| {BACKENDS[be]} | {W} | {'yes' if causal else 'no'} | "
                           f"{rf:.2f} | {pf / rf:.0%} | {rfb:.2f} | {pfb / rfb:.0%} |")
                    lines.append(row)
                    print(row, flush=True)
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
