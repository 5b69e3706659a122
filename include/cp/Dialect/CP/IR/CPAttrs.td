//===- CPAttrs.td - cp dialect attributes ------------------*- tablegen -*-===//
//
// Attributes of the cp dialect beyond its enums (CPBase.td).
//
//===----------------------------------------------------------------------===//

#ifndef CP_DIALECT_CP_IR_CPATTRS_TD
#define CP_DIALECT_CP_IR_CPATTRS_TD

include "cp/Dialect/CP/IR/CPBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/EnumAttr.td"

def CP_ShardingAttr : AttrDef<CP_Dialect, "Sharding"> {
  let mnemonic = "sharding";
  let summary = "how a function argument or result is sharded along the "
                "sequence";
  let description = [{
    `--cp-context-parallel` turns the arguments and results of a function
    that hold the sequence into local shards and records, under the name
    `cp.sharding`, how each one is laid out, so that runners (cp-run, the
    AOT header, a host program) can shard whole inputs and gather whole
    results with the runtime's `cprt_shard` / `cprt_unshard`:

    - `grid`: the `shard.grid` whose ranks hold the shards (its size is the
      number of ranks the function was built for);
    - `dim`: the dimension of the (local) tensor that holds the sequence;
    - `seq_len`: the whole (global) sequence length, padding excluded;
    - `balancer`: the load balancer's permutation (`cp.balancer`);
    - `pad`: the sequence is padded to a multiple of the balancer's split
      (omitted when false).

    Example:

    ```mlir
    func.func @f(%x: tensor<1x16x32xf32> {cp.sharding = #cp.sharding<
                   grid = @cp_grid, dim = 1, seq_len = 64,
                   balancer = head_tail>}) -> ...
    ```

    The verifier checks `dim >= 0`, `seq_len >= 1` and that `balancer` is a
    cp load balancer; the dialect checks that a `cp.sharding` on a function
    argument or result is this attribute and that `dim` is a dimension of
    its ranked tensor (or, once bufferized, memref) type.
  }];
  let parameters = (ins
    "::mlir::FlatSymbolRefAttr":$grid,
    "int64_t":$dim,
    "int64_t":$seq_len,
    EnumParameter<CP_LoadBalancer>:$balancer,
    DefaultValuedParameter<"bool", "false">:$pad
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // CP_DIALECT_CP_IR_CPATTRS_TD
