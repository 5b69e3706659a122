"""GPU end to end (examples/gpu-e2e): runs the compiled module through
cprt-gpu-e2e for several ring configurations on this GPU and compares each
output with a float64 reference computed by PyTorch. Exits 1 on a mismatch.

Usage: python3 check.py BUILD_DIR/cprt-gpu-e2e WORKDIR
"""
import os
import subprocess
import sys

import torch

exe, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
torch.manual_seed(20261124)
B, Hq, Hkv, S, D = 1, 16, 4, 4096, 128
q = torch.randn(B, Hq, S, D, dtype=torch.bfloat16)
k = torch.randn(B, Hkv, S, D, dtype=torch.bfloat16)
v = torch.randn(B, Hkv, S, D, dtype=torch.bfloat16)
for name, t in (("q", q), ("k", k), ("v", v)):
    t.contiguous().view(torch.int16).numpy().tofile(os.path.join(work, name + ".bin"))

# The module computes sdpa(bf16(q * 0.5), k, v, causal, GQA): the scaling
# rounds to bf16 in the compiled code, so the reference does too.
dev = "cuda" if torch.cuda.is_available() else "cpu"
qs = (q * 0.5).to(torch.bfloat16).double().to(dev)
kk = k.double().repeat_interleave(Hq // Hkv, dim=1).to(dev)
vv = v.double().repeat_interleave(Hq // Hkv, dim=1).to(dev)
scores = qs @ kk.transpose(-1, -2) / D ** 0.5
causal = torch.ones(S, S, dtype=torch.bool, device=dev).triu(1)
scores = scores.masked_fill(causal, float("-inf"))
ref = (torch.softmax(scores, dim=-1) @ vv).cpu()
del qs, kk, vv, scores

BAL = {"none": 0, "head_tail": 1, "striped": 2}
ROT = {"allgather": 0, "alltoall": 1, "ring": 2}
configs = [(1, "head_tail", "ring"), (2, "head_tail", "ring"), (4, "head_tail", "ring"),
           (8, "head_tail", "ring"), (4, "striped", "alltoall"), (3, "none", "allgather")]
ok = True
print("| virtual ranks | balancer | rotate | rel err (L2) | max abs err | call ms |")
print("|---|---|---|---|---|---|")
for world, bal, rot in configs:
    out_path = os.path.join(work, "out.bin")
    if os.path.exists(out_path):
        os.remove(out_path)
    r = subprocess.run([exe, work, str(world), str(BAL[bal]), str(ROT[rot])],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"| {world} | {bal} | {rot} | FAILED: {r.stderr.strip()} | | |")
        ok = False
        continue
    ms = r.stdout.strip().split("call ")[-1].split(" ms")[0]
    raw = torch.from_file(out_path, size=B * Hq * S * D, dtype=torch.int16)
    out = raw.view(torch.bfloat16).view(B, Hq, S, D).double()
    rel = ((out - ref).norm() / ref.norm()).item()
    mx = (out - ref).abs().max().item()
    good = rel <= 1e-2 and mx == mx  # NaN never passes
    ok &= good
    print(f"| {world} | {bal} | {rot} | {rel:.2e} | {mx:.2e} | {ms} |" + ("" if good else " FAIL"))
print("gpu e2e:", "all match the float64 reference (rel L2 <= 1e-2)" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
