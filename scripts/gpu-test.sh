#!/usr/bin/env bash
# Builds the runtime with CUDA on the GPU machine (CMake only, no MLIR) and
# runs the GPU tests; with --bench also the GPU benchmarks. Logs go to $OUT
# (the device tool brings them back) or to build-gpu/logs.
#   scripts/gpu-test.sh [--quick] [--bench] [--no-test]
set -uo pipefail
cd "$(dirname "$0")/.."
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export PYTHONUNBUFFERED=1
OUT=${OUT:-build-gpu/logs}
mkdir -p "$OUT"
QUICK= BENCH=0 TEST=1
for a in "$@"; do
  case $a in
    --quick) QUICK=--quick ;;
    --bench) BENCH=1 ;;
    --no-test) TEST=0 ;;
  esac
done
NV=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  nvcc --version | tail -2
} 2>&1 | tee "$OUT/device.txt"
t0=$(date +%s)
cmake -S runtime -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPRT_ENABLE_CUDA=ON \
  -DCPRT_CUDA_ARCHITECTURES=${CPRT_CUDA_ARCHITECTURES:-90-real} \
  -DCPRT_ENABLE_CUDNN=${CPRT_ENABLE_CUDNN:-OFF} -DNCCL_HOME="$NV/nccl" > "$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; exit 1; }
grep -E "NCCL|MPI" "$OUT/cmake.log"
ninja -C build-gpu cprt_cuda > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
export LD_LIBRARY_PATH="$NV/nccl/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
LIB=build-gpu/src/cuda/libcprt_cuda.so
rc=0
if [ $TEST = 1 ]; then
  python3 runtime/test/gpu/test_gpu.py --lib $LIB $QUICK 2>&1 | tee "$OUT/test.log"
  rc=${PIPESTATUS[0]}
fi
if [ $BENCH = 1 ]; then
  python3 bench/gpu/bench_gpu.py --lib $LIB --out "$OUT/bench.md" 2>&1 | tee "$OUT/bench.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
exit $rc
