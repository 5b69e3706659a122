#!/usr/bin/env python3
"""Forward tile variants of our flash kernel (bf16, D=128), one process each
(CPRT_FWD_VARIANT is read once per process; see launchVariant in
runtime/src/cuda/FlashForward.cu). Each variant is first checked against
torch SDPA (relative Frobenius error <= 1e-2, no NaN), then timed (TFLOP/s,
median of triton do_bench) at B=1, H=16, S in {16384, 32768}, full and causal.

  python3 bench/gpu/bench_variants.py --lib build-gpu/src/cuda/libcprt_cuda.so
"""
import argparse
import ctypes as C
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = {0: "default: 4 warps x 32 rows, 64 keys, rescale skip",
         1: "4 warps x 32 rows, 32 keys (default until 2026-11-30)",
         2: "4 warps x 32 rows, 64 keys, no rescale skip"}


def child(lib_path, seqs):
    sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "test", "gpu"))
    import torch
    import torch.nn.functional as F
    from triton.testing import do_bench
    import cprt_cuda as cc
    lib = cc.load(lib_path)
    B, H, D = 1, 16, 128

    def run(q, k, v, causal):
        S = q.shape[2]
        out = torch.empty_like(q)
        lse = torch.empty(B, H, S, device="cuda")
        a = cc.self_attention(q, k, v, out, lse, causal, 0,
                              torch.cuda.current_stream().cuda_stream)
        ref = C.byref(a)
        cc.check(lib, lib.cprt_cuda_attention_forward(ref), "forward")
        return out, lambda: lib.cprt_cuda_attention_forward(ref)

    ok = True
    for causal in (False, True):
        q, k, v = (torch.randn(B, H, 1000, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        out, _ = run(q, k, v, causal)
        want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal)
        err = ((out.double() - want).norm() / want.norm()).item()
        good = err <= 1e-2 and not torch.isnan(out).any().item()
        ok = ok and good
        print(f"check causal={causal} S=1000 rel err {err:.2e} {'ok' if good else 'FAIL'}", flush=True)
    res = []
    for S in seqs:
        for causal in (False, True):
            q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            _, fn = run(q, k, v, causal)
            ms = do_bench(fn, warmup=25, rep=200, return_mode="median")
            tf = 4.0 * B * H * S * S * D * (0.5 if causal else 1.0) / (ms * 1e-3) / 1e12
            res.append(f"{tf:.0f}")
    print("RESULT " + ("ok" if ok else "FAIL") + " " + " ".join(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build-gpu/src/cuda/libcprt_cuda.so")
    ap.add_argument("--seqs", default="16384,32768")
    ap.add_argument("--variants", default=",".join(str(v) for v in NAMES))
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    seqs = [int(x) for x in a.seqs.split(",")]
    if a.child:
        return child(a.lib, seqs)
    cols = [f"S={S} {'causal' if c else 'full'}" for S in seqs for c in (False, True)]
    print("| variant | check | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for v in [int(x) for x in a.variants.split(",")]:
        env = dict(os.environ, CPRT_FWD_VARIANT=str(v))
        p = subprocess.run([sys.executable, __file__, "--child", "--lib", a.lib, "--seqs", a.seqs],
                           env=env, capture_output=True, text=True, timeout=300)
        line = [l for l in p.stdout.splitlines() if l.startswith("RESULT")]
        if not line:
            print(f"| {v}: {NAMES.get(v)} | crashed: {(p.stderr or p.stdout)[-200:]!r} |")
            continue
        parts = line[0].split()
        print(f"| {v}: {NAMES.get(v)} | {parts[1]} | " + " | ".join(parts[2:]) + " |", flush=True)


if __name__ == "__main__":
    main()
