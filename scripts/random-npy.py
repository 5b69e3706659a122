"""Writes .npy files of random inputs (no numpy needed): the GPU script's
inputs for fixtures that have no recorded ones.

random-npy.py OUT DESCR SHAPE SEED [--ints N]

DESCR: <f4 (float32), <u2 (bfloat16 bits, as cp-run and cprt-gpu-run read
them), <f2 (float16), <i4 / <i8 (integers), |b1 (booleans). SHAPE:
comma-separated dims. Floats are normal(0, 1); integers are in [0, N)
(--ints, default 4), sorted along the last dim (document ids of packed
sequences); booleans are true (keep) with probability 3/4.
"""
import argparse
import random
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("descr")
p.add_argument("shape")
p.add_argument("seed", type=int)
p.add_argument("--ints", type=int, default=4)
a = p.parse_args()

shape = [int(d) for d in a.shape.split(",") if d]
count = 1
for d in shape:
    count *= d
rng = random.Random(a.seed)


def bf16_bits(x):
    """Round-to-nearest-even of a float32 to its top 16 bits."""
    (u,) = struct.unpack("<I", struct.pack("<f", x))
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16


if a.descr in ("<i4", "<i8"):
    last = shape[-1] if shape else 1
    vals = []
    for _ in range(count // last):
        vals += sorted(rng.randrange(a.ints) for _ in range(last))
    data = struct.pack("<%d%s" % (count, "i" if a.descr == "<i4" else "q"), *vals)
elif a.descr == "|b1":
    data = bytes(1 if rng.random() < 0.75 else 0 for _ in range(count))
elif a.descr == "<u2":
    data = struct.pack("<%dH" % count, *(bf16_bits(rng.gauss(0, 1)) for _ in range(count)))
elif a.descr in ("<f4", "<f2"):
    code = "f" if a.descr == "<f4" else "e"
    data = struct.pack("<%d%s" % (count, code), *(rng.gauss(0, 1) for _ in range(count)))
else:
    raise SystemExit("random-npy.py: unsupported descr " + a.descr)

header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
    a.descr, "".join("%d, " % d for d in shape))
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(a.out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00")
    f.write(struct.pack("<H", len(header)))
    f.write(header.encode("latin1"))
    f.write(data)
