#!/usr/bin/env python3
"""Runs every export that scripts/gen-hf-fixtures.py wrote through the cp
pipeline and cp-run on N ranks, against PyTorch's output and the
single-device module, and prints a table (markdown with --markdown).

    python3 scripts/hf-matrix.py build/hf-fixtures [--ranks 1,2,3,4,8]
        [--pipeline "rotate=ring load-balance=head_tail"] [--only llama]

Per export the table says: whether cp-opt parses it, whether attention is
detected (how many cp.sdpa / cp.flex_attention), and per rank count whether
cp-run's result matches PyTorch (--expect) and the single-device run
(--compare-single-device); otherwise the first error line. The note ends
with the largest absolute error vs PyTorch of the single-device run and of
the CP runs that finished (over the rows that keep a key).
Exit status: 0 when every export either matches or is refused with a
diagnostic (a loud refusal), 1 when a run crashes, hangs or mismatches.
Needs numpy (run it with the fixture venv's python).
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout"


def first_error(text):
    for line in text.splitlines():
        if "error:" in line or "FAIL" in line or "remark:" in line:
            return re.sub(r"^.*?(error|remark): ", "", line).strip()[:160]
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1][:160] if lines else ""


# Per-family tolerance notes: differences from PyTorch that come from
# upstream lowering, not from cp (the single-device run shows them too).
TOLERANCE = {
    # torch-mlir's linalg lowering of gelu(approximate="tanh") uses
    # 0.797724 for sqrt(2/pi) = 0.7978846 (its TOSA export is right).
    ("gemma", "linalg"): ("1e-3", "1e-3", "torch-mlir gelu-tanh constant"),
    ("gemma2", "linalg"): ("1e-3", "1e-3", "torch-mlir gelu-tanh constant"),
    ("gpt2", "linalg"): ("1e-3", "1e-3", "torch-mlir gelu-tanh constant"),
}


def valid_rows(case, data_dir):
    """Query rows that keep at least one key: with an attention_mask input,
    the padded positions of each row are padding queries (no key at all
    under left padding); their outputs differ by design (docs/detection.md,
    masked fills) and models ignore them."""
    import numpy as np
    if len(case["inputs"]) < 2:
        return None
    mask = np.load(os.path.join(data_dir, case["inputs"][1]))
    return mask.astype(bool)  # [B, S]


def compare(got, want, rows, rtol, atol):
    import numpy as np
    g = np.load(got).astype(np.float64)
    w = np.load(want).astype(np.float64)
    if g.shape != w.shape:
        return False, f"shape {g.shape} vs {w.shape}", float("inf")
    if rows is not None:
        g, w = g[rows], w[rows]
    err = np.abs(g - w)
    ok = bool(np.all(err <= atol + rtol * np.abs(w))) and not np.isnan(g).any()
    return ok, f"max abs err {err.max():.1e}", float(err.max())


def run_ranks(a, cp_run, case, path, ranks, family, dialect):
    """cp-run once without the pipeline (the single-device reference), then
    with it on each rank count; outputs compared with PyTorch's and the
    reference on the rows that keep a key."""
    import tempfile
    tol = TOLERANCE.get((family, dialect))
    rtol, atol = (float(tol[0]), float(tol[1])) if tol else (1e-4, 1e-5)
    note = tol[2] if tol else ""
    inputs = ",".join(os.path.join(a.dir, i) for i in case["inputs"])
    rows = valid_rows(case, a.dir)
    torch_out = os.path.join(a.dir, case["output"])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ref = os.path.join(tmp, "ref.npy")
        rc, _, err = run([cp_run, path, "--entry", case["entry"], "--quiet",
                          "--inputs", inputs, "--outputs", ref], a.timeout)
        if rc != 0:
            return [f"ref:{'hang' if rc is None else 'rc%d' % rc}"], \
                first_error(err)
        ok, msg, ref_err = compare(ref, torch_out, rows, rtol, atol)
        cp_err = None  # the largest error vs PyTorch over the CP runs
        results.append("1dev:" + ("ok" if ok else "mismatch"))
        if not ok:
            note = f"single device vs PyTorch {msg}"
        for r in ranks:
            got = os.path.join(tmp, f"got{r}.npy")
            rc, _, err = run([cp_run, path, "--entry", case["entry"],
                              "--ranks", str(r), "--pipeline", a.pipeline,
                              "--quiet", "--inputs", inputs, "--outputs",
                              got], a.timeout)
            if rc != 0:
                results.append(f"{r}:" + ("hang" if rc is None else
                                          "crash" if rc < 0 else f"rc{rc}"))
                note = first_error(err)
                if rc is not None and rc in (1, 2, 3):
                    break  # a refusal: the same on every rank count
                continue
            ok1, m1, e1 = compare(got, torch_out, rows, rtol, atol)
            ok2, m2, _ = compare(got, ref, rows, 1e-4, 1e-5)
            cp_err = e1 if cp_err is None else max(cp_err, e1)
            results.append(f"{r}:" + ("ok" if ok1 and ok2 else "mismatch"))
            if not (ok1 and ok2):
                note = f"vs PyTorch {m1}, vs single device {m2}"
    errs = f"max abs err vs PyTorch: 1dev {ref_err:.1e}" + (
        f", CP {cp_err:.1e}" if cp_err is not None else "")
    note = (note + "; " if note else "") + errs
    if rows is not None:
        note += "; padding query rows excluded"
    return results, note


def detect(cp_opt, path, timeout):
    rc, out, err = run([cp_opt, path, "--cp-detect-attention=report-misses=true",
                        "-o", "-"], timeout)
    if rc is None:
        return "hang", ""
    if rc != 0:
        return "no-parse", first_error(err)
    n = len(re.findall(r"cp\.(sdpa|flex_attention)\b", out))
    why = first_error(err) if n == 0 else ""
    return n, why


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--ranks", default="1,2,3,4,8")
    ap.add_argument("--pipeline", default="rotate=ring load-balance=head_tail")
    ap.add_argument("--only", default=None)
    ap.add_argument("--dialects", default="linalg,tosa")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    cp_opt = os.path.join(a.build, "bin", "cp-opt")
    cp_run = os.path.join(a.build, "bin", "cp-run")
    with open(os.path.join(a.dir, "manifest.json")) as f:
        manifest = json.load(f)
    ranks = [int(r) for r in a.ranks.split(",")]
    rows, bad = [], 0
    for case in manifest:
        if a.only and a.only not in case["case"]:
            continue
        for dialect in a.dialects.split(","):
            info = case["files"].get(dialect, {})
            if "mlir" not in info:
                rows.append((case["case"], dialect, "export failed",
                             info.get("error", "")[:120]))
                continue
            path = os.path.join(a.dir, info["mlir"])
            n, why = detect(cp_opt, path, a.timeout)
            if not isinstance(n, int) or n == 0:
                rows.append((case["case"], dialect,
                             "not detected" if n == 0 else str(n), why))
                continue
            family = case["case"].split("-")[0]
            results, note = run_ranks(a, cp_run, case, path, ranks, family,
                                      dialect)
            bad += sum(1 for r in results if r.split(":")[1] in
                       ("hang", "mismatch", "crash"))
            rows.append((case["case"], dialect, f"{n} detected",
                         " ".join(results) + (f" ({note})" if note else "")))
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    if a.markdown:
        print("| case | dialect | detection | cp-run on N ranks |")
        print("|---|---|---|---|")
    for row in rows:
        print(("| " + " | ".join(row) + " |") if a.markdown
              else "  ".join(row))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
