import torch, torch.nn.functional as F
from torch_mlir import fx
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
open("scan_positions.linalg.mlir", "w").write(str(m))
for ot, ext in [("tosa", "tosa"), ("linalg-on-tensors", "linalg")]:
    m = fx.export_and_import(RotateHalf(), q, k, v, output_type=ot, func_name="rotate_half")
    open(f"rotate_half.{ext}.mlir", "w").write(str(m))
