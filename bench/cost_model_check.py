#!/usr/bin/env python3
"""The cost model's predictions next to measured GPU times (bench/RESULTS.md,
"Cost model vs measured"): prints that section's table.

The formulas are those of docs/design.md ("Cost model") and the topology
h200-nvlink / h100-ib of share/topologies/, re-implemented here in a few
lines so that the parts cp-plan does not print (compute and merge time of
one rank, for N virtual ranks sharing one GPU) can be summed;
test/Dialect/CP/Transforms/cp-plan.mlir and strategy-auto.mlir check the
same numbers against cp-opt (e.g. 8 ranks, B=2 Hq=32 Hkv=4 S=8192 causal:
ring 647.9 us, Ulysses 404.5 us in both).

  python3 bench/cost_model_check.py [--topology share/topologies/h200-nvlink.json]
"""
import argparse
import json
import math
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load(path):
    with open(path) as f:
        t = json.load(f)
    net = t.get("network", {})
    return dict(bw=t["node"]["link_gbps"], lat=t["node"]["latency_us"],
                eta=t["node"].get("all_to_all_efficiency", 1.0),
                rpn=t["node"].get("ranks", 0), ibw=net.get("link_gbps", 0),
                ilat=net.get("latency_us", 0), ieta=net.get("all_to_all_efficiency", 1.0),
                fwd=t["kernel"]["forward"], bwd=t["kernel"]["backward"],
                heads=t["kernel"].get("heads", 0), mem=t["memory_gbps"], name=t["name"])


def tflops(table, tokens):
    pts = table["tflops"]
    if tokens <= pts[0][0]:
        return pts[0][1]
    for (a, ya), (b, yb) in zip(pts, pts[1:]):
        if tokens <= b:
            return ya + (yb - ya) * math.log(tokens / a) / math.log(b / a)
    return pts[-1][1]


def lookup(tokens, f, bh, t):
    """The block of equal work with the tables' heads (lookupTokens)."""
    return tokens * math.sqrt(f * (bh / t["heads"] if t["heads"] > 0 else 1.0))


def kernel_us(flop, tokens, bwd, t):
    k = t["bwd"] if bwd else t["fwd"]
    return k["overhead_us"] + flop / (tflops(k, tokens) * 1e6)


def crosses(n, t):
    return t["rpn"] > 0 and n > t["rpn"]


def send_us(nbytes, n, t):
    if crosses(n, t):
        return t["ilat"] + nbytes / (t["ibw"] * 1e3)
    return t["lat"] + nbytes / (t["bw"] * 1e3)


def a2a_us(nbytes, n, t):
    if not crosses(n, t):
        return t["lat"] + nbytes * (n - 1) / n / (t["bw"] * t["eta"] * 1e3)
    r = t["rpn"]
    return t["ilat"] + max(nbytes * (r - 1) / n / (t["bw"] * t["eta"] * 1e3),
                           nbytes * (n - r) / n / (t["ibw"] * t["ieta"] * 1e3))


def ring(S, n, causal, bwd, t, H=16, Hkv=None, D=128, e=2, B=1):
    """(total, compute, merge) of the slowest rank, head-tail balanced."""
    Hkv = Hkv or H
    f = 0.5 if causal else 1.0
    d = 2.5 if bwd else 1.0
    if n == 1:
        c = kernel_us(4 * B * H * S * S * D * f * d, lookup(S, f, B * H, t), bwd, t)
        return c, c, 0.0
    L = math.ceil(S / n)
    step = kernel_us(4 * B * H * L * L * D * d * f, lookup(L, f, B * H, t), bwd, t)
    kv = 2 * B * Hkv * L * D * ((e + 4) if bwd else e)
    mb = (B * H * L * D * 8 + 2 * B * Hkv * L * D * 8) if bwd else B * H * L * (D * (8 + e) + 8)
    merge = n * mb / (t["mem"] * 1e3)
    x = send_us(kv, n, t)
    return (n - 1) * max(step, x) + step + merge, n * step, merge


def ulysses(S, n, causal, bwd, t, H=32, Hkv=None, D=128, e=2, B=1):
    Hkv = Hkv or H
    f = 0.5 if causal else 1.0
    L = math.ceil(S / n)
    hs = Hkv if Hkv % n == 0 else n
    q = a2a_us(B * H * L * D * e, n, t)
    kv = a2a_us(B * hs * L * D * e, n, t)
    comm = 2 * q + 2 * kv if not bwd else 4 * q + 4 * kv + a2a_us(B * H * L * 4, n, t)
    flop = 4 * B * H * S * S * D * f * (2.5 if bwd else 1.0) / n
    return comm + kernel_us(flop, lookup(S, f, B * H / n, t), bwd, t)


def virtual(S, n, causal, bwd, t):
    """N virtual ranks on one GPU: every rank's kernels and merges in turn."""
    _, c, m = ring(S, n, causal, bwd, t)
    return n * (c + m) / 1e3  # ms


def ulysses_virtual(S, n, causal, bwd, t, H=16, D=128, e=2):
    """Ulysses over N virtual ranks of one GPU: every rank's local call in
    turn, and each all-to-all (4 forward, 9 backward) a copy of the whole
    tensor through memory (read + write)."""
    f = 0.5 if causal else 1.0
    flop = 4 * H * S * S * D * f * (2.5 if bwd else 1.0) / n
    local = kernel_us(flop, lookup(S, f, H / n, t), bwd, t)
    copies = (9 if bwd else 4) * 2 * H * S * D * e / (t["mem"] * 1e3)
    return (n * local + copies) / 1e3  # ms


def row(label, measured, model, unit=""):
    off = (model - measured) / measured
    flag = "**" if abs(off) > 0.25 else ""
    print(f"| {label} | {measured:g}{unit} | {model:.2f}{unit} | {flag}{off:+.0%}{flag} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--topology", default=os.path.join(ROOT, "share/topologies/h200-nvlink.json"))
    ap.add_argument("--h100", default=os.path.join(ROOT, "share/topologies/h100-ib.json"))
    a = ap.parse_args()
    t, ib = load(a.topology), load(a.h100)
    print(f"| setup ({t['name']}; ms) | measured | model | off |")
    print("|---|---|---|---|")
    # Plain calls of the auto backend, 2026-12-02 16:50 UTC (TFLOP/s -> ms).
    plain = {(1024, 1): 192, (2048, 1): 414, (4096, 1): 552, (8192, 1): 591,
             (16384, 1): 606, (32768, 1): 622, (4096, 0): 633, (32768, 0): 651}
    for (S, c), tf in sorted(plain.items()):
        ms = 4 * 16 * S * S * 128 * (0.5 if c else 1) / (tf * 1e9)
        row(f"1 H200, auto, S={S} {'causal' if c else 'full'} fwd", round(ms, 3),
            ring(S, 1, c, False, t)[0] / 1e3)
    # Rings over N virtual ranks, auto backend (16:50 UTC run, S=8K; 15:11 UTC
    # forward and 2026-11-30 12:18 UTC f+b at S=32K).
    virt = [(8192, 2, 0, 1.23, 4.82), (8192, 4, 0, 1.60, 6.49), (8192, 8, 0, 3.86, 13.21),
            (8192, 2, 1, 0.87, 3.57), (8192, 4, 1, 1.22, 5.39), (8192, 8, 1, 3.22, 13.55),
            (32768, 4, 0, 14.51, 64.12), (32768, 8, 0, 17.17, 74.85),
            (32768, 4, 1, 8.46, 37.66), (32768, 8, 1, 10.26, 49.20)]
    for S, n, c, fwd, fb in virt:
        m = virtual(S, n, c, False, t)
        row(f"{n} virtual ranks, auto, S={S} {'causal' if c else 'full'} fwd", fwd, m)
        row(f"{n} virtual ranks, auto, S={S} {'causal' if c else 'full'} f+b", fb,
            m + virtual(S, n, c, True, t))
    # Ulysses over N virtual ranks, auto backend, S=32K, H=16 (RESULTS.md,
    # "Strategies on N virtual ranks of one H200", 17:13 UTC, commit 2d4d31b).
    for n, c, fwd, fb in ((4, 0, 15.30, 60.15), (4, 1, 9.24, 35.41),
                          (8, 0, 17.25, 63.85), (8, 1, 11.18, 39.69)):
        m = ulysses_virtual(32768, n, c, False, t)
        label = f"Ulysses, {n} virtual ranks, auto, S=32768 {'causal' if c else 'full'}"
        row(label + " fwd", fwd, m)
        row(label + " f+b", fb, m + ulysses_virtual(32768, n, c, True, t))
    # 2 H200s over NCCL, auto backend (2026-11-30, cuDNN forward then).
    nccl = [(16384, 0, 2.18, 8.56), (16384, 1, 1.44, 5.89), (32768, 0, 7.69, 30.83),
            (32768, 1, 4.70, 18.23)]
    for S, c, fwd, fb in nccl:
        m = ring(S, 2, c, False, t)[0] / 1e3
        row(f"2×H200 NCCL, auto, S={S} {'causal' if c else 'full'} fwd", fwd, m)
        row(f"2×H200 NCCL, auto, S={S} {'causal' if c else 'full'} f+b", fb,
            m + ring(S, 2, c, True, t)[0] / 1e3)
    # Published: 8 H100s, 8K tokens per GPU (H=32, D=128, causal assumed):
    # efficiency = (single device / 8) / distributed time.
    S = 8 * 8192
    for bwd, pub_u in ((False, 0.88), (True, 0.99)):
        single = ring(S, 1, True, bwd, ib, H=32)[0] / 8
        u = ulysses(S, 8, True, bwd, ib, H=32)
        r = ring(S, 8, True, bwd, ib, H=32)[0]
        d = "bwd" if bwd else "fwd"
        row(f"published 8×H100 8K/GPU Ulysses eff {d} (h100-ib)", pub_u, single / u)
        row(f"published 8×H100 8K/GPU ring-p2p eff {d} (h100-ib)", 0.645, single / r)


if __name__ == "__main__":
    main()
