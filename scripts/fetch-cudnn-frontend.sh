#!/usr/bin/env bash
# Fetches the header-only cuDNN frontend (PyPI package nvidia-cudnn-frontend,
# its include/ folder) into runtime/src/cuda/.cudnn-frontend (git-ignored),
# where the runtime's CMake finds it and builds the cuDNN and auto backends.
# Run it here (the GPU machine has no registry) and carry the folder with the
# device tool. Idempotent; exits 0 without the headers when PyPI can't be
# reached (the runtime then builds without the cuDNN backend).
#   scripts/fetch-cudnn-frontend.sh [version]     (default: 1.32.0)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/runtime/src/cuda/.cudnn-frontend"
ver="${1:-1.32.0}"
if [ -f "$dest/include/cudnn_frontend.h" ]; then
  echo "[cudnn-frontend] present in $dest"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
py="$(command -v python3 || true)"
if [ -z "$py" ] || ! "$py" -m pip download "nvidia-cudnn-frontend==$ver" --no-deps -q -d "$tmp" >"$tmp/log" 2>&1; then
  echo "[cudnn-frontend] could not download nvidia-cudnn-frontend==$ver from PyPI; the cuDNN backend will not be built"
  tail -3 "$tmp/log" 2>/dev/null
  exit 0
fi
mkdir -p "$dest"
"$py" - "$tmp" "$dest" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(whl) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("include/")])
PY
echo "[cudnn-frontend] $ver headers in $dest/include"
