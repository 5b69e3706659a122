#!/usr/bin/env bash
# A long mutation-fuzz run of cp-opt (test/fuzz/fuzz.py): CASES (default
# 5000) mutants of the lit corpus and the fixtures through every public pass
# and pipeline. Prints the summary table; failing inputs go to
# $CP_BUILD_DIR/fuzz-long/ with their command and stderr. Exits non-zero on
# a crash in cp code, a hang or invalid output. Record the figures in
# docs/reliability.md.
#   scripts/fuzz-long.sh [CASES] [SEED]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_BUILD_DIR:-$root/build}"
cases="${1:-5000}"
seed="${2:-$(date +%s)}"
exec python3 "$root/test/fuzz/fuzz.py" --cp-opt "$build/bin/cp-opt" \
  --cases "$cases" --seed "$seed" --jobs "${CP_JOBS:-$(nproc)}" \
  --timeout "${CP_FUZZ_TIMEOUT:-20}" --out "$build/fuzz-long"
