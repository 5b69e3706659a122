#!/usr/bin/env python3
"""Regenerates test/Fixtures/Inputs/*.mlir (and the Llama-block .npy data)
from small PyTorch modules through torch-mlir's FX importer.

Usage (needs torch and torch-mlir; see test/Fixtures/README.md):
    python3 scripts/gen-fixtures.py [--out test/Fixtures]

Shapes are small (B=1, H=4, S=64, D=16) so that the lit tests stay fast.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch_mlir import fx

B, H, HKV, S, D = 1, 4, 2, 64, 16


class Plain(torch.nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


class Causal(torch.nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class Scaled(torch.nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, scale=0.3)


class BoolMask(torch.nn.Module):
    def forward(self, q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)


class FloatMask(torch.nn.Module):
    def forward(self, q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)


class Gqa(torch.nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                              enable_gqa=True)


class SlidingWindow(torch.nn.Module):
    """A mask computed from positions (not plain causal): flex_attention."""

    def forward(self, q, k, v):
        i = torch.arange(S).unsqueeze(1)
        j = torch.arange(S).unsqueeze(0)
        keep = (j <= i) & (i - j < 16)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=keep)


class SoftcapCausal(torch.nn.Module):
    """Gemma2's eager attention: logits soft-capped (tanh(s / c) * c), then
    a causal mask filled with finfo.min."""

    def forward(self, q, k, v):
        s = q @ k.transpose(-1, -2) * D ** -0.5
        s = torch.tanh(s / 50.0) * 50.0
        i = torch.arange(S).unsqueeze(1)
        j = torch.arange(S).unsqueeze(0)
        s = s.masked_fill(j > i, torch.finfo(s.dtype).min)
        return torch.softmax(s, dim=-1) @ v


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(dim) + 0.1 * torch.randn(dim))

    def forward(self, x):
        xf = x.float()
        n = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return n.type_as(x) * self.weight


def rope_table(seq, dim, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2).float() / dim))
    t = torch.arange(seq).float()
    f = torch.outer(t, freqs)  # [S, D/2]
    return torch.cos(f), torch.sin(f)


def apply_rope(x, cos, sin):
    # x: [B, H, S, D]; rotate pairs (x0, x1) by the position's angle.
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    o0 = x0 * cos - x1 * sin
    o1 = x0 * sin + x1 * cos
    return torch.stack([o0, o1], dim=-1).flatten(-2)


class LlamaBlock(torch.nn.Module):
    """RMSNorm, RoPE from a freqs_cis-like table (seq at dim 0) and a
    position buffer, GQA causal attention, SwiGLU MLP; residuals."""

    def __init__(self, dim=H * D, hidden=128):
        super().__init__()
        torch.manual_seed(0)
        self.attn_norm = RMSNorm(dim)
        self.mlp_norm = RMSNorm(dim)
        self.wq = torch.nn.Linear(dim, H * D, bias=False)
        self.wk = torch.nn.Linear(dim, HKV * D, bias=False)
        self.wv = torch.nn.Linear(dim, HKV * D, bias=False)
        self.wo = torch.nn.Linear(H * D, dim, bias=False)
        self.w1 = torch.nn.Linear(dim, hidden, bias=False)
        self.w2 = torch.nn.Linear(hidden, dim, bias=False)
        self.w3 = torch.nn.Linear(dim, hidden, bias=False)
        cos, sin = rope_table(S, D)
        self.register_buffer("rope_cos", cos)  # [S, D/2]
        self.register_buffer("rope_sin", sin)
        self.register_buffer("positions", torch.arange(S))

    def forward(self, x):
        b, s, _ = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(b, s, H, D).transpose(1, 2)
        k = self.wk(h).view(b, s, HKV, D).transpose(1, 2)
        v = self.wv(h).view(b, s, HKV, D).transpose(1, 2)
        cos = torch.index_select(self.rope_cos, 0, self.positions)
        sin = torch.index_select(self.rope_sin, 0, self.positions)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           enable_gqa=True)
        o = o.transpose(1, 2).reshape(b, s, H * D)
        x = x + self.wo(o)
        m = self.mlp_norm(x)
        return x + self.w2(F.silu(self.w1(m)) * self.w3(m))


def qkv(dtype, hkv=H, b=B):
    g = torch.Generator().manual_seed(1)
    q = torch.randn(b, H, S, D, generator=g).to(dtype)
    k = torch.randn(b, hkv, S, D, generator=g).to(dtype)
    v = torch.randn(b, hkv, S, D, generator=g).to(dtype)
    return q, k, v


def cases():
    f32, bf16, f16 = torch.float32, torch.bfloat16, torch.float16
    yield "sdpa_plain_f32", Plain(), qkv(f32)
    yield "sdpa_causal_f32", Causal(), qkv(f32)
    yield "sdpa_scale_f32", Scaled(), qkv(f32)
    yield "sdpa_causal_bf16", Causal(), qkv(bf16)
    yield "sdpa_plain_f16", Plain(), qkv(f16)
    bm = torch.rand(B, 1, S, S, generator=torch.Generator().manual_seed(2)) > 0.3
    yield "sdpa_boolmask_f32", BoolMask(), (*qkv(f32), bm)
    fm = torch.randn(B, H, S, S, generator=torch.Generator().manual_seed(3))
    yield "sdpa_floatmask_f32", FloatMask(), (*qkv(f32), fm)
    yield "sdpa_gqa_causal_f32", Gqa(), qkv(f32, HKV)
    yield "sdpa_window_f32", SlidingWindow(), qkv(f32)
    yield "sdpa_softcap_f32", SoftcapCausal(), qkv(f32)
    # Batch 2: the [B*H, S, D] collapse mixes a non-unit batch into the heads.
    yield "sdpa_gqa_causal_b2_f32", Gqa(), qkv(f32, HKV, b=2)


class EagerMaskedFill(torch.nn.Module):
    """Eager attention as Hugging Face writes it: masked_fill with
    finfo(dtype).min, not -inf."""

    def forward(self, q, k, v, keep):
        s = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
        s = s.masked_fill(~keep, torch.finfo(s.dtype).min)
        return torch.softmax(s, dim=-1) @ v


def gen_eager_masked_fill(e2e_inputs):
    """test/e2e/Inputs/eager_*: a module, its inputs (row 5 keeps no key,
    row 9 one key) and two references: cp's semantics in float64 (a row
    that keeps no key is 0) and PyTorch's eager output (that row averages
    every value)."""
    b, h, s, d = 1, 2, 16, 8
    g = torch.Generator().manual_seed(11)
    q, k, v = (torch.randn(b, h, s, d, generator=g) for _ in range(3))
    keep = torch.rand(b, 1, s, s, generator=g) > 0.4
    keep[..., 5, :] = False
    keep[..., 9, :] = False
    keep[..., 9, 3] = True
    mod = EagerMaskedFill()
    text = export(mod, (q, k, v, keep), "linalg-on-tensors",
                  "eager_masked_fill")
    with open(os.path.join(e2e_inputs, "eager_masked_fill.linalg.mlir"),
              "w") as f:
        f.write("// Generated by scripts/gen-fixtures.py --only eager "
                "(torch-mlir FX importer): masked_fill with finfo.min.\n")
        f.write(text)
    for n, t in (("q", q), ("k", k), ("v", v), ("keep", keep)):
        np.save(os.path.join(e2e_inputs, f"eager_{n}.npy"), t.numpy())
    sc = (q.double() @ k.double().transpose(-1, -2)) * d ** -0.5
    p = torch.softmax(sc.masked_fill(~keep, float("-inf")), -1).nan_to_num(0.0)
    np.save(os.path.join(e2e_inputs, "eager_want_cp.npy"),
            (p @ v.double()).float().numpy())
    np.save(os.path.join(e2e_inputs, "eager_want_torch.npy"),
            mod(q, k, v, keep).numpy())
    print("wrote", e2e_inputs, "eager_*")


def export(mod, args, output_type, name):
    m = fx.export_and_import(mod, *args, output_type=output_type,
                             func_name=name)
    return str(m)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "test", "Fixtures"))
    ap.add_argument("--only", default=None)
    a = ap.parse_args()
    inputs = os.path.join(a.out, "Inputs")
    os.makedirs(inputs, exist_ok=True)
    header = ("// Generated by scripts/gen-fixtures.py with torch {} and "
              "torch-mlir (FX importer), output_type={}. Do not edit.\n")
    if not a.only or a.only in "eager":
        gen_eager_masked_fill(os.path.join(a.out, "..", "e2e", "Inputs"))
    todo = list(cases())
    llama = LlamaBlock().eval()
    x = torch.randn(B, S, H * D, generator=torch.Generator().manual_seed(4))
    todo.append(("llama_block_f32", llama, (x,)))
    for name, mod, args in todo:
        if a.only and a.only not in name:
            continue
        for otype, suffix in (("linalg-on-tensors", "linalg"), ("tosa", "tosa")):
            path = os.path.join(inputs, f"{name}.{suffix}.mlir")
            try:
                text = export(mod, args, otype, name)
            except Exception as e:  # keep going: report which ones failed
                print(f"FAILED {name} {otype}: {type(e).__name__}: "
                      f"{str(e).splitlines()[0][:200]}", file=sys.stderr)
                continue
            with open(path, "w") as f:
                f.write(header.format(torch.__version__, otype) + text)
            print("wrote", path)
    with torch.no_grad():
        y = llama(x)
    np.save(os.path.join(a.out, "llama_block_input.npy"), x.numpy())
    np.save(os.path.join(a.out, "llama_block_output.npy"), y.numpy())
    state = {k: v.detach().numpy() for k, v in llama.state_dict().items()}
    np.savez(os.path.join(a.out, "llama_block_params.npz"), **state)
    print("wrote llama_block_{input,output}.npy, llama_block_params.npz")


if __name__ == "__main__":
    main()
