"""One process per GPU for the NCCL tests and benchmarks (test_nccl.py, bench/gpu/bench_nccl.py).

The launcher (`run_job`) starts W copies of a script as
`script --worker --rank r --world W --id-file DIR/nccl_id ...` (worker r uses CUDA
device r), each in its own session, reads their output, and kills every one of them
(SIGKILL to their process groups) on a total timeout, when no result arrived for
`idle_s`, or `grace_s` after one worker died while the others still run. DIR is a
fresh temporary directory (so no stale NCCL id file can be read), removed at the end.

Workers talk back through stdout lines `RESULT {json}`; anything else they print is
passed on prefixed with the rank. A worker uses `Worker` for file barriers between
cases and a new NCCL id path per call (rank 0 writes it, the others wait for it).

Mandatory on the lent machine (NVLink multicast must stay off): NCCL_NVLS_ENABLE=0,
TORCH_SYMM_MEM_DISABLE_MULTICAST=1, NVSHMEM_DISABLE_NVLS=1 are forced into the
workers' environment.

No torch import at module level: the launcher needs none.
"""
import ctypes as C
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

MANDATORY_ENV = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
                 "NVSHMEM_DISABLE_NVLS": "1"}
for _k, _v in MANDATORY_ENV.items():  # also for this process (MPI check, torch)
    os.environ[_k] = _v

HERE = os.path.dirname(os.path.abspath(__file__))


def gpu_count():
    """(number of visible GPUs, reason when < 2). Does not create a CUDA context."""
    try:
        import torch
        n = torch.cuda.device_count()
        why = "" if n >= 2 else f"torch.cuda.device_count() = {n}"
        return n, why
    except Exception as e:  # no torch / no driver
        return 0, f"cannot count GPUs: {e!r}"


def launcher_setup(args, name):
    """The launcher's library path and job size W (args.world, else every visible GPU);
    exits (0 with --allow-skip, else 1) when fewer than 2 GPUs can take part."""
    lib = os.path.abspath(args.lib or os.environ.get("CPRT_CUDA_LIB",
                                                     "build-gpu/src/cuda/libcprt_cuda.so"))
    n, why = gpu_count()
    W = args.world or n
    if W < 2 or W > n:
        reason = why if n < 2 else f"--world {W} but {n} GPUs visible"
        print(f"{name}: skipped: needs >= 2 GPUs, one process each ({reason})")
        sys.exit(0 if args.allow_skip else 1)
    return lib, W


def add_worker_args(ap):
    """The worker-side command line (shared by test_nccl.py and bench_nccl.py)."""
    ap.add_argument("--worker", action="store_true", help="internal: run as one rank")
    ap.add_argument("--rank", type=int, default=0)
    ap.add_argument("--world", type=int, default=0)
    ap.add_argument("--id-file", default=None)


# --------------------------------------------------------------------------- launcher

_live = []  # Popen objects of the running job (for the signal handler)


def _kill(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # its own session: pgid == pid
            except (ProcessLookupError, PermissionError):
                pass


def _on_signal(sig, frame):
    _kill(_live)
    sys.exit(128 + sig)


def run_job(script, world, args, on_result, timeout_s=900, idle_s=180, grace_s=20,
            env_extra=None, log=print):
    """Runs W workers of `script`; calls on_result(rank, obj) per RESULT line.

    Returns (ok, reason, rcs): ok when every worker exited 0 in time."""
    job_dir = tempfile.mkdtemp(prefix="cprt_nccl_")
    env = dict(os.environ)
    env.update(MANDATORY_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NCCL_DEBUG", "WARN")
    env.update(env_extra or {})
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    procs, lines = [], queue.Queue()

    def reader(r, stream):
        for line in iter(stream.readline, ""):
            lines.put((r, line.rstrip("\n")))
        lines.put((r, None))

    reason = ""
    try:
        for r in range(world):
            cmd = [sys.executable, script, "--worker", "--rank", str(r), "--world", str(world),
                   "--id-file", os.path.join(job_dir, "nccl_id")] + list(args)
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env, text=True,
                                 start_new_session=True)
            procs.append(p)
            _live.append(p)
            threading.Thread(target=reader, args=(r, p.stdout), daemon=True).start()
        t0 = last = time.time()
        open_streams, first_death, killed_at = world, None, None
        while open_streams:
            try:
                r, line = lines.get(timeout=0.5)
                if line is None:
                    open_streams -= 1
                elif line.startswith("RESULT "):
                    last = time.time()
                    try:
                        on_result(r, json.loads(line[7:]))
                    except ValueError:
                        log(f"  [r{r}] unparsable: {line}")
                else:
                    log(f"  [r{r}] {line}")
            except queue.Empty:
                pass
            now = time.time()
            if not reason:
                if now - t0 > timeout_s:
                    reason = f"job timed out after {timeout_s:.0f} s: killed"
                elif now - last > idle_s:
                    reason = f"no result for {idle_s:.0f} s: killed"
                else:
                    dead = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
                    alive = [p for p in procs if p.poll() is None]
                    if dead and alive:
                        first_death = first_death or now
                        if now - first_death > grace_s:
                            reason = (f"rank {dead[0]} exited with rc {procs[dead[0]].poll()}; "
                                      f"the others were killed {grace_s:.0f} s later")
                if reason:
                    log(f"  launcher: {reason}")
                    _kill(procs)
                    killed_at = now
            if killed_at and now - killed_at > 15:
                break  # killed, but a pipe stays open: stop reading
        rcs = []
        for p in procs:
            try:
                rcs.append(p.wait(timeout=30))
            except subprocess.TimeoutExpired:
                _kill([p])
                rcs.append(None)
        if not reason and any(rc != 0 for rc in rcs):
            reason = f"worker exit codes {rcs}"
        return not reason, reason, rcs
    finally:
        _kill(procs)
        for p in procs:
            if p in _live:
                _live.remove(p)
        shutil.rmtree(job_dir, ignore_errors=True)


# --------------------------------------------------------------------------- worker side

class Worker:
    """Rank `rank` of `world`: file barriers and per-call NCCL id paths in the job dir."""

    def __init__(self, rank, world, id_file):
        self.rank, self.world, self.id_base = rank, world, id_file
        self.dir = os.path.dirname(id_file)

    def emit(self, **obj):
        obj["rank"] = self.rank
        print("RESULT " + json.dumps(obj), flush=True)

    def id_file(self, tag):
        """A new path per NCCL communicator (rank 0 writes it, the others read it)."""
        return f"{self.id_base}.{tag}".encode()

    def barrier(self, tag, timeout_s=300):
        open(os.path.join(self.dir, f"barrier.{tag}.{self.rank}"), "w").close()
        deadline = time.time() + timeout_s
        while True:
            if all(os.path.exists(os.path.join(self.dir, f"barrier.{tag}.{r}"))
                   for r in range(self.world)):
                return
            if time.time() > deadline:
                raise TimeoutError(f"rank {self.rank}: file barrier {tag!r} not reached by "
                                   f"every rank in {timeout_s} s")
            time.sleep(0.01)


def make_ring(cc, world, transport, balancer, rotate, causal, backward, dims, dtype_code,
              tensors, window=0, doc_ids=None, iters=0, rank=0, id_file=None, timeout_ms=0):
    """A cprt_cuda_ring descriptor. dims = (B, Hq, Hkv, S, D); tensors: name -> torch
    tensor (q, k, v, out, lse, dout, dq, dk, dv). Returns (ring, c_float of ms)."""
    r = cc.Ring()
    r.world, r.transport = world, transport
    r.balancer, r.rotate = cc.BALANCER[balancer], cc.ROTATE[rotate]
    r.causal, r.backward, r.window_left = int(causal), int(backward), window
    r.batch, r.heads_q, r.heads_kv, r.seq, r.head_dim = dims
    r.dtype = dtype_code
    if doc_ids is not None:
        r.doc_ids_host = doc_ids.data_ptr()
    for nm, t in tensors.items():
        setattr(r, nm, t.data_ptr())
    ms = C.c_float(0)
    r.iters = iters
    r.ms_per_iter_host = C.addressof(ms)
    r.rank = rank
    r.nccl_id_file = id_file
    r.timeout_ms = timeout_ms
    return r, ms
