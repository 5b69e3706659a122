#!/usr/bin/env bash
# CPU speed of a compiled Llama-style model next to PyTorch, in one run.
#
#   bash bench/cpu/bench_model.sh [BUILD_DIR]     (default: build)
#
# 1. bench/cpu/gen_llama_model.py (needs a Python with torch + torch-mlir,
#    $PYTHON, default /tmp/tmvenv/bin/python; see test/Fixtures/README.md)
#    exports the model to bench/cpu/out/ once and times PyTorch on
#    $TORCH_THREADS (default 2) threads and on 1, best of $REPEAT (default 20).
# 2. cp-run JITs and runs the module: 1 rank (the cp pipeline with a grid of
#    one: attention on the runtime's kernel, the rest compiled; its default
#    threads, then OMP_NUM_THREADS=1) and 4 thread
#    ranks (ring attention, head-tail balancing), each checked against
#    PyTorch's output, best of $REPEAT runs each.
# Prints the phase table (compile, run) and one summary line per config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
py=${PYTHON:-/tmp/tmvenv/bin/python}
out=$here/out
repeat=${REPEAT:-20}
threads=${TORCH_THREADS:-2}

# torch's CUDA wheel needs its libraries loadable even on a CPU-only run.
nv=$("$py" -c 'import os,sys; print(os.path.join(sys.prefix,"lib","python%d.%d"%sys.version_info[:2],"site-packages","nvidia"))')
export LD_LIBRARY_PATH=$(ls -d "$nv"/*/lib 2>/dev/null | tr '\n' ':')/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# OpenBLAS 0.3.21 (Debian 12) predates Zen 5 and picks its AVX2 (Haswell)
# kernels there; its AVX-512 (SkylakeX) kernels are ~1.4x faster on such a
# CPU. Only a default: an OPENBLAS_CORETYPE from the caller wins.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$out/llama_model.linalg.mlir" ]; then
  "$py" "$here/gen_llama_model.py" --out "$out" --threads "$threads" --reps "$repeat"
else
  "$py" "$here/gen_llama_model.py" --out "$out" --threads "$threads" --time-only --reps "$repeat"
fi
"$py" "$here/gen_llama_model.py" --out "$out" --threads 1 --time-only --reps "$repeat"
torch_ms() { "$py" -c "import json;print(1000*json.load(open('$out/llama_model_torch_$1t.json'))['seconds'])"; }
torch_s=$(echo "$(torch_ms "$threads") / 1000" | bc -l)

phase() { # log, phase name -> ms
  awk -v p="$2" 'index($0, "cp-run: " p " ") == 1 {
    sub("^cp-run: " p " *", ""); print $1; exit }' "$1"
}
run() { # name, ranks, pipeline options, OpenMP threads per rank ("" = default)
  local log="$out/cp-run-${1// /_}.log"
  env ${4:+OMP_NUM_THREADS=$4} "$build/bin/cp-run" "$out/llama_model.linalg.mlir" --entry llama_model \
    --ranks "$2" --pipeline "$3" --inputs "$out/llama_model_input.npy" \
    --expect "$out/llama_model_output.npy" \
    --repeat "$repeat" 2>&1 | tee "$log" | sed "s/^/[$1] /"
  grep -q "result #0 .* ok$" "$log" || { echo "$1: wrong result" >&2; exit 1; }
  echo "| $1 | $(phase "$log" parse) | $(phase "$log" "cp pipeline") |" \
       "$(phase "$log" "lower to LLVM dialect") | $(phase "$log" "JIT compile") |" \
       "$(phase "$log" "run: compute, best") |" \
       "$(echo "$(phase "$log" "run: compute, best") / ($torch_s*1000)" | bc -l | xargs printf %.2f)x |" \
       >> "$out/summary.txt"
}
rm -f "$out/summary.txt"
run "1 rank" 1 "rotate=ring load-balance=head_tail"
run "1 rank, 1 thread" 1 "rotate=ring load-balance=head_tail" 1
run "4 thread ranks" 4 "rotate=ring load-balance=head_tail"

echo
printf "PyTorch %s: %d threads %.1f ms, 1 thread %.1f ms (best of %d each)\n\n" \
  "$("$py" -c "import torch; print(torch.__version__)")" "$threads" \
  "$(torch_ms "$threads")" "$(torch_ms 1)" "$repeat"
echo "| cp-run | parse ms | cp pipeline ms | lower ms | JIT ms | run ms (best of $repeat) | vs PyTorch $threads threads |"
echo "|---|---|---|---|---|---|---|"
cat "$out/summary.txt"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(auto)}; load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
