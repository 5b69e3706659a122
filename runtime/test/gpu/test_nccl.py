#!/usr/bin/env python3
"""Multi-GPU tests: the NCCL communicator and the ring over NCCL, one process per GPU.

The launcher starts W worker processes (W = visible GPUs, or --world), worker r on
CUDA device r, and aggregates their results (nccl_workers.py: hard timeouts, every
worker killed on timeout). All workers run the same case list in the same order; a
file barrier starts each case and every NCCL communicator gets a new id file.

Cases:
  * communicator self-test over NCCL (shift in both forms, all-gather, all-to-all-v,
    reduce-scatter, barrier) on every rank;
  * ring forward + backward over NCCL (cprt_cuda_ring_run, transport 1, one rank per
    process): balancers none / headtail / striped x rotations ring / alltoall /
    allgather, causal (bf16, GQA 4:2, D64) and full (fp16, D128), padding
    (S % 2W != 0), sliding windows, GQA 8:2 with B=2, per-document, PTRR, forward
    only, and two larger S=4096 cases (not with --quick). Every process holds the
    full global inputs (same seed everywhere, drawn on the CPU), shards its part,
    and gets the full gathered results (all-gather over NCCL); every rank checks
    them against a float64 torch reference (test_gpu.py's) and against the same
    ring over W virtual ranks on its own GPU (transport 0);
  * a silent rank: rank W-1 joins the communicator but skips every collective;
    every other rank must fail within the timeout (3 s) with an error naming the
    operation, and the silent rank's late barrier must fail too (no hang);
  * MPI bootstrap (makeNcclCommunicatorMpi): runs `mpirun -np W cprt-nccl-mpi-check`
    when both mpirun and the driver (built when cmake found MPI) exist.

Tolerance (as test_gpu.py): relative Frobenius error <= 1e-2 for out/dq/dk/dv, LSE
max abs error <= 1e-2 on finite rows and -inf exactly where the reference is -inf,
NaN never passes (outputs are poisoned with NaN before every call); NCCL vs virtual
ranks (same schedule and kernels) <= 1e-3. Fresh random inputs on every run
(--seed reproduces one).

  python3 test_nccl.py --lib build-gpu/src/cuda/libcprt_cuda.so [--quick] [--allow-skip]
                       [--world W] [--only SUBSTR[,SUBSTR]] [--seed N] [--timeout S]

Prints one line per case and "nccl: N/M passed"; exits nonzero on any failure. With
fewer than 2 GPUs it prints why it is skipped and exits 0 only with --allow-skip.
"""
import argparse
import ctypes as C
import math
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nccl_workers as nw  # noqa: E402

TOL = 1e-2
AGREE = 1e-3            # NCCL ring vs the same ring over virtual ranks
RING_TIMEOUT_MS = 30000  # communicator operations of the ring cases
COMM_TIMEOUT_MS = 20000
SILENT_TIMEOUT_MS = 3000
SLACK_S = 20.0          # rendezvous + NCCL init, included in the measured time
OPS = ("shift", "all-gather", "all-to-all", "reduce-scatter", "barrier")


def cases(W, quick):
    """The case list: deterministic, built identically by the launcher and every rank."""
    cs = [dict(kind="comm", name=f"comm nccl W={W} shift/allgather/alltoallv/reducescatter/barrier")]

    def ring(bal, rot, causal, dtype="bf16", B=1, Hq=4, Hkv=2, S=512, D=64, window=0,
             docs=False, backward=True, tag=""):
        name = (f"ring nccl W={W} {bal} {rot} {'causal' if causal else 'full'} {dtype} "
                f"B{B} H{Hq}:{Hkv} S{S} D{D}" + (f" window{window}" if window else "")
                + (" docs" if docs else "") + ("" if backward else " fwd-only") + tag)
        cs.append(dict(kind="ring", name=name, balancer=bal, rotate=rot, causal=causal,
                       dtype=dtype, B=B, Hq=Hq, Hkv=Hkv, S=S, D=D, window=window, docs=docs,
                       backward=backward))

    for bal in ("none", "headtail", "striped"):
        for rot in ("ring", "alltoall", "allgather"):
            ring(bal, rot, True)                                   # bf16, GQA 4:2, D64
            ring(bal, rot, False, dtype="fp16", Hkv=4, D=128)      # fp16, D128
    spad = 2 * W * 128 - 5  # odd, so S % 2W != 0: padding slots on some ranks
    ring("headtail", "ring", True, S=spad)
    ring("striped", "alltoall", False, dtype="fp16", S=spad)
    ring("none", "allgather", True, S=spad, D=128)
    ring("headtail", "ring", True, window=100)
    ring("striped", "allgather", True, dtype="fp16", S=spad, window=64)
    ring("headtail", "alltoall", True, B=2, Hq=8, Hkv=2, S=1024, D=128)
    ring("perdoc", "ring", True, docs=True)
    ring("ptrr", "ring", True)
    ring("headtail", "ring", True, backward=False)
    if not quick:
        ring("headtail", "ring", True, Hq=8, Hkv=8, S=4096, D=128, tag=" (large)")
        ring("none", "allgather", False, dtype="fp16", Hq=8, Hkv=4, S=4096, D=128,
             tag=" (large)")
    cs.append(dict(kind="silent", name=f"comm nccl W={W} silent rank {W - 1}: every rank "
                                       f"fails within {SILENT_TIMEOUT_MS} ms, no hang"))
    return cs


def selected(c, only):
    return not only or any(s and s in c["name"] for s in only.split(","))


# --------------------------------------------------------------------------- worker

def ring_case(env, c, i):
    torch, cc, tg, lib, wk, seed = env
    W, dev = wk.world, torch.device("cuda", wk.rank)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[c["dtype"]]
    B, Hq, Hkv, S, D = c["B"], c["Hq"], c["Hkv"], c["S"], c["D"]
    bwd, causal, window = c["backward"], c["causal"], c["window"]
    # The same global inputs on every rank: drawn on the CPU from the shared seed.
    g = torch.Generator().manual_seed(seed * 1009 + i)

    def rnd(*shape):
        return torch.randn(*shape, generator=g).to(dtype).to(dev)

    q, k, v, dout = rnd(B, Hq, S, D), rnd(B, Hkv, S, D), rnd(B, Hkv, S, D), rnd(B, Hq, S, D)
    dids = (torch.cumsum((torch.rand(S, generator=g) < 0.02).int(), 0).int()
            if c["docs"] else None)

    def run(transport):
        nan = float("nan")
        outs = {"out": torch.full_like(q, nan), "lse": torch.full((B, Hq, S), nan, device=dev),
                "dq": torch.full_like(q, nan), "dk": torch.full_like(k, nan),
                "dv": torch.full_like(v, nan)}
        r, _ms = nw.make_ring(
            cc, W, transport, c["balancer"], c["rotate"], causal, bwd, (B, Hq, Hkv, S, D),
            tg.DT[dtype], dict(q=q, k=k, v=v, dout=dout, **outs), window=window, doc_ids=dids,
            rank=wk.rank if transport == 1 else 0,
            id_file=wk.id_file(f"c{i}") if transport == 1 else None,
            timeout_ms=RING_TIMEOUT_MS)
        rc = lib.cprt_cuda_ring_run(C.byref(r))
        if rc:
            raise RuntimeError(f"{'nccl' if transport else 'virtual'} ring: status {rc}: "
                               f"{lib.cprt_cuda_last_error().decode()}")
        torch.cuda.synchronize()
        return outs, r

    got, r = run(1)
    names = ["out", "dq", "dk", "dv"] if bwd else ["out"]
    # float64 reference of the whole sequence (test_gpu.py's visibility + reference)
    vis, _ = tg.visibility(B, Hq, S, S, "not_causal", causal=causal, window=window,
                           docs=dids.to(dev) if dids is not None else None)
    scale = 1.0 / math.sqrt(D)
    ref = tg.reference(q, k, v, vis, None, scale, dout if bwd else None)
    rl = ref[1]
    refs = dict(zip(names, ((ref[0],) + tuple(ref[2:])) if bwd else (ref[0],)))
    errs = {n: tg.relerr(got[n], refs[n]) for n in names}
    fin = torch.isfinite(rl)
    lse = got["lse"]
    errs["lse"] = (lse.double()[fin] - rl[fin]).abs().max().item() if fin.any() else 0.0
    inf_ok = bool(torch.all(lse[~fin] == float("-inf"))) and not bool(torch.isnan(lse).any())
    ok = all(e <= TOL for e in errs.values()) and inf_ok  # NaN compares False
    # the same ring over W virtual ranks of this GPU
    virt, _ = run(0)
    agree = [tg.relerr(got[n], virt[n].double()) for n in names]
    vf = torch.isfinite(virt["lse"])
    same_inf = bool(torch.equal(vf, torch.isfinite(lse)))
    agree.append((lse[vf].double() - virt["lse"][vf].double()).abs().max().item()
                 if vf.any() else 0.0)
    ok = ok and same_inf and all(a <= AGREE for a in agree)
    detail = (" ".join(f"{n} {errs[n]:.1e}" for n in names + ["lse"])
              + ("" if inf_ok else " lse(-inf/NaN wrong)")
              + f" | vs virtual {max(agree) if all(a == a for a in agree) else float('nan'):.1e}"
              + ("" if same_inf else " (-inf rows differ)")
              + f" | steps {r.steps_computed}+{r.steps_skipped} comm {r.comm_ops}")
    return ok, detail


def comm_case(env, c, i):
    torch, cc, tg, lib, wk, seed = env
    t = time.time()
    rc = lib.cprt_cuda_comm_test_rank(1, wk.world, wk.rank, wk.id_file(f"c{i}"), -1,
                                      COMM_TIMEOUT_MS)
    msg = lib.cprt_cuda_last_error().decode()
    return rc == 0, f"rc {rc} in {time.time() - t:.1f} s {msg}"


def silent_case(env, c, i):
    torch, cc, tg, lib, wk, seed = env
    silent = wk.world - 1
    t = time.time()
    rc = lib.cprt_cuda_comm_test_rank(1, wk.world, wk.rank, wk.id_file(f"c{i}"), silent,
                                      SILENT_TIMEOUT_MS)
    dt = time.time() - t
    msg = lib.cprt_cuda_last_error().decode()
    T = SILENT_TIMEOUT_MS / 1000
    if wk.rank == silent:  # sleeps T + 1 s, then its late barrier must fail
        ok = rc != 0 and "nccl rank" in msg and dt <= 2 * T + 1 + SLACK_S
        role = "silent"
    else:
        ok = rc != 0 and "nccl rank" in msg and any(o in msg for o in OPS) and dt <= T + SLACK_S
        role = "peer"
    return ok, f"{role}: rc {rc} after {dt:.1f} s: {msg}"


def worker(args):
    import torch
    torch.cuda.set_device(args.rank)  # before anything touches CUDA
    import cprt_cuda as cc
    import test_gpu as tg  # float64 reference, relerr, dtype codes
    lib = cc.load(args.lib)
    if not hasattr(lib, "cprt_cuda_comm_test_rank"):
        raise SystemExit("library too old: no cprt_cuda_comm_test_rank")
    wk = nw.Worker(args.rank, args.world, args.id_file)
    env = (torch, cc, tg, lib, wk, args.seed)
    run = {"ring": ring_case, "comm": comm_case, "silent": silent_case}
    for i, c in enumerate(cases(args.world, args.quick)):
        if not selected(c, args.only):
            continue
        t = time.time()
        try:
            wk.barrier(f"c{i}")
        except TimeoutError as e:  # a peer is gone: nothing more can run
            wk.emit(case=i, ok=False, detail=str(e))
            return 1
        try:
            ok, detail = run[c["kind"]](env, c, i)
        except Exception as e:  # a failure of this case; the next one starts on a barrier
            ok, detail = False, f"raised {e!r}"
        wk.emit(case=i, ok=bool(ok), detail=f"{detail} [{time.time() - t:.1f} s]")
    wk.emit(case=-1, ok=True, detail="done")
    return 0


# --------------------------------------------------------------------------- launcher

def mpi_check(args, W, lib):
    """(ok or None when not run, detail)."""
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if not mpirun:
        return None, "not run (no mpirun)"
    driver = args.mpi_driver or os.path.join(os.path.dirname(lib), "test", "cprt-nccl-mpi-check")
    if not os.path.exists(driver):
        return None, f"not run ({driver} not built: cmake found no MPI, or not built)"
    env = dict(os.environ)
    env.update(nw.MANDATORY_ENV)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               CPRT_TIMEOUT_MS="30000")
    cmd = [mpirun, "-np", str(W), driver]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out = (p.communicate()[0] or "") + "\n(killed after 120 s)"
    out = out.strip()
    ok = p.returncode == 0 and "PASS" in out
    tail = " / ".join(out.splitlines()[-4:])
    return ok, f"`{' '.join(cmd)}` rc {p.returncode}: {tail}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    nw.add_worker_args(ap)  # --worker --rank --world --id-file (--world: ranks to use)
    ap.add_argument("--lib", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated substrings of case names")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--allow-skip", action="store_true",
                    help="exit 0 when fewer than 2 GPUs are visible")
    ap.add_argument("--timeout", type=float, default=900, help="whole job, seconds")
    ap.add_argument("--idle-timeout", type=float, default=120,
                    help="kill every worker when no case finished for this long, seconds")
    ap.add_argument("--mpi-driver", default=None)
    args = ap.parse_args()
    if args.worker:
        sys.exit(worker(args))

    lib, W = nw.launcher_setup(args, "nccl")
    if not os.path.exists(lib):
        print(f"FAIL nccl: no library {lib}")
        sys.exit(1)
    seed = args.seed or int(time.time()) % 1000000
    cs = cases(W, args.quick)
    sel = [i for i, c in enumerate(cs) if selected(c, args.only)]
    print(f"test_nccl: W={W} ranks (one process per GPU), {len(sel)} cases, seed {seed}, "
          f"lib {lib}", flush=True)
    t0 = time.time()
    got = {}
    verdict = {}

    def on_result(r, obj):
        i = obj.get("case", -1)
        if i not in sel:
            return
        got.setdefault(i, {})[r] = obj
        if len(got[i]) == W:
            ok = all(o["ok"] for o in got[i].values())
            verdict[i] = ok
            parts = [f"r{q}: {got[i][q]['detail']}" for q in sorted(got[i])
                     if q == 0 or not got[i][q]["ok"] or cs[i]["kind"] == "silent"]
            print(f"{'PASS' if ok else 'FAIL'} {cs[i]['name']} | " + " | ".join(parts),
                  flush=True)

    extra = ["--lib", lib, "--seed", str(seed)] + (["--quick"] if args.quick else []) + \
        (["--only", args.only] if args.only else [])
    job_ok, reason, rcs = nw.run_job(os.path.abspath(__file__), W, extra, on_result,
                                     timeout_s=args.timeout, idle_s=args.idle_timeout)
    failed = []
    for i in sel:
        if i not in verdict:
            missing = [r for r in range(W) if r not in got.get(i, {})]
            bad = [f"r{r}: {o['detail']}" for r, o in got.get(i, {}).items() if not o["ok"]]
            detail = f"no result from rank(s) {missing} ({reason or 'worker ended early'})"
            print(f"FAIL {cs[i]['name']} | {detail}" + (" | " + " | ".join(bad) if bad else ""),
                  flush=True)
            verdict[i] = False
        if not verdict[i]:
            failed.append(cs[i]["name"])
    total, passed = len(sel), len(sel) - len(failed)
    if not args.only:
        mok, mdetail = mpi_check(args, W, lib)
        print(f"MPI bootstrap: {mdetail}" if mok is None else
              f"{'PASS' if mok else 'FAIL'} MPI bootstrap (makeNcclCommunicatorMpi) {mdetail}",
              flush=True)
        if mok is not None:
            total += 1
            passed += int(mok)
            if not mok:
                failed.append("MPI bootstrap")
    if not job_ok:
        print(f"launcher: {reason} (worker exit codes {rcs})")
    print(f"\nnccl: {passed}/{total} passed ({time.time() - t0:.0f} s, W={W}, seed {seed})")
    for f in failed:
        print("FAILED:", f)
    if failed:
        print("hint: NCCL_DEBUG=INFO (passed on to the workers) shows NCCL's transports and errors")
    sys.exit(0 if passed == total and job_ok else 1)


if __name__ == "__main__":
    main()
