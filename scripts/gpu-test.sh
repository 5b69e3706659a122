#!/usr/bin/env bash
# Builds the runtime with CUDA on the GPU machine (CMake only, no MLIR) and
# runs the GPU tests; with --bench also the GPU benchmarks. Logs go to $OUT
# (the device tool brings them back) or to $BUILD/logs.
#   scripts/gpu-test.sh [--quick] [--bench] [--hopper-bench] [--no-test] [--no-cudnn] [--nccl] [--nccl-only]
# The cuDNN and auto backends are built (and tested, benchmarked) whenever the
# cudnn-frontend headers are in runtime/src/cuda/.cudnn-frontend (fetch them
# here with scripts/fetch-cudnn-frontend.sh and carry that folder);
# --no-cudnn builds without them.
# --nccl runs the multi-GPU NCCL tests (runtime/test/gpu/test_nccl.py, one process
# per GPU; with --bench also bench/gpu/bench_nccl.py); automatic when
# `nvidia-smi -L` lists >= 2 GPUs. --nccl-only runs only those (no single-GPU suite).
# The flash forward runs the Hopper (sm_90a) kernel on sm_90 devices
# (docs/hopper.md): the single-GPU suite runs once as is (its "hopper" suite
# checks which kernel ran) and its forward suites once more with the kernel
# forced off (CPRT_HOPPER_FWD=0, the mma.sync kernels). --hopper-bench runs
# bench/gpu/bench_hopper.py (Hopper vs mma.sync vs cuDNN, plain and ring,
# forward) instead of the full bench_gpu.py sweep.
set -uo pipefail
cd "$(dirname "$0")/.."
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export PYTHONUNBUFFERED=1
OUT=${OUT:-build-gpu/logs}
mkdir -p "$OUT"
QUICK= BENCH=0 TEST=1 CUDNN=1 NCCL=0 SINGLE=1 HBENCH=0
for a in "$@"; do
  case $a in
    --quick) QUICK=--quick ;;
    --bench) BENCH=1 ;;
    --hopper-bench) HBENCH=1 ;;
    --no-test) TEST=0 ;;
    --cudnn) CUDNN=1 ;;  # the default; kept for old command lines
    --no-cudnn) CUDNN=0 ;;
    --nccl) NCCL=1 ;;
    --nccl-only) NCCL=1 SINGLE=0 ;;
  esac
done
NGPU=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
[ "${NGPU:-0}" -ge 2 ] && NCCL=1
NV=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  nvcc --version | tail -2
} 2>&1 | tee "$OUT/device.txt"
BUILD=build-gpu
[ -f runtime/src/cuda/.cudnn-frontend/include/cudnn_frontend.h ] || CUDNN=0
# The GPU image's compiler (/opt/gcc) hides the system Open MPI from FindMPI
# unless its wrapper is named.
MPICXX=$(command -v mpicxx || true)
t0=$(date +%s)
cmake -S runtime -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPRT_ENABLE_CUDA=ON \
  -DCPRT_CUDA_ARCHITECTURES=${CPRT_CUDA_ARCHITECTURES:-90-real} \
  -DCPRT_ENABLE_CUDNN=$([ $CUDNN = 1 ] && echo ON || echo OFF) -DNCCL_HOME="$NV/nccl" \
  ${MPICXX:+-DMPI_CXX_COMPILER=$MPICXX} > "$OUT/cmake.log" 2>&1 || { cat "$OUT/cmake.log"; exit 1; }
grep -E "NCCL|MPI|cuDNN" "$OUT/cmake.log"
TARGETS=cprt_cuda
# NCCL over MPI (built only when cmake found MPI)
ninja -C $BUILD -t targets all 2>/dev/null | grep -q '^cprt-nccl-mpi-check:' \
  && TARGETS="$TARGETS cprt-nccl-mpi-check"
ninja -C $BUILD $TARGETS > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
export LD_LIBRARY_PATH="$NV/nccl/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
LIB=$BUILD/src/cuda/libcprt_cuda.so
rc=0
if [ $TEST = 1 ] && [ $SINGLE = 1 ]; then
  python3 runtime/test/gpu/test_gpu.py --lib $LIB $QUICK 2>&1 | tee "$OUT/test.log"
  rc=${PIPESTATUS[0]}
  echo "forward suites again with the Hopper kernel forced off (CPRT_HOPPER_FWD=0)"
  CPRT_HOPPER_FWD=0 python3 runtime/test/gpu/test_gpu.py --lib $LIB $QUICK \
    --only hopper,kernels,accumulate 2>&1 | tee "$OUT/test-mma.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
MPICHECK=$BUILD/src/cuda/test/cprt-nccl-mpi-check
if [ $TEST = 1 ] && [ $NCCL = 0 ] && [ -x "$MPICHECK" ] && command -v mpirun > /dev/null; then
  # One GPU: the MPI bootstrap with one rank (test_nccl.py runs it on all GPUs).
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 5 120 \
    mpirun -np 1 -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH "$MPICHECK" 2>&1 | tee "$OUT/mpi.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
if [ $TEST = 1 ] && [ $NCCL = 1 ]; then
  echo "NCCL tests on $NGPU GPUs (one process per GPU)"
  timeout -k 10 1200 python3 runtime/test/gpu/test_nccl.py --lib $LIB $QUICK 2>&1 | tee "$OUT/nccl.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
if [ $BENCH = 1 ] && [ $NCCL = 1 ]; then
  timeout -k 10 600 python3 bench/gpu/bench_nccl.py --lib $LIB --out "$OUT/bench_nccl.md" 2>&1 | tee "$OUT/bench_nccl.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
if [ $BENCH = 1 ] && [ $SINGLE = 1 ]; then
  python3 bench/gpu/bench_gpu.py --lib $LIB --out "$OUT/bench.md" 2>&1 | tee "$OUT/bench.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
if [ $HBENCH = 1 ] && [ $SINGLE = 1 ]; then
  python3 bench/gpu/bench_hopper.py --lib $LIB --out "$OUT/bench_hopper.md" 2>&1 | tee "$OUT/bench_hopper.log"
  [ ${PIPESTATUS[0]} = 0 ] || rc=1
fi
exit $rc
