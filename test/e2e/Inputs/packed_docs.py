"""Writes inputs and the float64 reference of packed-document attention.

packed_docs.py OUT_PREFIX --q B,Hq,S,D --kv Hkv --docs L1,L2,...
               [--doc-shape S | 1,S] [--doc-dtype i32|i64] [--causal]
               [--scale X] [--seed N]

Writes OUT_PREFIX.{q,k,v}.npy (f32, normal(0, 1)), OUT_PREFIX.doc.npy (the
document id of every token: documents of lengths L1, L2, ... packed one
after another; their sum must be S) and OUT_PREFIX.want.npy: softmax(q kᵀ
scale + mask) v in float64 (stored as f32), where query i sees key j iff
doc[i] == doc[j] (and j <= i with --causal); query head h reads key/value
head h // (Hq // Hkv). Plain Python (numpy may be missing).
"""
import argparse
import math
import random
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--q", required=True)
p.add_argument("--kv", type=int, required=True)
p.add_argument("--docs", required=True)
p.add_argument("--doc-shape", default=None)
p.add_argument("--doc-dtype", default="i32")
p.add_argument("--causal", action="store_true")
p.add_argument("--scale", type=float, default=None)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()

B, HQ, S, D = (int(x) for x in a.q.split(","))
HKV = a.kv
lens = [int(x) for x in a.docs.split(",")]
assert sum(lens) == S, "document lengths must add up to S"
assert HQ % HKV == 0
scale = a.scale if a.scale is not None else 1.0 / math.sqrt(D)


def write(path, descr, shape, values):
    """A version-1 .npy file of `values` (row-major)."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % s for s in shape) if len(shape) == 1
        else ", ".join(str(s) for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    code = {"<f4": "f", "<i4": "i", "<i8": "q"}[descr]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack("<%d%s" % (len(values), code), *values))


rng = random.Random(a.seed)


def normal(n):
    """n values from normal(0, 1), rounded to f32."""
    return [struct.unpack("f", struct.pack("f", rng.gauss(0, 1)))[0]
            for _ in range(n)]


q = normal(B * HQ * S * D)
k = normal(B * HKV * S * D)
v = normal(B * HKV * S * D)
doc = [d for d, n in enumerate(lens) for _ in range(n)]

out = []
for b in range(B):
    for h in range(HQ):
        g = h // (HQ // HKV)
        qb = (b * HQ + h) * S * D
        kb = (b * HKV + g) * S * D
        for i in range(S):
            keys = [j for j in range(S)
                    if doc[i] == doc[j] and (not a.causal or j <= i)]
            s = [scale * sum(q[qb + i * D + d] * k[kb + j * D + d]
                             for d in range(D)) for j in keys]
            m = max(s)
            e = [math.exp(x - m) for x in s]
            z = sum(e)
            for d in range(D):
                out.append(sum(e[t] * v[kb + j * D + d]
                               for t, j in enumerate(keys)) / z)

write(a.out + ".q.npy", "<f4", (B, HQ, S, D), q)
write(a.out + ".k.npy", "<f4", (B, HKV, S, D), k)
write(a.out + ".v.npy", "<f4", (B, HKV, S, D), v)
doc_shape = tuple(int(x) for x in (a.doc_shape or str(S)).split(","))
write(a.out + ".doc.npy", {"i32": "<i4", "i64": "<i8"}[a.doc_dtype],
      doc_shape, doc)
write(a.out + ".want.npy", "<f4", (B, HQ, S, D), out)
