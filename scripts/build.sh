#!/usr/bin/env bash
# Configures and builds cp (compiler, tools and runtime) into ${CP_BUILD_DIR:-build}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_BUILD_DIR:-$root/build}"
jobs="${CP_JOBS:-$(nproc)}"

"$root/scripts/install-deps.sh"
# The header-only cuDNN frontend (PyPI), so the CUDA build compiles the cuDNN
# and auto backends too; best effort: without it they are left out.
if command -v nvcc > /dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  "$root/scripts/fetch-cudnn-frontend.sh" || true
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
cmake --build "$build" -j "$jobs"
