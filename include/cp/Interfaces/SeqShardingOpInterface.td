//===- SeqShardingOpInterface.td - sequence sharding of ops -*- tablegen -*-===//
//
// The two questions cp-context-parallel asks of every op that a sequence-
// carrying tensor reaches, in the style of upstream Shard's
// ShardingInterface: how the op's operands and results relate along the
// sequence, and how the op becomes its per-rank (local) form. Upstream and
// third-party ops get it through external models
// (registerSeqShardingExternalModels); cp's own ops implement it in
// lib/Dialect/CP/IR/CPSeqSharding.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef CP_INTERFACES_SEQSHARDINGOPINTERFACE_TD
#define CP_INTERFACES_SEQSHARDINGOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def SeqShardingOpInterface : OpInterface<"SeqShardingOpInterface"> {
  let description = [{
    An op that context parallelism can shard along the attention's sequence.

    cp-context-parallel first finds every tensor that carries the sequence
    (and in which dim) by a worklist over use-def chains: whenever it learns
    that a value `v` carries the sequence in dim `d`, it asks the defining op
    and every user of `v` to `relateSeqDim(v, d, ctx)`. The op reports the
    sequence dims of its other operands and results with `ctx.add(...)`
    (which diagnoses conflicts and enqueues them), and records what needs
    special handling in the rewrite through the context's sinks (loops over
    the sequence, reductions and scans along it, operands read whole). An op
    that mixes positions along the sequence in a way it cannot shard emits a
    diagnostic at itself and fails.

    Then the pass changes the sequence dim of every such tensor from S to
    the local length L (arguments and results of the function, op results;
    constants are sharded with cp.shard) and asks every related op to
    `rewriteToLocal(rewriter, ctx)`: patch the attributes that spell out
    shapes, turn position-dependent code into original positions, all-reduce
    reductions over the sequence, replace attention by its ring form, and so
    on. Ops whose local form is the op itself with local types keep the
    default (nothing to do).

    A new op plugs in by implementing (or getting an external model of) this
    interface; ops without it stop the pass with a diagnostic.
  }];
  let cppNamespace = "::mlir::cp";

  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        `v` (an operand or result of this op) carries the sequence in dim
        `d`; `ctx.getInnerFactor()` is the product of the dims merged inside
        the sequence in that dim (1 for a plain dim) and `ctx.getSeqLen()`
        the attention's sequence length S. Reports the sequence dims of the
        op's other operands and results with `ctx.add` (the same dim may be
        added again: the analysis is idempotent), records special handling
        with `ctx.addSeqLoop` / `addSeqReduction` / `addSeqScan` /
        `addWholeRead`, and returns failure after a diagnostic at the op
        when it cannot be sharded along `d`.
      }],
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"relateSeqDim",
      /*args=*/(ins "::mlir::Value":$v, "int64_t":$d,
                    "::mlir::cp::SeqRelateContext &":$ctx)
    >,
    InterfaceMethod<
      /*desc=*/[{
        Rewrites this op to its per-rank form. When it is called, the
        function's arguments and every sequence-carrying value already have
        local types (the sequence dim of size outer * S * inner became
        outer * L * inner), constants along the sequence are cp.shard'ed,
        and operands read whole are cp.unshard'ed. `ctx` answers the
        analysis' questions (`getSeqDim`, `isPlain`, `getSeqLoop`, ...) and
        carries the grid, balancer, S, L and the rank (created on first
        use). The op may be replaced or erased (through `rewriter`); it
        returns failure after a diagnostic at the op. The default does
        nothing: the op with local types is its local form.
      }],
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"rewriteToLocal",
      /*args=*/(ins "::mlir::RewriterBase &":$rewriter,
                    "::mlir::cp::SeqRewriteContext &":$ctx),
      /*methodBody=*/"",
      /*defaultImplementation=*/"return ::mlir::success();"
    >,
  ];
}

#endif // CP_INTERFACES_SEQSHARDINGOPINTERFACE_TD
