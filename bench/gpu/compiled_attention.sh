#!/usr/bin/env bash
# Compiled attention modules on one GPU: bf16/fp16 correctness against a
# float64 PyTorch reference, and the speed of compiled code at a real size.
# Two halves, like scripts/gpu-compiled.sh (docs/gpu.md):
#
#   bench/gpu/compiled_attention.sh compile DIR   # here (cp build, LLVM/MLIR)
#   bench/gpu/compiled_attention.sh run DIR       # on the GPU machine (CMake, CUDA, PyTorch)
#
# Modules (each compiled single-device and context parallel on N virtual ranks,
# head-tail balanced ring, expand=false):
#   fix_bf16_*   torch-mlir's sdpa_causal_bf16 fixture (B=1, H=4, S=64, D=16)
#   fix_f16_*    torch-mlir's sdpa_plain_f16 fixture
#   big_<c>_<S>_* a cp.sdpa of B=1, H=16, D=128, bf16, causal (c) or full (f),
#                S = 16384 / 32768 (cp-opt input written here); the
#                context-parallel forms per strategy of BIG_STRATEGIES:
#                ring (_rN), allgather (_agN), ulysses (_uN, if the GPU
#                lowering provides it)
# `run` writes random inputs and float64 references with PyTorch (chunked over
# query rows on the GPU), builds one launcher per module (runtime + glue, CMake
# only), runs each with --iters and prints a table: error vs float64, mean time
# per call, TFLOP/s (4·B·H·S²·D, half when causal) and, for the ring variants,
# efficiency = single-device time / ring time (N virtual ranks share one GPU).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mode=${1:?compile or run}
dir=$(realpath -m "${2:?output directory}")
fix=$root/test/Fixtures/Inputs
BIG_S="${BIG_S:-16384 32768}"
BIG_RANKS="${BIG_RANKS:-4 8}"
BIG_STRATEGIES="${BIG_STRATEGIES:-ring}"
pipe="rotate=ring load-balance=head_tail expand=false"

big_module() { # kind S -> stdout
  local c=$1 S=$2 t="tensor<1x16x${2}x128xbf16>" attr=""
  [ "$c" = c ] && attr=" {is_causal}"
  cat <<MLIR
func.func @attn(%q: $t, %k: $t, %v: $t) -> $t {
  %o = cp.sdpa %q, %k, %v$attr : ($t, $t, $t) -> $t
  return %o : $t
}
MLIR
}

if [ "$mode" = compile ]; then
  cprun=${CP_RUN:-$root/build/bin/cp-run}
  mkdir -p "$dir"
  emit() { # name file entry [ranks [pad]]
    local name=$1 file=$2 entry=$3 n=${4:-} pad=${5:-} p=${6:-$pipe}
    mkdir -p "$dir/$name"
    local args=(--backend cuda --gpu-lowering "chip=sm_90"
                --emit-object "$dir/$name/$entry.o" --emit-header "$dir/$name/$entry.h")
    [ -n "$n" ] && args+=(--ranks "$n" --pipeline "$p$pad")
    "$cprun" "$file" --entry "$entry" "${args[@]}"
    echo "$name $entry ${n:-1}" >> "$dir/modules.txt"
  }
  : > "$dir/modules.txt"
  emit fix_bf16_single "$fix/sdpa_causal_bf16.linalg.mlir" sdpa_causal_bf16
  emit fix_bf16_r2 "$fix/sdpa_causal_bf16.linalg.mlir" sdpa_causal_bf16 2
  emit fix_bf16_r3 "$fix/sdpa_causal_bf16.linalg.mlir" sdpa_causal_bf16 3 " pad=true"
  emit fix_bf16_r4 "$fix/sdpa_causal_bf16.linalg.mlir" sdpa_causal_bf16 4
  emit fix_f16_single "$fix/sdpa_plain_f16.linalg.mlir" sdpa_plain_f16
  emit fix_f16_r4 "$fix/sdpa_plain_f16.linalg.mlir" sdpa_plain_f16 4
  for S in $BIG_S; do
    for c in c f; do
      big_module $c "$S" > "$dir/big_${c}_$S.mlir"
      emit "big_${c}_${S}_single" "$dir/big_${c}_$S.mlir" attn
      for n in $BIG_RANKS; do
        for st in $BIG_STRATEGIES; do
          case $st in
            ring) emit "big_${c}_${S}_r$n" "$dir/big_${c}_$S.mlir" attn "$n" ;;
            allgather) emit "big_${c}_${S}_ag$n" "$dir/big_${c}_$S.mlir" attn "$n" "" \
                         "rotate=allgather load-balance=head_tail expand=false" ;;
            ulysses) emit "big_${c}_${S}_u$n" "$dir/big_${c}_$S.mlir" attn "$n" "" \
                       "strategy=ulysses load-balance=head_tail expand=false" ;;
            *) echo "unknown strategy $st (ring, allgather, ulysses)" >&2; exit 2 ;;
          esac
        done
      done
    done
  done
  cp "$root/bench/gpu/compiled_attention_ref.py" "$dir/"
  du -sh "$dir"
  exit 0
fi

[ "$mode" = run ] || { echo "usage: $0 compile|run DIR" >&2; exit 2; }
export NCCL_NVLS_ENABLE=0
NV=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
export LD_LIBRARY_PATH="$NV/nccl/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
PY=${PYTHON:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
build=${CPRT_GPU_COMPILED_BUILD:-$root/build-gpu-attn}
OUT=${OUT:-$build/logs}
data=${DATA:-/tmp/cp-attn-data}
mkdir -p "$OUT" "$data"
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } 2>&1 | tee "$OUT/device.txt"
t0=$(date +%s)
"$PY" "$root/bench/gpu/compiled_attention_ref.py" --out "$data" --big-s $BIG_S 2>&1 | tee "$OUT/ref.log"
echo "inputs + float64 references: $(( $(date +%s) - t0 )) s"
mods="" targets=""
while read -r name entry n; do
  mods="$mods${mods:+;}$dir/$name:$entry"; targets="$targets cprt-gpu-run-$name"
done < "$dir/modules.txt"
t0=$(date +%s)
cmake -S "$root/runtime" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCPRT_ENABLE_TESTS=OFF -DCPRT_ENABLE_MPI=OFF -DCPRT_ENABLE_CUDNN=OFF \
  -DCPRT_CUDA_ARCHITECTURES=90-real -DNCCL_HOME="$NV/nccl" \
  -DCPRT_GPU_MODULES="$mods" > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
# shellcheck disable=SC2086
ninja -C "$build" $targets > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
rc=0
set +e
while read -r name entry n; do
  exe=$(find "$build" -name "cprt-gpu-run-$name" -type f | head -1)
  case $name in
    fix_bf16_*) base=fix_bf16; iters=20; tol="--rtol 2e-2 --atol 2e-2" ;;
    fix_f16_*) base=fix_f16; iters=20; tol="--rtol 5e-3 --atol 5e-3" ;;
    big_*) base=${name%_*}; iters=${ITERS:-10}; tol="--rtol 2e-2 --atol 2e-2" ;;
  esac
  echo "== $name: $n rank(s)"
  timeout -k 5 300 "$exe" --ranks "$n" --inputs "$data/$base.q.npy,$data/$base.k.npy,$data/$base.v.npy" \
    --expect "$data/$base.ref.npy" --iters $iters $tol > "$OUT/run_$name.log" 2>&1
  st=$?
  cat "$OUT/run_$name.log"
  [ $st = 0 ] || rc=1
done < "$dir/modules.txt"
"$PY" "$root/bench/gpu/compiled_attention_ref.py" --table "$OUT" --modules "$dir/modules.txt" | tee "$OUT/table.md"
exit $rc
