"""Regenerates test/e2e/Inputs/{scan_positions.{linalg,tosa},rotate_half.tosa}.mlir.

What torch-mlir (20261001, torch 2.15; see test/Fixtures/README.md for the
environment) emits for
  * scan_positions: OPT-style positions cumsum(mask) * mask - 1 as sin
    features of q, a float cumsum of k along the sequence and a cumsum of q
    over the head dim (three tm_tensor.scan ops), into causal SDPA;
  * rotate_half: Llama's RoPE with rotate_half (tosa.slice of the head dim,
    negate, concat), exported to TOSA, into causal SDPA.
Used by test/e2e/seq-scan.mlir and test/e2e/tosa-rotate-half.mlir.

    python scripts/gen-scan-fixtures.py   # run from the repository root
"""
import os
import torch, torch.nn.functional as F
from torch_mlir import fx
OUT = os.path.join("test", "e2e", "Inputs")
torch.manual_seed(0)
B, H, S, D = 1, 2, 24, 8
class ScanPositions(torch.nn.Module):
    """OPT-style positions from a cumsum of the mask, a float cumsum along the
    sequence, and a cumsum over the head dim, all feeding causal attention."""
    def forward(self, q, k, v, mask):
        pos = torch.cumsum(mask, dim=1) * mask - 1               # [B, S] i64
        pe = torch.sin(pos.to(torch.float32) * 0.1)[:, None, :, None]
        run = torch.cumsum(k, dim=2) * 0.05                       # along S
        qd = torch.cumsum(q, dim=3) * 0.1                         # along D
        return F.scaled_dot_product_attention(q + pe + qd, k + run, v, is_causal=True)
def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)
class RotateHalf(torch.nn.Module):
    def __init__(s):
        super().__init__()
        inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
        t = torch.arange(S).float()
        f = torch.outer(t, inv)
        emb = torch.cat((f, f), dim=-1)
        s.register_buffer("cos", emb.cos()); s.register_buffer("sin", emb.sin())
    def forward(s, q, k, v):
        q = q * s.cos + rotate_half(q) * s.sin
        k = k * s.cos + rotate_half(k) * s.sin
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
q, k, v = (torch.randn(B, H, S, D) for _ in range(3))
mask = torch.ones(B, S, dtype=torch.int64)
m = fx.export_and_import(ScanPositions(), q, k, v, mask, output_type="linalg-on-tensors", func_name="scan_positions")
open(os.path.join(OUT, "scan_positions.linalg.mlir"), "w").write(str(m))
m = fx.export_and_import(ScanPositions(), q, k, v, mask, output_type="tosa", func_name="scan_positions")
open(os.path.join(OUT, "scan_positions.tosa.mlir"), "w").write(str(m))
for ot, ext in [("tosa", "tosa")]:
    m = fx.export_and_import(RotateHalf(), q, k, v, output_type=ot, func_name="rotate_half")
    if ext == "tosa":
        open(os.path.join(OUT, "rotate_half.tosa.mlir"), "w").write(str(m))
