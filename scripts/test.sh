#!/usr/bin/env bash
# The README's test command: installs missing dependencies, builds
# everything, then runs the lit suite (compiler), CTest (runtime and C++
# units) and a bounded fuzz run of cp-opt (test/fuzz/fuzz.py). Prints the
# summaries; exits non-zero if anything fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"

status=0
echo "== lit: compiler tests =="
cmake --build "$build" --target check-cp || status=1
echo "== ctest: runtime and unit tests =="
ctest --test-dir "$build" --output-on-failure -j "${CP_JOBS:-$(nproc)}" || status=1
# A bounded mutation-fuzz run of cp-opt (fixed seed: reproducible; about
# 40 s on 2 cores). scripts/fuzz-long.sh runs >= 5000 cases.
echo "== fuzz: cp-opt on mutated lit tests and fixtures =="
python3 "$root/test/fuzz/fuzz.py" --cp-opt "$build/bin/cp-opt" --cases 400 \
  --seed "${CP_FUZZ_SEED:-1}" --jobs "${CP_JOBS:-$(nproc)}" \
  --out "$build/fuzz-failures" || status=1
exit $status
