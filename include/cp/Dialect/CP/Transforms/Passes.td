//===- Passes.td - cp transformation passes ----------------*- tablegen -*-===//

#ifndef CP_DIALECT_CP_TRANSFORMS_PASSES_TD
#define CP_DIALECT_CP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPDetectAttention : Pass<"cp-detect-attention", "ModuleOp"> {
  let summary = "Raise attention written in linalg/tensor/arith/math or TOSA to cp.sdpa / cp.flex_attention";
  let description = [{
    Finds scaled dot-product attention in the IR that ML compilers produce
    (torch-mlir's linalg-on-tensors and TOSA output, hand-written linalg) and
    replaces it by one `cp.sdpa` (or `cp.flex_attention` when the mask is
    computed from positions by a `linalg.generic` over `linalg.index`).
    Candidates that do not match exactly (softmax over the wrong dim, a
    data-dependent mask of an unsupported form, ...) are left untouched;
    with `report-misses` each one gets a remark that says why.
    Run it before any elementwise fusion, which folds the pattern away.
  }];
  let dependentDialects = ["::mlir::cp::CPDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"reportMisses", "report-misses", "bool", /*default=*/"false",
           "Emit a remark for every softmax-like candidate that was not raised, saying why">
  ];
}

def CPContextParallel : Pass<"cp-context-parallel", "ModuleOp"> {
  let summary = "Turn single-device functions with attention into per-rank (SPMD) context-parallel functions";
  let description = [{
    For every function that contains `cp.sdpa`, `cp.sdpa_backward` or
    `cp.flex_attention`: arguments with a sequence dim become local shards
    in the load balancer's order (recorded in a `cp.sharding` argument
    attribute), attention becomes `cp.ring_attention` (forward and backward)
    on the local shards, position-dependent code is rewritten to original
    positions (or rejected with a diagnostic), and results with a sequence
    dim are returned as local shards (also recorded in `cp.sharding`), so
    that a runner can shard inputs and unshard outputs.

    The device grid is the `shard.grid` named by `grid` (created with
    `grid-size` ranks when it does not exist).

    `strategy=ulysses` keeps the sequence sharding (and its balancer and
    padding) at the function boundary but distributes each attention by
    heads instead: `cp.seq_to_heads` all-to-alls query/key/value (and, in
    the backward, the upstream gradient, output and LSE) to `H/W` heads of
    the whole sequence in original order, plain `cp.sdpa` /
    `cp.sdpa_backward` / `cp.flex_attention` runs on them, and
    `cp.heads_to_seq` returns outputs and gradients to sequence shards.
    Query heads must divide by the rank count; under GQA key/value heads
    are split when they divide, replicated `W/Hkv` times when `W` is a
    multiple of `Hkv` (never expanded to the query heads; replica gradients
    are summed), and refused otherwise. Masks with per-head values are
    refused (docs/design.md, "Ulysses").

    `strategy=hybrid` (the 2-D strategy) makes every attention a
    `cp.ring_attention` with `ulysses_size = U`: Ulysses all-to-alls inside
    groups of `U = ulysses-size` consecutive ranks (the fast links), ring
    attention with the balancer over the `W/U` groups. `ulysses-size=0`
    takes the cost model's best `U` on `topology`. Query heads must divide
    by `U`, key/value heads split or replicate over it; flex attention,
    masks and document ids are refused (docs/design.md, "Hybrid 2-D").

    `strategy=auto` evaluates the cost model (docs/cost-model.md) on
    `topology` (a built-in name or a JSON topology file) for every attention op and picks the fastest legal of ring
    (with the given `rotate`), Ulysses and the hybrid (its best `U`, or the
    given `ulysses-size`), per op (forward and backward apart); each choice
    is reported in a remark at the op with the predicted times.
  }];
  let dependentDialects = ["::mlir::cp::CPDialect", "::mlir::shard::ShardDialect",
                           "::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"gridSize", "grid-size", "int64_t", /*default=*/"2",
           "Number of ranks of the ring when the grid does not exist yet">,
    Option<"gridName", "grid", "std::string", /*default=*/"\"cp_grid\"",
           "Symbol name of the shard.grid to use (created if missing)">,
    Option<"rotate", "rotate", "::mlir::cp::RotateMethod",
           /*default=*/"::mlir::cp::RotateMethod::ring",
           "How key/value blocks reach every rank",
           [{::llvm::cl::values(
             clEnumValN(::mlir::cp::RotateMethod::allgather, "allgather", "all-gather key/value once"),
             clEnumValN(::mlir::cp::RotateMethod::alltoall, "alltoall", "shift through all-to-all per step"),
             clEnumValN(::mlir::cp::RotateMethod::ring, "ring", "point-to-point ring shifts, overlapped"))}]>,
    Option<"loadBalance", "load-balance", "::mlir::cp::LoadBalancer",
           /*default=*/"::mlir::cp::LoadBalancer::head_tail",
           "How sequence positions are permuted before the split",
           [{::llvm::cl::values(
             clEnumValN(::mlir::cp::LoadBalancer::none, "none", "contiguous blocks"),
             clEnumValN(::mlir::cp::LoadBalancer::head_tail, "head_tail", "chunk r and 2W-1-r on rank r"),
             clEnumValN(::mlir::cp::LoadBalancer::striped, "striped", "round robin"),
             clEnumValN(::mlir::cp::LoadBalancer::per_document_head_tail, "per_document_head_tail", "head-tail inside each document"),
             clEnumValN(::mlir::cp::LoadBalancer::ptrr, "ptrr", "work-sorted blocks in snake order"))}]>,
    ListOption<"seqArgs", "seq-args", "unsigned",
               "Indices of the function arguments that carry a sequence dim (default: found from the attention ops)">,
    Option<"pad", "pad", "bool", /*default=*/"false",
           "Pad sequences that do not split evenly with masked positions instead of rejecting them">,
    Option<"strategy", "strategy", "::mlir::cp::CPStrategy",
           /*default=*/"::mlir::cp::CPStrategy::ring",
           "How attention is distributed over the ranks",
           [{::llvm::cl::values(
             clEnumValN(::mlir::cp::CPStrategy::ring, "ring", "ring attention: key/value blocks move (rotate=...)"),
             clEnumValN(::mlir::cp::CPStrategy::ulysses, "ulysses", "all-to-all to head shards of the whole sequence, local attention, all-to-all back"),
             clEnumValN(::mlir::cp::CPStrategy::hybrid, "hybrid", "Ulysses inside groups of ulysses-size consecutive ranks, a ring of the groups (cp.ring_attention with ulysses_size)"),
             clEnumValN(::mlir::cp::CPStrategy::automatic, "auto", "the cost model picks ring, ulysses or hybrid per attention op (a remark says why)"))}]>,
    Option<"ulyssesSize", "ulysses-size", "int64_t", /*default=*/"0",
           "Ranks per Ulysses group of strategy=hybrid (0: the cost model's best on `topology`)">,
    Option<"topology", "topology", "std::string", /*default=*/"\"h200-nvlink\"",
           "Machine for strategy=auto's cost model: h200-nvlink, h100-ib, cpu, or the path of a JSON topology file (docs/cost-model.md)">
  ];
}

def CPPlan : Pass<"cp-plan", "ModuleOp"> {
  let summary = "Print the cost model's predicted time per strategy and rank count for every attention op";
  let description = [{
    Leaves the IR unchanged. For every `cp.sdpa`, `cp.sdpa_backward` and
    `cp.flex_attention` (run it after `--cp-detect-attention` on other
    input) prints to stdout a table of the predicted time in microseconds of
    ring attention with each rotation and of Ulysses, for each rank count of
    `grid-size` (default 1, 2, 4, 8) on `topology`, and the fastest legal
    one, after a first line naming the topology (built-in or the file read)
    and, per op, the kernel throughput at the block sizes used. `topology`
    is a built-in name or a JSON file; a missing or malformed file is an
    error naming the file and the bad field. The model and the file format
    are described in docs/cost-model.md.
  }];
  let options = [
    ListOption<"gridSizes", "grid-size", "int64_t",
               "Rank counts to tabulate (default 1,2,4,8)">,
    Option<"topology", "topology", "std::string", /*default=*/"\"h200-nvlink\"",
           "Machine: h200-nvlink, h100-ib, cpu, or the path of a JSON topology file (docs/cost-model.md)">,
    Option<"loadBalance", "load-balance", "::mlir::cp::LoadBalancer",
           /*default=*/"::mlir::cp::LoadBalancer::head_tail",
           "Balancer assumed for the rings",
           [{::llvm::cl::values(
             clEnumValN(::mlir::cp::LoadBalancer::none, "none", "contiguous blocks"),
             clEnumValN(::mlir::cp::LoadBalancer::head_tail, "head_tail", "chunk r and 2W-1-r on rank r"),
             clEnumValN(::mlir::cp::LoadBalancer::striped, "striped", "round robin"))}]>
  ];
}

def CPExpandRing : Pass<"cp-expand-ring", "ModuleOp"> {
  let summary = "Make the ring schedule explicit: per-step shifts, block attention with its causal behaviour, merges";
  let description = [{
    Rewrites `cp.ring_attention` with `rotate = ring` (and `alltoall`) into
    its schedule: for step i = 0..W-1, start the shift of the key/value
    block for step i+1, compute `cp.block_attention` of the local queries
    against the current block with the step's causal behaviour (chosen by
    comparing the step with this rank's index), wait for the shift, and
    merge the partial result into the running (out, lse) with
    `cp.merge_partial`.
  }];
  let dependentDialects = ["::mlir::cp::CPDialect", "::mlir::shard::ShardDialect",
                           "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def CPRaiseTosaScan : Pass<"cp-raise-tosa-scan"> {
  let summary = "Raise TOSA's shifted-addition cumulative sums to tm_tensor.scan";
  let description = [{
    torch-mlir exports `torch.cumsum(x, dim=d)` to TOSA as a Hillis-Steele
    chain `y = y + slice(pad(y, k zeros before d), 0, shape(y))` for
    k = 1, 2, 4, ... until 2k covers the dim. Pads and slices that shift the
    sequence cannot be sharded; the scan they compute can (`cp.seq_scan`).
    This pass replaces each complete chain whose partial sums are used
    nowhere else by one inclusive-sum `tm_tensor.scan` of its input.

    Example: for x of `tensor<2x8x4xf32>` and d = 1, the three steps with
    k = 1, 2, 4 become `tm_tensor.scan dimension(1) inclusive(true)`.
  }];
  let dependentDialects = ["::mlir::cp::tm_tensor::TMTensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // CP_DIALECT_CP_TRANSFORMS_PASSES_TD
