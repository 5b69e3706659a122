#!/usr/bin/env bash
# The README's main command: builds everything (installing missing
# dependencies), then shows the pipeline on the embedded CPU default:
#  1. compiles a single-device attention block into its 4-rank context-
#     parallel form with cp-opt (detection, sharding, ring schedule), and
#  2. runs the Llama-style block that torch-mlir emitted through cp-run on
#     4 CPU ranks (threads), comparing with PyTorch's output and with the
#     single-device run, and
#  3. runs causal ring attention on 4 CPU ranks through the runtime for
#     every rotate method and balancer against the single-device kernel.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CP_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"

opts="grid-size=4 rotate=ring load-balance=head_tail"
echo
echo "== 1. cp-opt --cp-pipeline=\"$opts\" examples/attention.mlir =="
out="$build/demo-attention.cp.mlir"
start=$(date +%s%N)
"$build/bin/cp-opt" "$root/examples/attention.mlir" --cp-pipeline="$opts" -o "$out"
end=$(date +%s%N)
echo "compiled in $(( (end - start) / 1000000 )) ms -> $out"
echo "per-rank signature:"
grep -o 'func.func @[a-z_]*([^{]*{cp.sharding = #cp.sharding<[^>]*>}' "$out" | head -1 | sed 's/^/  /'
printf "  ring steps: %s shift_start, %s block_attention, %s merge_partial\n" \
  "$(grep -c 'cp.shift_start' "$out")" "$(grep -c 'cp.block_attention' "$out")" \
  "$(grep -c 'cp.merge_partial' "$out")"
echo "  per-step causal behaviours:"
grep -o '#cp.causal<[a-z_]*>' "$out" | sort | uniq -c | sed 's/^/   /'

echo
echo "== 2. the Llama-style block torch-mlir emitted, context-parallel on 4 CPU ranks =="
echo "   (RMSNorm, RoPE, GQA causal attention, SwiGLU MLP; PyTorch's input and output)"
fx="$root/test/Fixtures"
"$build/bin/cp-run" "$fx/Inputs/llama_block_f32.linalg.mlir" --entry llama_block_f32 \
  --ranks 4 --pipeline "rotate=ring load-balance=head_tail" \
  --inputs "$fx/llama_block_input.npy" --expect "$fx/llama_block_output.npy" \
  --compare-single-device

echo
echo "== 3. ring attention on 4 CPU ranks vs one device (runtime, every rotate x balancer) =="
"$build/bin/cp-ring-demo" 4 1000 8 2 64
