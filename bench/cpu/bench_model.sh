#!/usr/bin/env bash
# CPU speed of a compiled Llama-style model next to PyTorch, in one run.
#
#   bash bench/cpu/bench_model.sh [BUILD_DIR]     (default: build)
#
# 1. bench/cpu/gen_llama_model.py (needs a Python with torch + torch-mlir,
#    $PYTHON, default /tmp/tmvenv/bin/python; see test/Fixtures/README.md)
#    exports the model to bench/cpu/out/ once and times PyTorch on
#    $TORCH_THREADS (default 2) threads, best of 5.
# 2. cp-run JITs and runs the module: 1 rank (the cp pipeline with a grid of
#    one: attention on the runtime's kernel, the rest compiled) and 4 thread
#    ranks (ring attention, head-tail balancing), each checked against
#    PyTorch's output, $REPEAT runs each (cp-run reports the last).
# Prints the phase table (compile, run) and one summary line per config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
py=${PYTHON:-/tmp/tmvenv/bin/python}
out=$here/out
repeat=${REPEAT:-5}
threads=${TORCH_THREADS:-2}

# torch's CUDA wheel needs its libraries loadable even on a CPU-only run.
nv=$("$py" -c 'import os,sys; print(os.path.join(sys.prefix,"lib","python%d.%d"%sys.version_info[:2],"site-packages","nvidia"))')
export LD_LIBRARY_PATH=$(ls -d "$nv"/*/lib 2>/dev/null | tr '\n' ':')/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$out/llama_model.linalg.mlir" ]; then
  "$py" "$here/gen_llama_model.py" --out "$out" --threads "$threads"
else
  "$py" "$here/gen_llama_model.py" --out "$out" --threads "$threads" --time-only
fi
torch_s=$("$py" -c "import json;print(json.load(open('$out/llama_model_torch.json'))['seconds'])")

run() { # name, ranks, pipeline options
  local log=$out/cp-run-$1.log
  "$build/bin/cp-run" "$out/llama_model.linalg.mlir" --entry llama_model \
    --ranks "$2" --pipeline "$3" --inputs "$out/llama_model_input.npy" \
    --expect "$out/llama_model_output.npy" --rtol 1e-3 --atol 1e-4 \
    --repeat "$repeat" 2>&1 | tee "$log" | sed "s/^/[$1] /"
  local ms
  ms=$(awk '/run: compute/ {print $4}' "$log" | tail -1)
  echo "$1 $ms" >> "$out/summary.txt"
}
rm -f "$out/summary.txt"
run 1rank 1 "rotate=ring load-balance=head_tail"
run 4ranks 4 "rotate=ring load-balance=head_tail"

echo
printf "| config | run ms | vs PyTorch (%d threads, %.1f ms) |\n" "$threads" "$(echo "$torch_s*1000" | bc -l)"
echo "|---|---|---|"
while read -r name ms; do
  printf "| %s | %s | %.2fx |\n" "$name" "$ms" "$(echo "$ms / ($torch_s*1000)" | bc -l)"
done < "$out/summary.txt"
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
