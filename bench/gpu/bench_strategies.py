#!/usr/bin/env python3
"""Context-parallel strategies on N virtual ranks of one GPU: ring (p2p and
allgather rotation), Ulysses (all-to-all over heads) and the hybrid 2-D
strategy (Ulysses groups of U ranks x a ring of N/U groups), forward and
forward+backward, against one plain attention of the same total work on the
same backend. The numbers the cost model's GPU comparison uses
(bench/RESULTS.md, "Cost model vs measured").

B=1, H=16 (Hkv=16, or --hkv for GQA), D=128, bf16, head-tail balancing.
Times: host wall ms per iteration of cprt_cuda_ring_run over all ranks
(synchronised), mean of --iters after one warm-up; plain: CUDA-event median
of one attention (the runtime's default backend, -1 = auto when built).
Virtual ranks share the one GPU, so a strategy's time is the sum of its
ranks' work plus its exchanges (device copies), and efficiency =
plain / strategy.

  python3 bench/gpu/bench_strategies.py --lib build-gpu/src/cuda/libcprt_cuda.so --out s.md
"""
import argparse
import ctypes as C
import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "runtime", "test", "gpu"))
import torch  # noqa: E402

import cprt_cuda as cc  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from bench_gpu import ours  # noqa: E402

B, H, D = 1, 16, 128


def plain(lib, S, hkv, causal):
    """(fwd ms, f+b ms) of one attention on the default backend (bench_gpu.ours)."""
    q = torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16)
    k, v = (torch.randn(B, hkv, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    return ours(lib, q, k, v, causal, backend=-1)


def strategy(lib, S, hkv, W, causal, backward, rotate, ulysses, iters):
    q = torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16)
    k, v = (torch.randn(B, hkv, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    dout, out, dq = torch.randn_like(q), torch.empty_like(q), torch.empty_like(q)
    dk, dv = torch.empty_like(k), torch.empty_like(v)
    lse = torch.empty(B, H, S, device="cuda")
    r = cc.Ring()
    r.world, r.transport, r.balancer, r.rotate = W, 0, cc.BALANCER["headtail"], \
        cc.ROTATE[rotate]
    r.causal, r.backward, r.backend, r.ulysses_size = int(causal), int(backward), -1, ulysses
    r.batch, r.heads_q, r.heads_kv, r.seq, r.head_dim, r.dtype = B, H, hkv, S, D, 1
    for n, t in (("q", q), ("k", k), ("v", v), ("out", out), ("lse", lse), ("dout", dout),
                 ("dq", dq), ("dk", dk), ("dv", dv)):
        setattr(r, n, t.data_ptr())
    ms = C.c_float(0)
    r.iters, r.ms_per_iter_host = iters, C.addressof(ms)
    cc.check(lib, lib.cprt_cuda_ring_run(C.byref(r)), f"{rotate} U={ulysses} W={W}")
    return ms.value


def strategies(W):
    """(name, rotate, ulysses_size) of every strategy legal on W ranks (H=16)."""
    out = [("ring", "ring", 0), ("allgather", "allgather", 0)]
    if H % W == 0:
        out.append(("ulysses", "ring", W))
    out += [(f"hybrid U={u}", "ring", u) for u in (2, 4) if u < W and W % u == 0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seqs", default="16384,32768")
    ap.add_argument("--ranks", default="4,8")
    ap.add_argument("--hkv", type=int, default=H)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--no-backward", action="store_true")
    a = ap.parse_args()
    lib = cc.load(a.lib)
    torch.manual_seed(0)
    modes = [False] if a.no_backward else [False, True]
    lines = [f"Device: {torch.cuda.get_device_name()}; "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; B={B} H={H} "
             f"Hkv={a.hkv} D={D} bf16, head-tail, default backend; ms (efficiency)", "",
             "| S | N | causal | pass | plain | " + " | ".join(
                 n for n, _, _ in strategies(8)) + " |", "|" + "---|" * (5 + 5)]
    for S in [int(x) for x in a.seqs.split(",")]:
        for W in [int(x) for x in a.ranks.split(",")]:
            names = {n: (rot, u) for n, rot, u in strategies(W)}
            for causal in (False, True):
                pf, pfb = plain(lib, S, a.hkv, causal)
                for bwd in modes:
                    p = pfb if bwd else pf
                    cells = []
                    for n, _, _ in strategies(8):
                        if n not in names:
                            cells.append("-")
                            continue
                        rot, u = names[n]
                        t = strategy(lib, S, a.hkv, W, causal, bwd, rot, u, a.iters)
                        cells.append(f"{t:.2f} ({p / t:.0%})")
                    row = (f"| {S} | {W} | {'yes' if causal else 'no'} | "
                           f"{'f+b' if bwd else 'fwd'} | {p:.2f} | " + " | ".join(cells) + " |")
                    lines.append(row)
                    print(row, flush=True)
                    torch.cuda.empty_cache()
    text = "\n".join(lines)
    print("\n" + text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
