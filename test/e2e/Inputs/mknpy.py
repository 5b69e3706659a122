"""Writes a (possibly malformed) .npy file for cp-run's bad-input tests.

mknpy.py OUT DESCR SHAPE [--values V,V,...] [--data-bytes N] [--version N]
         [--header-len N] [--header TEXT]

DESCR is a dtype string ('<f4'), SHAPE a tuple text ('(2, 3)') written as
is, so it may declare anything. --values packs the values with DESCR's
struct code; --data-bytes appends N zero bytes instead. --header replaces
the whole header dict, --header-len the stored header length.
"""
import argparse
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("descr")
p.add_argument("shape")
p.add_argument("--values", default=None)
p.add_argument("--data-bytes", type=int, default=0)
p.add_argument("--version", type=int, default=1)
p.add_argument("--header-len", type=int, default=None)
p.add_argument("--header", default=None)
a = p.parse_args()

header = a.header if a.header is not None else (
    "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (a.descr, a.shape))
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
hlen = len(header) if a.header_len is None else a.header_len
if a.values is not None:
    code = {"<f4": "f", "<f8": "d", "<i4": "i", "<i8": "q", "<f2": "e"}[a.descr]
    vals = [float(v) if code in "fde" else int(v) for v in a.values.split(",")]
    data = struct.pack("<%d%s" % (len(vals), code), *vals)
else:
    data = bytes(a.data_bytes)
with open(a.out, "wb") as f:
    f.write(b"\x93NUMPY" + bytes([a.version, 0]))
    f.write(struct.pack("<H", hlen) if a.version == 1 else struct.pack("<I", hlen))
    f.write(header.encode("latin1"))
    f.write(data)
