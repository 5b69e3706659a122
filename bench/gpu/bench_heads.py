#!/usr/bin/env python3
"""Attention kernel throughput by heads and sequence length (B=1, D=128,
bf16, no mask) on one backend of ours: how much the cost model's
tables (measured at H=16, docs/cost-model.md) miss when a call has fewer or
more heads, e.g. Ulysses' local attention with Hq/N heads.

TFLOP/s as bench_gpu.py (forward 4*B*H*S*S*D, f+b 3.5x that), medians of
CUDA-event timings.

  python3 bench/gpu/bench_heads.py --lib build-gpu/src/cuda/libcprt_cuda.so [--backend 2]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import bench_gpu as bg  # noqa: E402
import cprt_cuda as cc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--backend", type=int, default=2, help="0 flash, 1 cuDNN, 2 auto")
    ap.add_argument("--heads", default="2,4,8,16,32,64")
    ap.add_argument("--seqs", default="1024,2048,4096,16384")
    args = ap.parse_args()
    lib = cc.load(args.lib)
    print(f"Device: {torch.cuda.get_device_name()}; backend {bg.BACKENDS[args.backend]}")
    print("| H | S | fwd TFLOP/s | f+b TFLOP/s |")
    print("|---|---|---|---|")
    for h in [int(x) for x in args.heads.split(",")]:
        bg.H = h
        for s in [int(x) for x in args.seqs.split(",")]:
            q = torch.randn(1, h, s, bg.D, device="cuda", dtype=bg.dt)
            k, v = torch.randn_like(q), torch.randn_like(q)
            f, fb = bg.ours(lib, q, k, v, False, backend=args.backend)
            tf = 4.0 * h * s * s * bg.D / 1e12
            print(f"| {h} | {s} | {tf / (f * 1e-3):.0f} | {3.5 * tf / (fb * 1e-3):.0f} |",
                  flush=True)
            del q, k, v
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
