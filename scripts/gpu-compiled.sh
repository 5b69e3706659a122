#!/usr/bin/env bash
# Compiled modules on GPUs (docs/gpu.md, "compiled module on GPUs, step by
# step"): modules compiled here for the GPU and run there.
#
#   scripts/gpu-compiled.sh compile DIR   # on a machine with the cp build (LLVM/MLIR):
#                                         # DIR/<case>/<case>-<variant>/<entry>.{o,h},
#                                         # the inputs and the reference outputs
#   scripts/gpu-compiled.sh run DIR       # on the GPU machine (CMake + CUDA only):
#                                         # builds the runtime + one launcher per
#                                         # variant, runs each against the reference
#
# Cases (CASES="..." picks some; default all):
#   llama     the torch-mlir Llama block (fp32) against PyTorch's output
#   backward  forward + backward of causal GQA attention (fp32, D = 16: the
#             naive CUDA kernels) against the CPU runtime's single-device run
#   backward_bf16  the same in bf16 with D = 64 (the flash kernels)
#   mask_bool, mask_float  the torch-mlir SDPA fixtures with a boolean mask
#             [1,1,S,S] and a per-head float mask [1,4,S,S] (fp32), against
#             the CPU runtime's single-device run
#   documents causal GQA ring attention over packed documents: rN runs a
#             hand-written per-rank module (test/e2e/Inputs/doc_ring.mlir.in,
#             the ring with document ids), single its single-device form
#             (doc_mask.mlir, cp.sdpa with the same-document mask), both
#             against the CPU runtime's run of doc_mask.mlir
#   documents_bwd  the same, forward + backward (@doc_ring_bwd)
#   documents_perdoc  load-balance=per_document_head_tail (the runtime's
#             per-document layout; the launcher shards the inputs by the
#             document ids) on causal GQA attention over packed documents
#             (test/e2e/Inputs/docs_gqa_causal_f32.linalg.mlir, S = 64, i64
#             ids), against the CPU runtime's single-device run
#   ulysses   strategy=ulysses (all-to-all to head shards, local attention,
#             all-to-all back) on the torch-mlir causal GQA SDPA (fp32)
#   ulysses_bwd    forward + backward under strategy=ulysses, Hq = 8, Hkv = 2,
#             S = 50 (padded; KV heads replicated on 4 ranks)
#   ulysses_h6     6 heads on 3 ranks (forward + backward)
#   hybrid    forward + backward under strategy=hybrid (Ulysses groups x a
#             ring; the ulysses_bwd module): u4 = 2 groups of U = 2
#   hybrid_u4 the same on 8 ranks with U = 4 (u8 = 2 groups of 4)
# Variants: single (no cp pipeline: one device, attention as sdpa calls),
# rN (context parallel on N virtual ranks, head-tail balanced ring over the
# runtime; padded where the sequence does not split), uN (strategy=ulysses
# on N virtual ranks). Cases with VS_SINGLE=1
# also compare every rN run with the GPU's single run. Each case directory
# has a case.env (entry, variants, inputs, references, tolerances) that `run`
# reads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode=${1:?compile or run}
dir=$(realpath -m "${2:?output directory}")
fix=$root/test/Fixtures
cases="${CASES:-llama backward backward_bf16 mask_bool mask_float documents documents_bwd documents_perdoc ulysses ulysses_bwd ulysses_h6 hybrid hybrid_u4}"

# compile_variants CASE FILE ENTRY "VARIANTS" PIPELINE-OPTIONS [TEMPLATE]
# PIPELINE-OPTIONS: --cp-pipeline's options for the rN / uN variants; "": rN
# is the head-tail ring, padded only where the sequence (SEQ) does not split
# (the Llama block's original form), uN head-tail Ulysses.
# TEMPLATE: the rN variants compile this per-rank module instead (NRANKS and
# LOCAL = 48 / N substituted), without the cp pipeline.
compile_variants() {
  local c=$1 file=$2 entry=$3 variants=$4 popts=$5 template=${6:-}
  for v in $variants; do
    local out="$dir/$c/$c-$v" src=$file
    mkdir -p "$out"
    local args=(--backend cuda --gpu-lowering "chip=sm_90"
                --emit-object "$out/$entry.o" --emit-header "$out/$entry.h" --quiet)
    local n=${v#[ru]}
    if [ "$v" != single ] && [ -n "$template" ]; then
      src="$out/$entry.mlir"
      sed -e "s/NRANKS/$n/g" -e "s/LOCAL/$((48 / n))/g" "$template" > "$src"
      args+=(--ranks "$n")
    elif [ "$v" != single ]; then
      local p=$popts
      if [ -z "$p" ] && [ "${v:0:1}" = u ]; then
        p="strategy=ulysses load-balance=head_tail"
      elif [ -z "$p" ]; then
        p="rotate=ring load-balance=head_tail expand=false"
        [ $(( SEQ % (2 * n) )) = 0 ] || p="$p pad=true"
      fi
      args+=(--ranks "$n" --pipeline "$p")
    fi
    "$cprun" "$src" --entry "$entry" "${args[@]}"
  done
}

# random_case CASE FILE ENTRY "VARIANTS" PIPELINE RTOL ATOL NRESULTS "DESCR:SHAPE ..."
#             [TEMPLATE]
# Random inputs (scripts/random-npy.py), the reference from the CPU
# runtime's single-device run of FILE (cp-run, here).
random_case() {
  local c=$1 file=$2 entry=$3 variants=$4 popts=$5 rtol=$6 atol=$7 nres=$8 specs=$9
  local template=${10:-}
  mkdir -p "$dir/$c"
  local inputs="" paths="" expect="" refs="" i=0 k
  for s in $specs; do
    python3 "$root/scripts/random-npy.py" "$dir/$c/in$i.npy" "${s%%:*}" "${s#*:}" $((1000 + i))
    inputs="$inputs${inputs:+,}in$i.npy"
    paths="$paths${paths:+,}$dir/$c/in$i.npy"
    i=$((i + 1))
  done
  for ((k = 0; k < nres; ++k)); do
    expect="$expect${expect:+,}ref$k.npy"
    refs="$refs${refs:+,}$dir/$c/ref$k.npy"
  done
  "$cprun" "$file" --entry "$entry" --quiet --inputs "$paths" --outputs "$refs" > /dev/null
  cat > "$dir/$c/case.env" <<EOF
ENTRY=$entry
VARIANTS="$variants"
INPUTS=$inputs
EXPECT=$expect
RTOL=$rtol
ATOL=$atol
ITERS=10
VS_SINGLE=1
EOF
  compile_variants "$c" "$file" "$entry" "$variants" "$popts" "$template"
}

if [ "$mode" = compile ]; then
  cprun=${CP_RUN:-$root/build/bin/cp-run}
  ring="rotate=ring load-balance=head_tail expand=false pad=true"
  for c in $cases; do
    case $c in
    llama)
      mkdir -p "$dir/llama"
      cp "$fix/llama_block_input.npy" "$fix/llama_block_output.npy" "$dir/llama/"
      cat > "$dir/llama/case.env" <<EOF
ENTRY=llama_block_f32
VARIANTS="${VARIANTS:-single r1 r2 r3 r4 r8 u2 u4}"
INPUTS=llama_block_input.npy
EXPECT=llama_block_output.npy
RTOL=1e-3
ATOL=1e-4
ITERS=${ITERS:-100}
VS_SINGLE=0
EOF
      SEQ=64 compile_variants llama "$fix/Inputs/llama_block_f32.linalg.mlir" llama_block_f32 \
        "${VARIANTS:-single r1 r2 r3 r4 r8 u2 u4}" "" ;;
    backward)
      random_case backward "$root/test/e2e/Inputs/fwd_bwd.mlir" fwd_bwd \
        "single r1 r2 r3 r4" "$ring" 1e-4 1e-5 4 \
        "<f4:1,4,48,16 <f4:1,2,48,16 <f4:1,2,48,16 <f4:1,4,48,16" ;;
    backward_bf16)
      random_case backward_bf16 "$root/test/e2e/Inputs/fwd_bwd_bf16.mlir" fwd_bwd_bf16 \
        "single r1 r2 r3 r4" "$ring" 2e-2 1e-2 4 \
        "<u2:1,4,64,64 <u2:1,2,64,64 <u2:1,2,64,64 <u2:1,4,64,64" ;;
    mask_bool | mask_float)
      m=${c#mask_}
      random_case "$c" "$fix/Inputs/sdpa_${m}mask_f32.linalg.mlir" "sdpa_${m}mask_f32" \
        "single r1 r2 r3 r4" "$ring" 1e-4 1e-5 1 \
        "<f4:1,4,64,16 <f4:1,4,64,16 <f4:1,4,64,16 $([ $m = bool ] && echo "|b1:1,1,64,64" || echo "<f4:1,4,64,64")" ;;
    documents)
      random_case documents "$root/test/e2e/Inputs/doc_mask.mlir" doc_ring \
        "single r1 r2 r3 r4" "" 1e-4 1e-5 1 \
        "<f4:1,4,48,16 <f4:1,2,48,16 <f4:1,2,48,16 <i4:48" "$root/test/e2e/Inputs/doc_ring.mlir.in" ;;
    documents_bwd)
      random_case documents_bwd "$root/test/e2e/Inputs/doc_mask.mlir" doc_ring_bwd \
        "single r1 r2 r3 r4" "" 1e-4 1e-5 4 \
        "<f4:1,4,48,16 <f4:1,2,48,16 <f4:1,2,48,16 <i4:48 <f4:1,4,48,16" \
        "$root/test/e2e/Inputs/doc_ring.mlir.in" ;;
    documents_perdoc)
      random_case documents_perdoc "$root/test/e2e/Inputs/docs_gqa_causal_f32.linalg.mlir" \
        docs_gqa_causal_f32 "single r2 r3 r4 r8" "load-balance=per_document_head_tail" \
        1e-4 1e-5 1 "<f4:1,4,64,16 <f4:1,2,64,16 <f4:1,2,64,16 <i8:64" ;;
    ulysses)
      random_case ulysses "$fix/Inputs/sdpa_gqa_causal_f32.linalg.mlir" sdpa_gqa_causal_f32 \
        "single u1 u2 u4" "" 1e-4 1e-5 1 "<f4:1,4,64,16 <f4:1,2,64,16 <f4:1,2,64,16" ;;
    ulysses_bwd)
      random_case ulysses_bwd "$root/test/e2e/Inputs/ulysses_gqa4_pad.mlir" gqa4 \
        "single u2 u4" "strategy=ulysses load-balance=head_tail pad=true" 1e-4 1e-5 4 \
        "<f4:1,8,50,16 <f4:1,2,50,16 <f4:1,2,50,16 <f4:1,8,50,16" ;;
    ulysses_h6)
      random_case ulysses_h6 "$root/test/e2e/Inputs/ulysses_h6.mlir" h6 \
        "single u3" "strategy=ulysses load-balance=striped" 1e-4 1e-5 4 \
        "<f4:1,6,48,8 <f4:1,3,48,8 <f4:1,3,48,8 <f4:1,6,48,8" ;;
    hybrid)
      random_case hybrid "$root/test/e2e/Inputs/ulysses_gqa4_pad.mlir" gqa4 \
        "single u4" "strategy=hybrid ulysses-size=2 load-balance=head_tail pad=true" 1e-4 1e-5 4 \
        "<f4:1,8,50,16 <f4:1,2,50,16 <f4:1,2,50,16 <f4:1,8,50,16" ;;
    hybrid_u4)
      random_case hybrid_u4 "$root/test/e2e/Inputs/ulysses_gqa4_pad.mlir" gqa4 \
        "single u8" "strategy=hybrid ulysses-size=4 load-balance=head_tail pad=true" 1e-4 1e-5 4 \
        "<f4:1,8,50,16 <f4:1,2,50,16 <f4:1,2,50,16 <f4:1,8,50,16" ;;
    *) echo "unknown case '$c'" >&2; exit 2 ;;
    esac
  done
  ls -la "$dir"/*/
  exit 0
fi

[ "$mode" = run ] || { echo "usage: $0 compile|run DIR" >&2; exit 2; }
export NCCL_NVLS_ENABLE=0
NV=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
export LD_LIBRARY_PATH="$NV/nccl/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
build=${CPRT_GPU_COMPILED_BUILD:-$root/build-gpu-compiled}
OUT=${OUT:-$build/logs}
mkdir -p "$OUT"
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } 2>&1 | tee "$OUT/device.txt"
present=""
for c in $cases; do [ -f "$dir/$c/case.env" ] && present="$present $c"; done
[ -n "$present" ] || { echo "no compiled cases in $dir (run compile first)" >&2; exit 2; }
mods="" targets=""
for c in $present; do
  # shellcheck disable=SC1090
  (. "$dir/$c/case.env"; for v in $VARIANTS; do echo "$dir/$c/$c-$v:$ENTRY"; done) > "$OUT/$c.mods"
  while read -r m; do
    mods="$mods${mods:+;}$m"
    targets="$targets cprt-gpu-run-$(basename "${m%%:*}")"
  done < "$OUT/$c.mods"
done
t0=$(date +%s)
cmake -S "$root/runtime" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCPRT_ENABLE_TESTS=OFF -DCPRT_ENABLE_MPI=OFF -DCPRT_ENABLE_CUDNN=OFF \
  -DCPRT_CUDA_ARCHITECTURES=90-real -DNCCL_HOME="$NV/nccl" \
  -DCPRT_GPU_MODULES="$mods" > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
# shellcheck disable=SC2086
ninja -C "$build" $targets > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"

# list_in CASEDIR LIST: the comma list with each file under CASEDIR.
list_in() {
  local d=$1 out="" f
  IFS=, read -ra fs <<< "$2"
  for f in "${fs[@]}"; do out="$out${out:+,}${f:+$d/$f}"; done
  echo "$out"
}

rc=0
summary=()
set +e
for c in $present; do
  # shellcheck disable=SC1090
  . "$dir/$c/case.env"
  cdir="$dir/$c"
  ins=$(list_in "$cdir" "$INPUTS")
  exp=$(list_in "$cdir" "$EXPECT")
  nout=$(awk -F, '{print NF}' <<< "$EXPECT")
  for v in $VARIANTS; do
    n=1; [ "$v" = single ] || n=${v#[ru]}
    exe=$(find "$build" -name "cprt-gpu-run-$c-$v" -type f | head -1)
    outs="" vs_single=()
    for ((k = 0; k < nout; ++k)); do outs="$outs${outs:+,}$OUT/out_$c-${v}_$k.npy"; done
    if [ "$VS_SINGLE" = 1 ] && [ "$v" != single ]; then
      single=""
      for ((k = 0; k < nout; ++k)); do single="$single${single:+,}$OUT/out_$c-single_$k.npy"; done
      vs_single=(--expect "$single")
    fi
    echo "== $c $v: $n rank(s)"
    timeout -k 5 120 "$exe" --ranks "$n" --inputs "$ins" --expect "$exp" "${vs_single[@]}" \
      --iters "${ITERS:-10}" --rtol "$RTOL" --atol "$ATOL" --outputs "$outs" \
      > "$OUT/run_$c-$v.log" 2>&1
    st=$?
    cat "$OUT/run_$c-$v.log"
    log="$OUT/run_$c-$v.log"
    summary+=("$(printf '%-22s exit %d: %d/%d comparisons ok, worst max abs err %s' "$c $v" $st \
      "$(grep -c ': ok$' "$log")" "$(grep -c '^result #' "$log")" \
      "$(grep -o 'max abs err [^,]*' "$log" | awk '{print $4}' | sort -g | tail -1)")")
    if [ $st != 0 ]; then
      rc=1
      # Localise: synchronise after every kernel / runtime call and report the
      # first op that produced a NaN.
      echo "== $c $v again with CPRT_GPU_SYNC=1 CPRT_GPU_DEBUG_NAN=1"
      CPRT_GPU_SYNC=1 CPRT_GPU_DEBUG_NAN=1 timeout -k 5 60 "$exe" --ranks "$n" \
        --inputs "$ins" --expect "$exp" > "$OUT/debug_$c-$v.log" 2>&1
      grep -m 14 -E "nan\]|error|result" "$OUT/debug_$c-$v.log"
    fi
  done
done
# One line per run (the output above can be longer than a log tail shows).
echo "== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.txt"
exit $rc
