#!/usr/bin/env bash
# A compiled module on GPUs (docs/gpu.md, "compiled module on GPUs, step by
# step"): the torch-mlir Llama block, compiled here for the GPU and run there.
#
#   scripts/gpu-compiled.sh compile DIR   # on a machine with the cp build (LLVM/MLIR):
#                                         # DIR/<variant>/llama_block_f32.{o,h} + inputs
#   scripts/gpu-compiled.sh run DIR       # on the GPU machine (CMake + CUDA only):
#                                         # builds the runtime + one launcher per variant,
#                                         # runs each against PyTorch's output
# Variants: single (no cp pipeline: the whole block, attention as kernels),
# r1..r8 (context parallel on N virtual ranks, head-tail balanced ring over the
# runtime; N = 3 pads the sequence: 64 % 6 != 0).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode=${1:?compile or run}
dir=$(realpath -m "${2:?output directory}")
fix=$root/test/Fixtures
entry=llama_block_f32
variants="${VARIANTS:-single r1 r2 r3 r4 r8}"

if [ "$mode" = compile ]; then
  cprun=${CP_RUN:-$root/build/bin/cp-run}
  mkdir -p "$dir"
  cp "$fix/llama_block_input.npy" "$fix/llama_block_output.npy" "$dir/"
  for v in $variants; do
    mkdir -p "$dir/$v"
    cp_args=(--backend cuda --gpu-lowering "chip=sm_90"
             --emit-object "$dir/$v/$entry.o" --emit-header "$dir/$v/$entry.h")
    if [ $v != single ]; then
      pad=""; [ $(( 64 % (2 * ${v#r}) )) = 0 ] || pad=" pad=true"
      cp_args+=(--ranks "${v#r}" --pipeline "rotate=ring load-balance=head_tail expand=false$pad")
    fi
    "$cprun" "$fix/Inputs/$entry.linalg.mlir" --entry $entry "${cp_args[@]}"
  done
  ls -la "$dir"/*
  exit 0
fi

[ "$mode" = run ] || { echo "usage: $0 compile|run DIR" >&2; exit 2; }
export NCCL_NVLS_ENABLE=0
NV=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
export LD_LIBRARY_PATH="$NV/nccl/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
build=${CPRT_GPU_COMPILED_BUILD:-$root/build-gpu-compiled}
OUT=${OUT:-$build/logs}
mkdir -p "$OUT"
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } 2>&1 | tee "$OUT/device.txt"
mods=""
for v in $variants; do mods="$mods${mods:+;}$dir/$v:$entry"; done
t0=$(date +%s)
cmake -S "$root/runtime" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCPRT_ENABLE_TESTS=OFF -DCPRT_ENABLE_MPI=OFF -DCPRT_ENABLE_CUDNN=OFF \
  -DCPRT_CUDA_ARCHITECTURES=90-real -DNCCL_HOME="$NV/nccl" \
  -DCPRT_GPU_MODULES="$mods" > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
targets=""
for v in $variants; do targets="$targets cprt-gpu-run-$v"; done
# shellcheck disable=SC2086
ninja -C "$build" $targets > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
rc=0
set +e
for v in $variants; do
  n=1; [ $v = single ] || n=${v#r}
  exe=$(find "$build" -name "cprt-gpu-run-$v" -type f | head -1)
  echo "== $v: $n rank(s)"
  timeout -k 5 120 "$exe" --ranks $n --inputs "$dir/llama_block_input.npy" \
    --expect "$dir/llama_block_output.npy" --iters ${ITERS:-100} --rtol 1e-3 --atol 1e-4 \
    --outputs "$OUT/out_$v.npy" > "$OUT/run_$v.log" 2>&1
  st=$?
  cat "$OUT/run_$v.log"
  if [ $st != 0 ]; then
    rc=1
    # Localise: synchronise after every kernel / runtime call and report the
    # first op that produced a NaN.
    echo "== $v again with CPRT_GPU_SYNC=1 CPRT_GPU_DEBUG_NAN=1"
    CPRT_GPU_SYNC=1 CPRT_GPU_DEBUG_NAN=1 timeout -k 5 60 "$exe" --ranks $n \
      --inputs "$dir/llama_block_input.npy" --expect "$dir/llama_block_output.npy" \
      > "$OUT/debug_$v.log" 2>&1
    grep -m 14 -E "nan\]|error|result" "$OUT/debug_$v.log"
  fi
done
exit $rc
