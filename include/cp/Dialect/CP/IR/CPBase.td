//===- CPBase.td - cp dialect definition and enums ---------*- tablegen -*-===//
//
// The `cp` dialect: context-parallel (sequence-sharded) attention.
//
//===----------------------------------------------------------------------===//

#ifndef CP_DIALECT_CP_IR_CPBASE_TD
#define CP_DIALECT_CP_IR_CPBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def CP_Dialect : Dialect {
  let name = "cp";
  let cppNamespace = "::mlir::cp";
  let summary = "Context-parallel attention: front-end attention ops, "
                "sequence sharding, ring attention and its explicit schedule";
  let description = [{
    The `cp` dialect carries attention through three levels:

    1. Front-end ops that mirror PyTorch's semantics on whole (global)
       tensors: `cp.sdpa`, `cp.sdpa_backward`, `cp.flex_attention`.
    2. Per-rank (SPMD) ops on local sequence shards: `cp.shard` /
       `cp.unshard` (load-balanced permutation and split, and the inverse),
       `cp.ring_attention` / `cp.ring_attention_backward`, and
       `cp.global_position` (local index to original position).
    3. The explicit ring schedule: `cp.shift_start` / `cp.shift_wait`,
       `cp.block_attention` / `cp.block_attention_backward` with a per-step
       causal behaviour, and `cp.merge_partial`.

    Tensors are laid out `[batch..., heads, sequence, head_dim]`. The device
    grid is an upstream `shard.grid`; ops name it with `grid` and pick the
    ranks of the ring with `grid_axes`.
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  // `cp.sharding` on function arguments and results (CPAttrs.td).
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The name under which a function argument or result records its
    /// #cp.sharding.
    static constexpr ::llvm::StringLiteral getShardingAttrName() {
      return ::llvm::StringLiteral("cp.sharding");
    }
  }];
}

class CP_Op<string mnemonic, list<Trait> traits = []>
    : Op<CP_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def CP_RotateMethod : I32EnumAttr<"RotateMethod",
    "how key/value blocks reach every rank", [
      I32EnumAttrCase<"allgather", 0>,
      I32EnumAttrCase<"alltoall", 1>,
      I32EnumAttrCase<"ring", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::cp";
}
def CP_RotateMethodAttr : EnumAttr<CP_Dialect, CP_RotateMethod, "rotate"> {
  let assemblyFormat = "`<` $value `>`";
}

def CP_LoadBalancer : I32EnumAttr<"LoadBalancer",
    "how sequence positions are permuted before the split across ranks", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"head_tail", 1>,
      I32EnumAttrCase<"striped", 2>,
      I32EnumAttrCase<"per_document_head_tail", 3>,
      I32EnumAttrCase<"ptrr", 4>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::cp";
}
def CP_LoadBalancerAttr : EnumAttr<CP_Dialect, CP_LoadBalancer, "balancer"> {
  let assemblyFormat = "`<` $value `>`";
}

// The causal behaviour of one ring step, i.e. which part of the
// (local queries x received keys) block is computed and how it is masked.
def CP_CausalBehavior : I32EnumAttr<"CausalBehavior",
    "per-step causal behaviour of one block of ring attention", [
      // Nothing to compute: every key is in the future of every query.
      I32EnumAttrCase<"skip", 0>,
      // The whole block, no causal mask.
      I32EnumAttrCase<"not_causal", 1>,
      // Diagonal block: local query i sees local key j iff j <= i.
      I32EnumAttrCase<"causal", 2>,
      // Query i sees key j iff j < i (striped balancing, source > rank).
      I32EnumAttrCase<"causal_strict", 3>,
      // All local queries against the first half of the received keys.
      I32EnumAttrCase<"kv_head_half", 4>,
      // The second half of the local queries against all received keys.
      I32EnumAttrCase<"q_tail_half", 5>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::cp";
}
def CP_CausalBehaviorAttr : EnumAttr<CP_Dialect, CP_CausalBehavior, "causal"> {
  let assemblyFormat = "`<` $value `>`";
}

// The combiner of a scan along the sequence (values match the runtime's
// cprt::ScanKind and the C ABI's `kind`).
def CP_ScanKind : I32EnumAttr<"ScanKind",
    "the combiner of a scan along the sequence", [
      I32EnumAttrCase<"sum", 0>,
      I32EnumAttrCase<"prod", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::cp";
}
def CP_ScanKindAttr : EnumAttr<CP_Dialect, CP_ScanKind, "scan_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def CP_ShiftToken : TypeDef<CP_Dialect, "ShiftToken"> {
  let mnemonic = "shift_token";
  let summary = "an in-flight shift of tensors between ring neighbours";
  let description = [{
    Produced by `cp.shift_start` and consumed by exactly one `cp.shift_wait`;
    between the two, the transfer overlaps with other work.
  }];
}

include "cp/Dialect/CP/IR/CPAttrs.td"

#endif // CP_DIALECT_CP_IR_CPBASE_TD
