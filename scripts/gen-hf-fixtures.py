#!/usr/bin/env python3
"""Builds small Hugging Face transformers models from their configs (random
weights, nothing downloaded), exports them with torch-mlir (linalg-on-tensors
and TOSA) and saves PyTorch's inputs and outputs next to them, so that
scripts/hf-matrix.py can run every export through the cp pipeline on N ranks
and compare with PyTorch.

Usage (needs torch, torch-mlir and transformers; see test/Fixtures/README.md):
    python3 scripts/gen-hf-fixtures.py --out build/hf-fixtures [--only llama]

Each case is one family x attention implementation x variant:
  default   what `AutoModel` exports as it is (input_ids only)
  nopack    transformers' packed-sequence detection switched off
  b2        batch 2
  padmask   batch 2 with an attention_mask (left padding on row 1)
It writes <case>.{linalg,tosa}.mlir, <case>.in<i>.npy, <case>.out.npy and a
manifest.json listing them (with the entry name, the inputs and a note).
"""
import argparse
import contextlib
import json
import os
import sys
import traceback

import numpy as np
import torch
from torch_mlir import fx
import transformers
from transformers import AutoModel

S = 64
VOCAB = 128


def configs(tiny=False):
    """Small configs per family: hidden 64, 4 query heads (2 KV heads where
    the family has GQA), one layer (two for Gemma2's local/global pair).
    `tiny` (hidden 32, head dim 8, vocab 32) keeps a checked-in
    fixture small."""
    c = transformers
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=1, num_attention_heads=4,
                  max_position_embeddings=256, use_cache=False)
    if tiny:
        common.update(vocab_size=32, hidden_size=32, intermediate_size=32)
    gqa = dict(common, num_key_value_heads=common["num_attention_heads"] // 2)
    yield "llama", c.LlamaConfig(**gqa)
    yield "mistral", c.MistralConfig(**gqa, sliding_window=16)
    yield "qwen2", c.Qwen2Config(**gqa)
    yield "qwen3", c.Qwen3Config(**gqa, head_dim=16)
    yield "gemma", c.GemmaConfig(**gqa, head_dim=16)
    yield "gemma2", c.Gemma2Config(**dict(gqa, num_hidden_layers=2),
                                   head_dim=16, sliding_window=16,
                                   attn_logit_softcapping=50.0,
                                   final_logit_softcapping=None)
    yield "phi3", c.Phi3Config(**gqa, pad_token_id=0)
    yield "gpt2", c.GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=1,
                               n_head=4, n_positions=256, use_cache=False)
    yield "opt", c.OPTConfig(vocab_size=VOCAB, hidden_size=64, ffn_dim=128,
                             num_hidden_layers=1, num_attention_heads=4,
                             max_position_embeddings=256,
                             word_embed_proj_dim=64, use_cache=False)
    yield "gpt_neox", c.GPTNeoXConfig(**common)


class LastHidden(torch.nn.Module):
    """The base model's last hidden state: one tensor result."""

    def __init__(self, model, with_mask):
        super().__init__()
        self.model = model
        self.with_mask = with_mask

    def forward(self, ids, mask=None):
        kw = dict(input_ids=ids, use_cache=False)
        if self.with_mask:
            kw["attention_mask"] = mask
        return self.model(**kw).last_hidden_state


@contextlib.contextmanager
def packed_detection(enabled):
    """transformers finds packed sequences from position ids with a cumsum
    (a tm_tensor.scan after torch-mlir); `nopack` switches that off."""
    mu = transformers.masking_utils
    orig = getattr(mu, "find_packed_sequence_indices", None)
    if not enabled and orig is not None:
        mu.find_packed_sequence_indices = lambda *a, **k: None
    try:
        yield
    finally:
        if orig is not None:
            mu.find_packed_sequence_indices = orig


def build(cfg, attn):
    torch.manual_seed(0)
    model = AutoModel.from_config(cfg, attn_implementation=attn).eval()
    # The FX importer cannot map non-persistent buffers (RoPE's inv_freq).
    for m in model.modules():
        m._non_persistent_buffers_set.clear()
    return model


def variants(vocab=VOCAB):
    g = torch.Generator().manual_seed(7)
    ids1 = torch.randint(1, vocab, (1, S), generator=g)
    ids2 = torch.randint(1, vocab, (2, S), generator=g)
    mask = torch.ones(2, S, dtype=torch.int64)
    mask[1, :5] = 0  # left padding on row 1
    yield "default", True, (ids1,)
    yield "nopack", False, (ids1,)
    yield "b2", True, (ids2,)
    yield "padmask", True, (ids2, mask)


def export_case(out, name, model, args, pack, manifest, dialects):
    wrapper = LastHidden(model, with_mask=len(args) == 2).eval()
    with torch.no_grad(), packed_detection(pack):
        want = wrapper(*args)
    entry = name.replace("-", "_")
    files = {}
    for otype, suffix in dialects:
        path = os.path.join(out, f"{name}.{suffix}.mlir")
        try:
            with packed_detection(pack):
                text = str(fx.export_and_import(wrapper, *args,
                                                output_type=otype,
                                                func_name=entry))
        except Exception as e:  # keep going: the manifest says which failed
            files[suffix] = {"error": f"{type(e).__name__}: "
                             f"{str(e).splitlines()[0][:300]}"}
            print(f"FAILED {name} {otype}: {files[suffix]['error']}",
                  file=sys.stderr)
            continue
        with open(path, "w") as f:
            f.write(f"// Generated by scripts/gen-hf-fixtures.py (torch "
                    f"{torch.__version__}, transformers "
                    f"{transformers.__version__}, {otype}). Do not edit.\n")
            f.write(text)
        files[suffix] = {"mlir": os.path.basename(path)}
    inputs = []
    for i, a in enumerate(args):
        p = f"{name}.in{i}.npy"
        np.save(os.path.join(out, p), a.numpy())
        inputs.append(p)
    np.save(os.path.join(out, f"{name}.out.npy"), want.float().numpy())
    manifest.append({"case": name, "entry": entry, "inputs": inputs,
                     "output": f"{name}.out.npy", "files": files})
    print("wrote", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build/hf-fixtures")
    ap.add_argument("--only", default=None,
                    help="comma-separated substrings of the case names to generate")
    ap.add_argument("--attn", default="sdpa,eager")
    ap.add_argument("--variants", default="default,nopack,b2,padmask")
    ap.add_argument("--dialects", default="linalg,tosa")
    ap.add_argument("--tiny", action="store_true",
                    help="hidden 32, head dim 8, vocab 32 (checked-in fixtures)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    dialects = [(t, s) for t, s in (("linalg-on-tensors", "linalg"),
                                    ("tosa", "tosa"))
                if s in a.dialects.split(",")]
    manifest = []
    for family, cfg in configs(a.tiny):
        for attn in a.attn.split(","):
            for var, pack, args in variants(32 if a.tiny else VOCAB):
                if var not in a.variants.split(","):
                    continue
                name = f"{family}-{attn}-{var}"
                if a.only and not any(o in name for o in a.only.split(",")):
                    continue
                try:
                    model = build(cfg, attn)
                    export_case(a.out, name, model, args, pack, manifest,
                                dialects)
                except Exception:
                    print(f"FAILED {name}:\n{traceback.format_exc()}",
                          file=sys.stderr)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest)} cases in {a.out}/manifest.json")


if __name__ == "__main__":
    main()
