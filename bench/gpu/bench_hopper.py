#!/usr/bin/env python3
"""The flash backend's forward with the Hopper (sm_90a) kernel against the
mma.sync kernels (CPRT_HOPPER_FWD=0) and a kernel variant (CPRT_HOPPER_VARIANT),
plain and as the ring over N virtual ranks on one GPU; cuDNN / auto for
reference. Forward only.

B=1, H=16; element type and head dim per --configs (default bf16 and fp16 at
D = 128, 64 and 256: every instantiation of the Hopper kernel). Plain: TFLOP/s
(4*B*H*S*S*D, half when causal), median of CUDA-event timings (triton
do_bench); sdpa-cudnn / sdpa-flash = torch's scaled_dot_product_attention on
the same shape (forward, no grad). Ring at S=--ring-seq for --ring-configs
(default bf16:128): ms per iteration (host wall time, all ranks
synchronised) and efficiency = plain single attention (same backend and
kernel) / ring, as bench_gpu.py.

  python3 bench/gpu/bench_hopper.py --lib build-gpu/src/cuda/libcprt_cuda.so --out hopper.md
  ... --configs fp16:64,bf16:64 --seqs 16384 --modes mma,hopper   (a subset)
"""
import argparse
import ctypes as C
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from triton.testing import do_bench  # noqa: E402

import bench_gpu as bg  # noqa: E402
import cprt_cuda as cc  # noqa: E402

# mode name -> (backend, environment)
MODES = {
    "mma": (0, {"CPRT_HOPPER_FWD": "0"}),
    "hopper": (0, {"CPRT_HOPPER_VARIANT": "0"}),
    "hopper-desc-per-wgmma": (0, {"CPRT_HOPPER_VARIANT": "2000"}),
    "hopper-desc-hoisted": (0, {"CPRT_HOPPER_VARIANT": "1000"}),
    # kernel 9: 3 K/V stages (D = 64 and 128; D = 256 runs the default)
    "hopper-3stage": (0, {"CPRT_HOPPER_VARIANT": "9"}),
    "cuDNN": (1, {}),
    "auto": (2, {}),
    # torch SDPA (not our library; backend None)
    "sdpa-cudnn": (None, SDPBackend.CUDNN_ATTENTION),
    "sdpa-flash": (None, SDPBackend.FLASH_ATTENTION),
}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def set_config(cfg):
    """bench_gpu's module-wide element type and head dim (its flops / ring use them)."""
    name, d = cfg.split(":")
    bg.dt, bg.D = DTYPES[name], int(d)


def set_env(env):
    for k in ("CPRT_HOPPER_FWD", "CPRT_HOPPER_VARIANT"):
        os.environ.pop(k, None)
    os.environ.update(env)


def plain_fwd(lib, S, causal, backend):
    q = torch.randn(bg.B, bg.H, S, bg.D, device="cuda", dtype=bg.dt)
    k, v = torch.randn_like(q), torch.randn_like(q)
    out = torch.empty_like(q)
    lse = torch.empty(bg.B, bg.H, S, device="cuda")
    a = cc.self_attention(q, k, v, out, lse, causal, backend,
                          torch.cuda.current_stream().cuda_stream)
    ref = C.byref(a)
    cc.check(lib, lib.cprt_cuda_attention_forward(ref), "fwd")
    torch.cuda.synchronize()
    return do_bench(lambda: lib.cprt_cuda_attention_forward(ref), warmup=25, rep=200,
                    return_mode="median")


def sdpa_fwd(S, causal, backend):
    """ms of torch SDPA's forward with one backend (nan when it cannot run the shape)."""
    q = torch.randn(bg.B, bg.H, S, bg.D, device="cuda", dtype=bg.dt)
    k, v = torch.randn_like(q), torch.randn_like(q)

    def fwd():
        with torch.no_grad():
            F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    try:
        with sdpa_kernel([backend]):
            return do_bench(fwd, warmup=25, rep=200, return_mode="median")
    except Exception as e:  # backend unavailable for this shape
        print("  ", backend, "failed:", repr(e)[:200])
        return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seqs", default="4096,16384,32768")
    ap.add_argument("--ring-seq", type=int, default=32768)
    ap.add_argument("--ranks", default="1,4,8")
    ap.add_argument("--modes",
                    default="mma,hopper,hopper-3stage,cuDNN,auto,sdpa-cudnn,sdpa-flash")
    ap.add_argument("--configs", default="bf16:128,fp16:128,bf16:64,fp16:64,bf16:256,fp16:256",
                    help="element type:head dim pairs for the plain table")
    ap.add_argument("--ring-configs", default="bf16:128",
                    help="element type:head dim pairs for the ring table ('' = none)")
    args = ap.parse_args()
    lib = cc.load(args.lib)
    modes = [m for m in args.modes.split(",")
             if MODES[m][0] in (0, None) or lib.cprt_cuda_default_backend() == 2]
    ring_modes = [m for m in modes if MODES[m][0] is not None]
    torch.manual_seed(0)
    lines = [f"Device: {torch.cuda.get_device_name()}; date "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; forward only; "
             "mma = CPRT_HOPPER_FWD=0, hopper = the default (Hopper kernel), "
             "desc variants = CPRT_HOPPER_VARIANT 2000 / 1000, "
             "hopper-3stage = CPRT_HOPPER_VARIANT=9 (3 K/V stages; D = 256: the default)", "",
             "Plain forward, TFLOP/s (B=1, H=16):", "",
             "| type | D | S | causal | " + " | ".join(modes) + " |",
             "|---|---|---|---|" + "---|" * len(modes)]
    plain = {}
    for cfg in args.configs.split(","):
        set_config(cfg)
        for S in [int(x) for x in args.seqs.split(",")]:
            for causal in (False, True):
                cells = []
                for m in modes:
                    be, env = MODES[m]
                    if be is None:
                        set_env({})
                        ms = sdpa_fwd(S, causal, env)
                    else:
                        set_env(env)
                        ms = plain_fwd(lib, S, causal, be)
                    plain[(cfg, S, causal, m)] = ms
                    cells.append(f"{bg.flops(S, causal) / (ms * 1e-3) / 1e12:.0f}")
                lines.append(f"| {cfg.split(':')[0]} | {bg.D} | {S} | "
                             f"{'yes' if causal else 'no'} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
                torch.cuda.empty_cache()
    S = args.ring_seq
    lines += ["", f"Ring over N virtual ranks, S={S}, head-tail, p2p rotation; fwd ms per "
              "iteration and efficiency (plain / ring):", "",
              "| type | D | mode | N | causal | fwd ms | fwd eff |", "|---|---|---|---|---|---|---|"]
    for cfg in [c for c in args.ring_configs.split(",") if c]:
        set_config(cfg)
        for m in ring_modes:
            be, env = MODES[m]
            set_env(env)
            for causal in (False, True):
                if (cfg, S, causal, m) not in plain:
                    plain[(cfg, S, causal, m)] = plain_fwd(lib, S, causal, be)
                for W in [int(x) for x in args.ranks.split(",")]:
                    rf = bg.ring(lib, S, W, causal, False, backend=be)
                    lines.append(f"| {cfg.split(':')[0]} | {bg.D} | {m} | {W} | "
                                 f"{'yes' if causal else 'no'} | {rf:.2f} | "
                                 f"{plain[(cfg, S, causal, m)] / rf:.0%} |")
                    print(lines[-1], flush=True)
    h, mm = C.c_int64(0), C.c_int64(0)
    lib.cprt_cuda_forward_kernel_counts(C.byref(h), C.byref(mm))
    lines += ["", f"flash forward launches in this process: hopper {h.value}, mma.sync {mm.value}"]
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
