#!/usr/bin/env python3
"""Ring attention over W GPUs through NCCL (one process per GPU) vs plain attention on one GPU.

B=1, H=16, D=128, bf16, head-tail balancing, p2p ring rotation; S in {16384, 32768}
(total sequence), causal and not, forward and forward+backward.

  ring ms   host wall time per iteration of cprt_cuda_ring_run over NCCL (transport 1),
            all ranks barrier-synchronised before and after the timed loop; the slowest
            rank's figure. Excludes NCCL init, sharding and the final all-gather.
  plain ms  the same backend on the full sequence on one GPU (cprt_cuda_attention_forward
            [+ _backward], fp16/bf16 out), median of CUDA-event timings; rank 0's GPU.
  eff       plain_ms / (W * ring_ms): 1.0 = perfect scaling.
  TFLOP/s   per GPU of the ring: 4*B*H*S*S*D (half when causal; x3.5 for f+b) / (W * ring s).

Uses the worker machinery of runtime/test/gpu/nccl_workers.py (hard timeouts, workers
killed on timeout). Roughly 1 minute on 2 H200s.

  python3 bench/gpu/bench_nccl.py --lib build-gpu/src/cuda/libcprt_cuda.so --out bench_nccl.md
"""
import argparse
import ctypes as C
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "test", "gpu"))
import nccl_workers as nw  # noqa: E402

B, H, D = 1, 16, 128


def flops(S, causal, fb):
    return 4.0 * B * H * S * S * D * (0.5 if causal else 1.0) * (3.5 if fb else 1.0)


BACKENDS = {0: "flash", 1: "cuDNN", 2: "auto"}


def configs(seqs, backends):
    return [(S, causal, be) for be in backends for S in seqs for causal in (False, True)]


# --------------------------------------------------------------------------- worker

def time_plain(torch, cc, lib, q, k, v, dout, causal, reps, backend):
    S = q.shape[2]
    out, dq, dk, dv = (torch.empty_like(x) for x in (q, q, k, v))
    lse = torch.empty(B, H, S, device=q.device)
    a = cc.self_attention(q, k, v, out, lse, causal, backend,
                          torch.cuda.current_stream().cuda_stream, dout, dq, dk, dv)
    ref = C.byref(a)

    def fwd():
        cc.check(lib, lib.cprt_cuda_attention_forward(ref), "plain forward")

    def fb():
        fwd()
        cc.check(lib, lib.cprt_cuda_attention_backward(ref), "plain backward")

    res = []
    for fn in (fwd, fb):
        fn()
        fn()  # warm-up
        torch.cuda.synchronize()
        ts = []
        for _ in range(reps):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn()
            e1.record()
            e1.synchronize()
            ts.append(e0.elapsed_time(e1))
        res.append(sorted(ts)[len(ts) // 2])
    return res


def worker(args):
    import torch
    torch.cuda.set_device(args.rank)
    import cprt_cuda as cc
    lib = cc.load(args.lib)
    wk = nw.Worker(args.rank, args.world, args.id_file)
    dev = torch.device("cuda", args.rank)
    seqs = [int(x) for x in args.seqs.split(",")]
    backends = [int(x) for x in args.backends.split(",")]
    for i, (S, causal, be) in enumerate(configs(seqs, backends)):
        t = time.time()
        wk.barrier(f"b{i}")
        try:
            g = torch.Generator(device=dev).manual_seed(1234 + i)
            q, k, v, dout = (torch.randn(B, H, S, D, device=dev, generator=g, dtype=torch.bfloat16)
                             for _ in range(4))
            # plain attention of the whole sequence on this GPU (all ranks at once)
            pf, pfb = time_plain(torch, cc, lib, q, k, v, dout, causal, args.reps, be)
            wk.barrier(f"b{i}r")
            iters = args.iters if S <= 16384 else max(1, args.iters // 2)
            ring = []
            for bwd in (False, True):
                outs = {"out": torch.empty_like(q), "lse": torch.empty(B, H, S, device=dev),
                        "dq": torch.empty_like(q), "dk": torch.empty_like(k),
                        "dv": torch.empty_like(v)}
                r, ms = nw.make_ring(cc, args.world, 1, "headtail", "ring", causal, bwd,
                                     (B, H, H, S, D), 1,
                                     dict(q=q, k=k, v=v, dout=dout, **outs), iters=iters,
                                     rank=args.rank, id_file=wk.id_file(f"b{i}.{int(bwd)}"),
                                     timeout_ms=60000)
                r.backend = be
                cc.check(lib, lib.cprt_cuda_ring_run(C.byref(r)), f"ring S={S}")
                ring.append(ms.value)
            torch.cuda.synchronize()
            wk.emit(case=i, ok=True, S=S, causal=causal, plain_f=pf, plain_fb=pfb,
                    ring_f=ring[0], ring_fb=ring[1], iters=iters, s=round(time.time() - t, 1))
            del q, k, v, dout, outs
            torch.cuda.empty_cache()
        except Exception as e:
            wk.emit(case=i, ok=False, S=S, causal=causal, detail=repr(e))
    return 0


# --------------------------------------------------------------------------- launcher

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    nw.add_worker_args(ap)
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seqs", default="16384,32768")
    ap.add_argument("--iters", type=int, default=10, help="ring iterations (halved above 16k)")
    ap.add_argument("--reps", type=int, default=7, help="plain timing repetitions")
    ap.add_argument("--timeout", type=float, default=400)
    ap.add_argument("--allow-skip", action="store_true")
    ap.add_argument("--backends", default=None,
                    help="comma list of 0 flash, 1 cuDNN, 2 auto (default: flash and the "
                         "library's default backend)")
    args = ap.parse_args()
    if args.worker:
        sys.exit(worker(args))
    lib, W = nw.launcher_setup(args, "bench_nccl")
    seqs = [int(x) for x in args.seqs.split(",")]
    if args.backends is None:  # flash, and the runtime's default when it differs
        default = C.CDLL(lib).cprt_cuda_default_backend()
        args.backends = "0" + ("" if default == 0 else f",{default}")
    backends = [int(x) for x in args.backends.split(",")]
    cfgs = configs(seqs, backends)
    rows = {}

    def on_result(r, obj):
        i = obj.get("case", -1)
        if 0 <= i < len(cfgs):
            rows.setdefault(i, {})[r] = obj
            if not obj.get("ok"):
                print(f"  FAIL rank {r} S={obj.get('S')} causal={obj.get('causal')}: "
                      f"{obj.get('detail')}", flush=True)
            elif len(rows[i]) == W:
                o = rows[i][0]
                print(f"  S={o['S']} causal={o['causal']}: plain {o['plain_f']:.2f}/"
                      f"{o['plain_fb']:.2f} ms, ring (rank 0) {o['ring_f']:.2f}/{o['ring_fb']:.2f}"
                      f" ms [{o['s']} s]", flush=True)

    t0 = time.time()
    print(f"bench_nccl: W={W} GPUs, one process each; lib {lib}", flush=True)
    job_ok, reason, rcs = nw.run_job(
        os.path.abspath(__file__), W,
        ["--lib", lib, "--seqs", args.seqs, "--iters", str(args.iters), "--reps", str(args.reps),
         "--backends", args.backends],
        on_result, timeout_s=args.timeout, idle_s=240)
    try:
        import torch
        name = torch.cuda.get_device_name(0)
        tv = torch.__version__
    except Exception:
        name, tv = "?", "?"
    lines = [f"Ring over {W} GPUs through NCCL (one process per GPU) vs plain attention on one "
             f"GPU. Device: {W}x {name}; "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; torch {tv}.",
             f"B={B}, H={H}, D={D}, bf16, head-tail, ring rotation. ring ms = host wall time per "
             "iteration (barrier-synchronised, slowest rank); plain ms = our flash kernel on the "
             "full S on one GPU with the same backend (CUDA events, median); eff = plain / "
             "(W x ring); TFLOP/s per GPU.",
             "",
             "| backend | S | causal | plain fwd ms | ring fwd ms | fwd eff | ring fwd TFLOP/s/GPU | "
             "plain f+b ms | ring f+b ms | f+b eff | ring f+b TFLOP/s/GPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    bad = 0
    for i, (S, causal, be) in enumerate(cfgs):
        res = rows.get(i, {})
        if len(res) < W or not all(o.get("ok") for o in res.values()):
            bad += 1
            why = "; ".join(f"r{r}: {o.get('detail')}" for r, o in res.items() if not o.get("ok"))
            lines.append(f"| {BACKENDS[be]} | {S} | {'yes' if causal else 'no'} | failed: "
                         f"{why or reason or 'no result'} | | | | | | | |")
            continue
        pf, pfb = res[0]["plain_f"], res[0]["plain_fb"]
        rf = max(o["ring_f"] for o in res.values())
        rfb = max(o["ring_fb"] for o in res.values())
        tf = lambda ms, fb: flops(S, causal, fb) / (W * ms * 1e-3) / 1e12  # noqa: E731
        lines.append(f"| {BACKENDS[be]} | {S} | {'yes' if causal else 'no'} | {pf:.2f} | {rf:.2f} | "
                     f"{pf / (W * rf):.2f} | {tf(rf, False):.0f} | {pfb:.2f} | {rfb:.2f} | "
                     f"{pfb / (W * rfb):.2f} | {tf(rfb, True):.0f} |")
    text = "\n".join(lines)
    print("\n" + text)
    print(f"\nbench_nccl: {len(cfgs) - bad}/{len(cfgs)} configurations measured "
          f"({time.time() - t0:.0f} s)" + ("" if job_ok else f"; launcher: {reason}"))
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    sys.exit(0 if bad == 0 and job_ok else 1)


if __name__ == "__main__":
    main()
