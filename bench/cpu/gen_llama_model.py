#!/usr/bin/env python3
"""Llama-style model for the CPU speed benchmark (bench/cpu/bench_model.sh).

A plain PyTorch module (no downloads, random weights): 2 decoder layers of
RMSNorm, RoPE (cos/sin tables with seq at dim 0, gathered by a position
buffer), GQA causal SDPA (8 query heads, 4 KV heads, head dim 64), SwiGLU MLP
(Llama's hidden size rule: 8/3 * 512 rounded up to 256 = 1536), residuals and
a final RMSNorm; input hidden states [1, S, 512], S = 1024, fp32.

Writes into --out (default bench/cpu/out/, git-ignored: the .mlir inlines
~25 MB of weights as constants):
  llama_model.linalg.mlir   torch-mlir FX export, linalg-on-tensors
  llama_model_input.npy     x
  llama_model_output.npy    PyTorch's output
  llama_model_torch_<T>t.json  PyTorch's time on --threads T threads (best of
                            --reps runs after a warm-up) and the shapes
"""

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch_mlir import fx

DIM, HEADS, KV_HEADS, LAYERS, SEQ = 512, 8, 4, 2, 1024
HEAD_DIM = DIM // HEADS
MLP = 1536


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(dim) + 0.1 * torch.randn(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_table(seq, dim, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2).float() / dim))
    f = torch.outer(torch.arange(seq).float(), freqs)  # [S, D/2]
    return torch.cos(f), torch.sin(f)


def apply_rope(x, cos, sin):
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = RMSNorm(DIM)
        self.mlp_norm = RMSNorm(DIM)
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)
        self.wq, self.wk = lin(DIM, HEADS * HEAD_DIM), lin(DIM, KV_HEADS * HEAD_DIM)
        self.wv, self.wo = lin(DIM, KV_HEADS * HEAD_DIM), lin(HEADS * HEAD_DIM, DIM)
        self.w1, self.w2, self.w3 = lin(DIM, MLP), lin(MLP, DIM), lin(DIM, MLP)

    def forward(self, x, cos, sin):
        b, s, _ = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(b, s, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.wk(h).view(b, s, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.wv(h).view(b, s, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.wo(o.transpose(1, 2).reshape(b, s, DIM))
        m = self.mlp_norm(x)
        return x + self.w2(F.silu(self.w1(m)) * self.w3(m))


class LlamaModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(LAYERS))
        self.norm = RMSNorm(DIM)
        cos, sin = rope_table(SEQ, HEAD_DIM)
        self.register_buffer("rope_cos", cos)
        self.register_buffer("rope_sin", sin)
        self.register_buffer("positions", torch.arange(SEQ))

    def forward(self, x):
        cos = torch.index_select(self.rope_cos, 0, self.positions)
        sin = torch.index_select(self.rope_sin, 0, self.positions)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


def gemm_flops():
    per_token = DIM * (HEADS + 2 * KV_HEADS) * HEAD_DIM + DIM * DIM + 3 * DIM * MLP
    return 2 * SEQ * per_token * LAYERS


def attention_flops():  # causal: half of 4*S^2*D per query head
    return 2 * SEQ * SEQ * HEAD_DIM * HEADS * LAYERS


def time_torch(model, x, threads, reps):
    torch.set_num_threads(threads)
    with torch.no_grad():
        model(x)
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--time-only", action="store_true",
                    help="only time PyTorch (the export is already there)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    model = LlamaModel().eval()
    x = torch.randn(1, SEQ, DIM, generator=torch.Generator().manual_seed(4))
    if not a.time_only:
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(a.out, "llama_model_input.npy"), x.numpy())
        np.save(os.path.join(a.out, "llama_model_output.npy"), y.numpy())
        t0 = time.perf_counter()
        m = fx.export_and_import(model, x, output_type="linalg-on-tensors",
                                 func_name="llama_model")
        with open(os.path.join(a.out, "llama_model.linalg.mlir"), "w") as f:
            f.write(str(m))
        print(f"exported in {time.perf_counter() - t0:.1f} s")
    secs = time_torch(model, x, a.threads, a.reps)
    info = {"torch": torch.__version__, "threads": a.threads,
            "seconds": secs, "reps": a.reps, "seq": SEQ, "dim": DIM,
            "heads": HEADS, "kv_heads": KV_HEADS, "layers": LAYERS, "mlp": MLP,
            "gemm_flops": gemm_flops(), "attention_flops": attention_flops()}
    with open(os.path.join(a.out, f"llama_model_torch_{a.threads}t.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
