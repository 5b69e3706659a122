#!/usr/bin/env bash
# The sanitizer build (issue 14): cp-opt, cp-run and the runtime built with
# AddressSanitizer + UndefinedBehaviorSanitizer into ${CP_ASAN_DIR:-build-asan}
# (no CUDA, Debian's MLIR/LLVM libraries uninstrumented), then the lit suite
# and a fuzz run of cp-opt through them. Any sanitizer report fails the test
# that triggered it (abort_on_error: the fuzzer counts it as a crash). Too slow for CI on
# two cores (~15 min); run it by hand and record the result in
# docs/reliability.md.
#   scripts/sanitize.sh [FUZZ_CASES] [SEED]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_ASAN_DIR:-$root/build-asan}"
cases="${1:-400}"
seed="${2:-1}"
jobs="${CP_JOBS:-$(nproc)}"

"$root/scripts/install-deps.sh"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCPRT_ENABLE_CUDA=OFF -DCPRT_NATIVE_ARCH=OFF \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
fi
cmake --build "$build" -j "$jobs" --target cp-opt cp-run
# LLVM's own libraries are not instrumented: their one-definition-rule and
# allocator-mismatch reports would be about Debian's build, not ours. Leaks
# at exit are reported (detect_leaks=1).
export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1:detect_odr_violation=0:alloc_dealloc_mismatch=0:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
status=0
echo "== lit under ASan/UBSan =="
/usr/lib/llvm-22/bin/lit -sv --filter-out mpi "$build/test" || status=1
# Open MPI keeps allocations until exit by design, and its libraries are not
# instrumented (their stacks cannot be matched by a suppression list): the
# MPI tests run with leak checking off, everything else still on.
echo "== lit, MPI tests, under ASan/UBSan without leak checking =="
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
  /usr/lib/llvm-22/bin/lit -sv --filter mpi "$build/test" || status=1
echo "== fuzz under ASan/UBSan ($cases cases, seed $seed) =="
python3 "$root/test/fuzz/fuzz.py" --cp-opt "$build/bin/cp-opt" --cases "$cases" \
  --seed "$seed" --jobs "$jobs" --timeout 60 --out "$build/fuzz-failures" || status=1
exit $status
