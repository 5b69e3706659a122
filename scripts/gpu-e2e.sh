#!/usr/bin/env bash
# GPU end to end (examples/gpu-e2e/README.md), on the GPU machine: builds the
# runtime with CMake only, links the module compiled on the CPU machine
# (.gpu-e2e/attention_bf16.o, .h) and checks it against PyTorch in float64.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CPRT_GPU_E2E_BUILD:-$root/build-gpu-e2e}"
export NCCL_NVLS_ENABLE=0
export NCCL_HOME=${NCCL_HOME:-/opt/torch/.venv/lib/python3.12/site-packages/nvidia/nccl}
cmake -S "$root/runtime" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCPRT_ENABLE_TESTS=OFF -DCPRT_ENABLE_MPI=OFF \
  -DCPRT_CUDA_ARCHITECTURES=90-real \
  -DCPRT_GPU_E2E_DIR="$root/.gpu-e2e" > "$build.configure.log"
cmake --build "$build" --target cprt-gpu-e2e -j 16
exe=$(find "$build" -name cprt-gpu-e2e -type f | head -1)
python3 "$root/examples/gpu-e2e/check.py" "$exe" "${TMPDIR:-/tmp}/cp-gpu-e2e"
