"""One launch of our flash forward (B=1, H=16, D=128, bf16) for Nsight Compute.

    ncu --kernel-name regex:flashFwd --launch-count 1 --section SpeedOfLight \
        --section Occupancy --section LaunchStats --section WarpStateStats \
        python3 bench/gpu/profile_fwd.py --lib build-gpu/src/cuda/libcprt_cuda.so --seq 16384
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "runtime", "test", "gpu"))
import cprt_cuda as cc  # noqa: E402
from bench_gpu import ours  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--seq", type=int, default=16384)
    ap.add_argument("--causal", action="store_true")
    a = ap.parse_args()
    lib = cc.load(a.lib)
    q = torch.randn(1, 16, a.seq, 128, device="cuda", dtype=torch.bfloat16)
    ours(lib, q, torch.randn_like(q), torch.randn_like(q), a.causal)


if __name__ == "__main__":
    main()
