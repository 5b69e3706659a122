#!/usr/bin/env python3
"""Mutation fuzzer for cp-opt's public passes and pipelines.

Takes the lit corpus (test/**/*.mlir, split at `// -----`) and the fixtures
(test/Fixtures/Inputs), applies seeded mutations (delete / duplicate / swap
lines, swap operands, change dims to 0, 1, primes, huge or `?`, change
element types, corrupt or drop attributes and enum values, truncate) and
runs each mutant through one public pass or pipeline of cp-opt with a
timeout. Every case is classified:

  ok          the pass succeeded and its output parses and verifies again
  diagnostic  cp-opt refused the input with an error (no crash)
  crash       a signal, "Stack dump", an assertion or "LLVM ERROR"
  hang        no answer within the timeout (retried once with 3x the time)
  invalid     the pass left IR that does not verify: either its output
              does not re-parse, or it failed only through the verifier and
              a rerun with --verify-each=false gives output that does not
              re-parse

Crashes whose stack has no frame in cp's code and does go through MLIR's
parser are upstream parser bugs: listed, not counted (every other crash
counts, upstream passes included: cp's pipelines run them). Crashing, hanging and
invalid inputs are written to --out with the command and stderr. Exits 1
if any counted crash, hang or invalid output is found. Python 3 stdlib only.

  test/fuzz/fuzz.py --cp-opt build/bin/cp-opt --cases 300 --seed 1
"""

import argparse
import collections
import concurrent.futures
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every public pass and pipeline, with the option sets users pick.
PASSES = [
    ["--cp-detect-attention"],
    ["--cp-context-parallel=grid-size=2"],
    ["--cp-context-parallel=grid-size=4 rotate=alltoall load-balance=striped"],
    ["--cp-context-parallel=grid-size=3 rotate=allgather load-balance=none pad=true"],
    ["--cp-expand-ring"],
    ["--cp-lower-to-runtime"],
    ["--cp-lower-to-llvm"],
    ["--cp-pipeline=grid-size=2"],
    ["--cp-pipeline=grid-size=4 pad=true expand=false"],
    ["--cp-pipeline=grid-size=3 load-balance=striped", "--cp-lower-to-llvm"],
]

DIM_VALUES = ["0", "1", "2", "3", "5", "7", "13", "31", "127", "1000003",
              "4294967296", "?"]
ELEM_TYPES = ["f32", "f16", "bf16", "f64", "i1", "i8", "i32", "i64", "index",
              "f8E4M3FN", "complex<f32>"]
ENUM_WORDS = ["head_tail", "striped", "none", "ptrr", "per_document_head_tail",
              "ring", "alltoall", "allgather", "causal", "kv_head_half",
              "q_tail_half", "bogus", ""]
NUMBERS = ["0", "-1", "1", "2", "3", "7", "64", "65", "1000000",
           "9223372036854775807", "-9223372036854775808", "1.5", "0x7FC00000"]

TENSOR_RE = re.compile(r"(tensor|memref|vector)<([0-9?x]+x)?([a-zA-Z0-9_<>]+)>")
DIM_RE = re.compile(r"(?<=[<x])(\d+|\?)(?=x)")
ELEM_RE = re.compile(r"(?<=x)(f16|bf16|f32|f64|i1|i8|i16|i32|i64|index)(?=>)")
ENUM_RE = re.compile(r"(#cp\.[a-z_]+<)([a-z_]*)(>)")
ATTR_NUM_RE = re.compile(r"(\b[a-z_]+ = )(-?\d+(?:\.\d+)?)")
SHAPE_RE = re.compile(r"(shape = )([0-9?x]+)")
OPERANDS_RE = re.compile(r"(%[\w#]+), (%[\w#]+)")
ATTR_DICT_RE = re.compile(r" \{[^{}]*\}")
WORD_ATTR_RE = re.compile(r"\b(is_causal|pad|enable_gqa|read_only|restrict|writable)\b")


def load_corpus(dirs):
    """Chunks of every .mlir file under `dirs` (split at `// -----`)."""
    chunks = []
    for d in dirs:
        for base, _, files in os.walk(d):
            if "fuzz" in os.path.relpath(base, ROOT).split(os.sep):
                continue
            for f in sorted(files):
                if not f.endswith(".mlir"):
                    continue
                path = os.path.join(base, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for i, chunk in enumerate(re.split(r"^// -----\s*$", text,
                                                   flags=re.M)):
                    if chunk.strip():
                        chunks.append((os.path.relpath(path, ROOT), i, chunk))
    chunks.sort(key=lambda c: (c[0], c[1]))
    return chunks


def sub_one(rng, regex, text, repl):
    """Replaces one random match of `regex` by repl(match) (or no change)."""
    matches = list(regex.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    return text[:m.start()] + repl(m) + text[m.end():]


def code_lines(lines):
    return [i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("//")]


def mutate(rng, text):
    """One random mutation of `text`; returns (name, new text)."""
    lines = text.split("\n")
    code = code_lines(lines)
    kind = rng.choice(["delete", "duplicate", "swap", "dim", "elem",
                       "retype", "retype", "retype", "relem", "relem",
                       "enum", "enum", "attr_num", "attr_num", "grid_shape",
                       "grid_shape", "operands", "drop_attrs", "drop_word",
                       "truncate"])
    if kind == "retype":
        # One dim of one type, changed everywhere the type is spelled: the
        # module stays consistent and the mutant reaches the passes.
        types = sorted(set(m.group(0) for m in TENSOR_RE.finditer(text)))
        if types:
            t = rng.choice(types)
            return kind, text.replace(t, sub_one(rng, DIM_RE, t,
                                                 lambda m: rng.choice(DIM_VALUES)))
        return kind, text
    if kind == "relem":
        old = rng.choice(["f32", "f16", "bf16", "i1", "i64"])
        return kind, re.sub(r"(?<=x)%s(?=>)" % old, rng.choice(ELEM_TYPES), text)
    if kind == "delete" and code:
        del lines[rng.choice(code)]
    elif kind == "duplicate" and code:
        i = rng.choice(code)
        lines.insert(i, lines[i])
    elif kind == "swap" and len(code) > 1:
        i, j = rng.sample(code, 2)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "truncate":
        return kind, text[:rng.randrange(len(text) + 1)]
    else:
        repl = {
            "dim": (DIM_RE, lambda m: rng.choice(DIM_VALUES)),
            "elem": (ELEM_RE, lambda m: rng.choice(ELEM_TYPES)),
            "enum": (ENUM_RE, lambda m: m.group(1) + rng.choice(ENUM_WORDS) + m.group(3)),
            "attr_num": (ATTR_NUM_RE, lambda m: m.group(1) + rng.choice(NUMBERS)),
            "grid_shape": (SHAPE_RE, lambda m: m.group(1) + rng.choice(
                ["0", "1", "?", "2x2", "1000000", "0x4", "3"])),
            "operands": (OPERANDS_RE, lambda m: m.group(2) + ", " + m.group(1)),
            "drop_attrs": (ATTR_DICT_RE, lambda m: ""),
            "drop_word": (WORD_ATTR_RE, lambda m: ""),
        }.get(kind)
        if repl:
            # Mutate a single type/attribute occurrence, so that the rest of
            # the module stays consistent and the mutant reaches the passes.
            return kind, sub_one(rng, repl[0], text, repl[1])
    return kind, "\n".join(lines)


def run(cmd, stdin, timeout):
    """(returncode | 'timeout', stdout, stderr)."""
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                           timeout=timeout, errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


CRASH_MARKERS = ("Stack dump", "PLEASE submit a bug report", "Assertion `",
                 "LLVM ERROR", "UNREACHABLE executed", "terminate called")
FRAME_RE = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ (.*)$", re.M)


def is_crash(rc, err):
    return (isinstance(rc, int) and rc < 0) or any(m in err for m in CRASH_MARKERS)


# A frame in cp's code: its namespaces, the runtime, or one of its files
# (anonymous-namespace functions are named by file). cp-opt links
# MlirOptMain statically, so "in the cp-opt binary" alone does not say cp.
CP_FRAME_RE = re.compile(r"mlir::cp::|cprt|\b(ContextParallel|DetectAttention|"
                         r"DetectExpr|ExpandRing|LowerToRuntime|LowerToLLVM|"
                         r"CPOps|CPDialect|Pipeline|cp-opt)\.cpp")


def crash_site(err, tool):
    """'cp' when a frame is in cp's code (or a frame of the tool binary has
    no name), 'parser' when all frames are upstream and MLIR's parser is on
    the stack, else 'upstream'."""
    frames = FRAME_RE.findall(err)
    binary = "/" + os.path.basename(tool) + "+0x"
    # Innermost first: the first frame in cp's code or in MLIR's parser
    # decides (under ASan the driver's main in cp-opt.cpp is on every
    # stack, the parser's frames are inside it).
    for f in frames:
        if CP_FRAME_RE.search(f) or (f.startswith("(") and binary in f):
            return "cp"
        if "Lexer::" in f or "Parser" in f or "parseSourceFile" in f or \
                "parseAsmSourceFile" in f:
            return "parser"
    return "upstream" if frames else "cp"


def signature(err):
    """A short, stable name of a failure: the first named frame past the
    signal handler, or the first error line."""
    for f in FRAME_RE.findall(err):
        name = re.sub(r" \(/[^)]*\)$| \S+\.(cpp|o):\d+:\d+$", "", f)
        if "llvm::sys::" in name or name.startswith("("):
            continue
        return name[:160]
    for line in err.splitlines():
        if "error" in line.lower() or "Assertion" in line:
            return re.sub(r"^[^:]*:\d+:\d+: ", "", line)[:160]
    return err.strip().splitlines()[0][:160] if err.strip() else "(no output)"


def reparses(tool, text, timeout):
    rc, _, err = run([tool, "--allow-unregistered-dialect", "-o", os.devnull, "-"],
                     text, timeout)
    return rc == 0, err


def classify(tool, pass_args, text, timeout):
    """(class, detail, stderr) of one case."""
    base = [tool, "--allow-unregistered-dialect"]
    rc, out, err = run(base + pass_args + ["-"], text, timeout)
    if rc == "timeout":
        rc, out, err = run(base + pass_args + ["-"], text, 3 * timeout)
        if rc == "timeout":
            return "hang", "timeout after %gs (and %gs)" % (timeout, 3 * timeout), ""
    if is_crash(rc, err):
        site = crash_site(err, tool)
        return ("crash" if site != "parser" else "parser-crash"), signature(err), err
    if rc == 0:
        ok, verr = reparses(tool, out, timeout)
        if ok:
            return "ok", "", ""
        return "invalid", "output does not re-parse: " + signature(verr), verr + "\n" + out
    # Refused: was it the verifier after a pass (invalid IR), or a diagnostic?
    rc2, out2, err2 = run(base + pass_args + ["--verify-each=false", "-"], text, timeout)
    if rc2 == "timeout":
        return "hang", "timeout with --verify-each=false", ""
    if is_crash(rc2, err2):
        site = crash_site(err2, tool)
        return ("crash" if site != "parser" else "parser-crash"), \
            "with --verify-each=false: " + signature(err2), err2
    if rc2 == 0:
        ok, verr = reparses(tool, out2, timeout)
        if not ok:
            return "invalid", "invalid IR after the pass: " + signature(verr), \
                err + "\n--- rerun output does not verify:\n" + verr
    return "diagnostic", signature(err), ""


def case_input(rng, corpus):
    path, index, chunk = rng.choice(corpus)
    names = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        name, chunk = mutate(rng, chunk)
        names.append(name)
    return "%s#%d" % (path, index), "+".join(names), chunk


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cp-opt", default=os.path.join(ROOT, "build", "bin", "cp-opt"))
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds per cp-opt run (a timeout is retried once with 3x)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz-failures"),
                    help="folder for crashing, hanging and invalid inputs")
    ap.add_argument("--corpus", nargs="*",
                    default=[os.path.join(ROOT, "test"), os.path.join(ROOT, "examples")])
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    tool = os.path.abspath(args.cp_opt)
    if not os.access(tool, os.X_OK):
        sys.exit("fuzz.py: no cp-opt at %s (build it, or pass --cp-opt)" % tool)
    symbolizer = shutil.which("llvm-symbolizer") or "/usr/lib/llvm-22/bin/llvm-symbolizer"
    if os.path.exists(symbolizer):
        os.environ.setdefault("LLVM_SYMBOLIZER_PATH", symbolizer)
    corpus = load_corpus(args.corpus)
    if not corpus:
        sys.exit("fuzz.py: empty corpus")

    # Each case draws from its own generator: a case is reproducible from
    # (seed, index) alone, whatever --jobs is.
    cases = []
    for i in range(args.cases):
        rng = random.Random("%d/%d" % (args.seed, i))
        src, muts, text = case_input(rng, corpus)
        cases.append((i, src, muts, PASSES[i % len(PASSES)], text))

    t0 = time.time()
    results = [None] * len(cases)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {pool.submit(classify, tool, c[3], c[4], args.timeout): c[0] for c in cases}
        for f in concurrent.futures.as_completed(futs):
            results[futs[f]] = f.result()
    elapsed = time.time() - t0

    counts = collections.Counter()
    per_pass = collections.defaultdict(collections.Counter)
    failures = collections.OrderedDict()
    for (i, src, muts, pargs, text), (cls, detail, err) in zip(cases, results):
        counts[cls] += 1
        per_pass[" ".join(pargs)][cls] += 1
        if args.verbose:
            print("%5d %-12s %-40s %s: %s" % (i, cls, src[-40:], muts, detail))
        if cls in ("crash", "parser-crash", "hang", "invalid"):
            key = (cls, " ".join(pargs), detail)
            failures.setdefault(key, []).append((i, src, muts, text, err))

    classes = ["ok", "diagnostic", "crash", "parser-crash", "hang", "invalid"]
    print("cp-opt fuzz: %d cases, seed %d, %d corpus chunks, %.1fs, %d jobs"
          % (len(cases), args.seed, len(corpus), elapsed, args.jobs))
    width = max(len(p) for p in per_pass)
    print("%-*s %s" % (width, "pass", " ".join("%12s" % c for c in classes)))
    for p in (" ".join(a) for a in PASSES):
        if p in per_pass:
            print("%-*s %s" % (width, p, " ".join("%12d" % per_pass[p][c] for c in classes)))
    print("%-*s %s" % (width, "total", " ".join("%12d" % counts[c] for c in classes)))

    if failures:
        os.makedirs(args.out, exist_ok=True)
    for (cls, pargs, detail), items in failures.items():
        i, src, muts, text, err = items[0]
        tag = hashlib.sha1(("%s|%s|%s" % (cls, pargs, detail)).encode()).hexdigest()[:10]
        base = os.path.join(args.out, "%s-%s" % (cls, tag))
        with open(base + ".mlir", "w") as fh:
            fh.write(text)
        with open(base + ".txt", "w") as fh:
            fh.write("class: %s\ncommand: cp-opt --allow-unregistered-dialect %s %s.mlir\n"
                     "from: %s (%s), case %d of seed %d, %d similar case(s)\n"
                     "detail: %s\n\n%s" % (cls, pargs, base, src, muts, i, args.seed,
                                            len(items), detail, err))
        counted = "" if cls == "parser-crash" else " [counted]"
        print("%s%s: %s | %s | %d case(s), e.g. %s.mlir"
              % (cls, counted, pargs, detail, len(items), base))
    bad = counts["crash"] + counts["hang"] + counts["invalid"]
    print("fuzz: %s (%d crash, %d hang, %d invalid; %d upstream parser crash(es) listed)"
          % ("FAIL" if bad else "ok", counts["crash"], counts["hang"], counts["invalid"],
             counts["parser-crash"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
