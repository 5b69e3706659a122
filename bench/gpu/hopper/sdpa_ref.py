"""PyTorch SDPA reference timings (cuDNN and flash backends) at the shapes
hopper_bench times: B=1, H=16, D=128, bf16, causal and not. Median of
event-timed launches; TFLOP/s = 4*B*H*S^2*D/t, halved for causal.
    python3 sdpa_ref.py [S ...]"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def median_ms(fn, reps=10):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        times.append((a, b))
    torch.cuda.synchronize()
    ms = sorted(a.elapsed_time(b) for a, b in times)
    return ms[len(ms) // 2]


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [4096, 8192, 16384, 32768]
    backends = [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    print("| S | causal | " + " | ".join(f"torch {n}" for n, _ in backends) + " |")
    print("|---|---|" + "---|" * len(backends))
    for s in sizes:
        q, k, v = (torch.randn(1, 16, s, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        for causal in (False, True):
            flops = 4 * 16 * s * s * 128 * (0.5 if causal else 1.0)
            row = []
            for _, be in backends:
                try:
                    with sdpa_kernel([be]):
                        ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal))
                    row.append(f"{flops / ms * 1e-9:.0f}")
                except RuntimeError as e:
                    row.append("n/a")
                    print("  ", str(e).splitlines()[0])
            print(f"| {s} | {'yes' if causal else 'no'} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
