#!/usr/bin/env bash
# Builds bench/gpu/hopper/hopper_bench (sm_90a) into OUT_DIR (default:
# build-hopper-bin under the repository root) with static cudart, so the
# binary runs on a machine that only has the driver. Also copies
# sdpa_ref.py (PyTorch SDPA reference timings) beside it.
#   bash bench/gpu/hopper/build.sh [OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
OUT_DIR="${1:-$ROOT/build-hopper-bin}"
NVCC="${NVCC:-/usr/local/cuda/bin/nvcc}"
FLAGS=(-O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -lineinfo -DCPRT_HOPPER_ALL_VARIANTS
       -I"$ROOT/runtime/include" -I"$ROOT/runtime/src/cuda" -I"$ROOT/runtime/src/cuda/hopper")
mkdir -p "$OUT_DIR/obj"
"$NVCC" "${FLAGS[@]}" -Xptxas -v -c "$ROOT/runtime/src/cuda/hopper/HopperAttention.cu" \
  -o "$OUT_DIR/obj/HopperAttention.o" 2> "$OUT_DIR/obj/ptxas.txt"
grep -E "registers|spill|warning" "$OUT_DIR/obj/ptxas.txt" || true
if [[ ! -f "$OUT_DIR/obj/FlashForward.o" || "$ROOT/runtime/src/cuda/FlashForward.cu" -nt "$OUT_DIR/obj/FlashForward.o" ]]; then
  "$NVCC" "${FLAGS[@]}" -c "$ROOT/runtime/src/cuda/FlashForward.cu" -o "$OUT_DIR/obj/FlashForward.o"
fi
"$NVCC" "${FLAGS[@]}" -c "$ROOT/bench/gpu/hopper/hopper_bench.cu" -o "$OUT_DIR/obj/hopper_bench.o"
"$NVCC" -gencode=arch=compute_90a,code=sm_90a -o "$OUT_DIR/hopper_bench" "$OUT_DIR/obj/hopper_bench.o" \
  "$OUT_DIR/obj/HopperAttention.o" "$OUT_DIR/obj/FlashForward.o"
cp "$ROOT/bench/gpu/hopper/sdpa_ref.py" "$OUT_DIR/"
echo "built $OUT_DIR/hopper_bench"
