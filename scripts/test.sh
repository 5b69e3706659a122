#!/usr/bin/env bash
# The README's test command: installs missing dependencies, builds
# everything, then runs the lit suite (compiler) and CTest (runtime and C++
# units). Prints both summaries; exits non-zero if anything fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"

status=0
echo "== lit: compiler tests =="
cmake --build "$build" --target check-cp || status=1
echo "== ctest: runtime and unit tests =="
ctest --test-dir "$build" --output-on-failure -j "${CP_JOBS:-$(nproc)}" || status=1
exit $status
