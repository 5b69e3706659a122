#!/usr/bin/env python3
"""Inputs and float64 references for bench/gpu/compiled_attention.sh, and
its result table.

  --out DIR --big-s S1 S2 ...   writes <case>.{q,k,v}.npy (bf16 as uint16
                                bits, '<u2', which the launcher reads as bf16)
                                and <case>.ref.npy (float64)
  --table LOGDIR --modules F    prints the markdown table from the run logs
"""
import argparse
import math
import os
import re
import sys


def attention_f64(q, k, v, causal, chunk=2048):
    """softmax(q k^T / sqrt(D) [+ causal]) v in float64 on the GPU, chunked
    over query rows so that S = 32K fits."""
    import torch
    B, H, S, D = q.shape
    out = torch.empty((B, H, S, D), dtype=torch.float64, device=q.device)
    scale = 1.0 / math.sqrt(D)
    for b in range(B):
        for h in range(H):
            kk, vv = k[b, h].double(), v[b, h].double()
            for i0 in range(0, S, chunk):
                qq = q[b, h, i0:i0 + chunk].double()
                s = (qq @ kk.T) * scale
                if causal:
                    rows = torch.arange(i0, i0 + qq.shape[0], device=q.device)[:, None]
                    cols = torch.arange(S, device=q.device)[None, :]
                    s.masked_fill_(cols > rows, float("-inf"))
                out[b, h, i0:i0 + chunk] = torch.softmax(s, dim=-1) @ vv
    return out


def save(path, t):
    import numpy as np
    import torch
    t = t.contiguous().cpu()
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy().view(np.uint16)
    else:
        arr = t.numpy()
    np.save(path, arr)


def make_inputs(out, big_s):
    import torch
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(out, exist_ok=True)
    cases = [("fix_bf16", (1, 4, 64, 16), torch.bfloat16, True),
             ("fix_f16", (1, 4, 64, 16), torch.float16, False)]
    for S in big_s:
        cases += [(f"big_c_{S}", (1, 16, S, 128), torch.bfloat16, True),
                  (f"big_f_{S}", (1, 16, S, 128), torch.bfloat16, False)]
    gen = torch.Generator(device=dev)
    for i, (name, shape, dtype, causal) in enumerate(cases):
        gen.manual_seed(1000 + i)
        q, k, v = (torch.randn(shape, generator=gen, device=dev).to(dtype)
                   for _ in range(3))
        ref = attention_f64(q, k, v, causal)
        for n, t in (("q", q), ("k", k), ("v", v), ("ref", ref)):
            save(os.path.join(out, f"{name}.{n}.npy"), t)
        print(f"{name}: {list(shape)} {str(dtype)[6:]} causal={causal}, "
              f"reference |max| {ref.abs().max().item():.3f}", flush=True)


def table(logdir, modules):
    rows = []
    single = {}
    for line in open(modules):
        name, entry, n = line.split()
        try:
            text = open(os.path.join(logdir, f"run_{name}.log")).read()
        except OSError:
            text = ""
        m = re.search(r"max abs err ([^,]+), rel L2 ([^,]+),.*: (ok|FAILED)", text)
        means = [float(x) for x in re.findall(r"mean of \d+ calls ([0-9.eE+-]+) ms", text)]
        t = max(means) if means else float("nan")
        err = f"{m.group(1)} / {m.group(2)} {m.group(3)}" if m else "no result"
        flops = ""
        base = name.rsplit("_", 1)[0]
        if name.startswith("big_"):
            _, c, S = base.split("_")
            S = int(S)
            f = 4.0 * 16 * S * S * 128 * (0.5 if c == "c" else 1.0)
            flops = f"{f / (t * 1e-3) / 1e12:.0f}" if means else ""
        if name.endswith("_single"):
            single[base] = t
        eff = ""
        if not name.endswith("_single") and base in single and means:
            eff = f"{100.0 * single[base] / t:.0f}%"
        rows.append((name, n, err, f"{t:.3f}" if means else "", flops, eff))
    print("| module | ranks | max abs err / rel L2 vs float64 | mean ms per call (slowest rank) | TFLOP/s | single / ring |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out")
    p.add_argument("--big-s", type=int, nargs="*", default=[])
    p.add_argument("--table")
    p.add_argument("--modules")
    a = p.parse_args()
    if a.table:
        table(a.table, a.modules)
    elif a.out:
        make_inputs(a.out, a.big_s)
    else:
        p.error("--out or --table")


if __name__ == "__main__":
    sys.exit(main())
