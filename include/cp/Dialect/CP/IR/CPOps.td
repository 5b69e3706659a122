//===- CPOps.td - cp dialect operations --------------------*- tablegen -*-===//

#ifndef CP_DIALECT_CP_IR_CPOPS_TD
#define CP_DIALECT_CP_IR_CPOPS_TD

include "cp/Dialect/CP/IR/CPBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

// A 64-bit integer attribute read back as a signed int64_t (I64Attr reads
// uint64_t, which turns `x <= 0` checks into `x == 0`).
def CP_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
    "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

def CP_GridAxesAttr : DenseArrayAttrBase<"DenseI16ArrayAttr", "int16_t", "i16">;

//===----------------------------------------------------------------------===//
// Argument lists shared by the per-rank ops (spliced in with !con, so every op
// keeps its own accessors, builders and assembly format)
//===----------------------------------------------------------------------===//

// The device grid an op spans: the grid symbol and the axes of its ranks
// (all axes when empty).
defvar CP_GridArgs = (ins FlatSymbolRefAttr:$grid,
  DefaultValuedAttr<CP_GridAxesAttr, "{}">:$grid_axes);

// How the sequence is laid out over the ranks: the load balancer, then its
// block size (`striped`, `ptrr`) and whether the sequence is padded. Ops that
// know the global length (`seq_len`) take it between the two
// (CP_SeqLayoutArgs); cp.shard and cp.unshard read it from their operand.
defvar CP_BalancerArg = (ins CP_LoadBalancerAttr:$balancer);
defvar CP_BalancerTuningArgs = (ins OptionalAttr<CP_I64Attr>:$block_size,
  UnitAttr:$pad);
defvar CP_ShardLayoutArgs = !con(CP_BalancerArg, CP_BalancerTuningArgs);
defvar CP_SeqLayoutArgs = !con(CP_BalancerArg, (ins CP_I64Attr:$seq_len),
  CP_BalancerTuningArgs);

// The 12 settings of a ring (cp.ring_attention and its backward): the grid,
// how key/value blocks move (`rotate`), the sequence layout, and the
// attention's own settings in original positions.
defvar CP_RingSettings = !con(CP_GridArgs,
  (ins CP_RotateMethodAttr:$rotate), CP_SeqLayoutArgs,
  (ins UnitAttr:$is_causal, OptionalAttr<CP_I64Attr>:$window,
   OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa,
   OptionalAttr<CP_I64Attr>:$ulysses_size));

// The settings of Ulysses' all-to-alls (cp.seq_to_heads, cp.heads_to_seq).
defvar CP_UlyssesSettings = !con(CP_GridArgs,
  (ins CP_I64Attr:$head_dim, CP_I64Attr:$seq_dim, CP_LoadBalancerAttr:$balancer,
   CP_I64Attr:$seq_len, UnitAttr:$pad));

// Ops that name a device grid; the verifier checks the symbol and the axes.
class CP_GridOp<string mnemonic, list<Trait> traits = []>
    : CP_Op<mnemonic, !listconcat(traits,
        [DeclareOpInterfaceMethods<SymbolUserOpInterface>])>;

//===----------------------------------------------------------------------===//
// Front-end attention ops (global tensors)
//===----------------------------------------------------------------------===//

def CP_SDPAOp : CP_Op<"sdpa", [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention with PyTorch's semantics";
  let description = [{
    `out = softmax(query · keyᵀ · scale + mask) · value` over tensors laid out
    `[batch..., heads, seq, head_dim]`, as `F.scaled_dot_product_attention`.

    - `scale` defaults to `1/sqrt(head_dim)`.
    - `is_causal` is top-left aligned: query `i` sees keys `j <= i`. It may be
      combined with `mask` (both apply).
    - `mask` (optional) is broadcastable to `[batch..., heads, Lq, Lkv]`; an
      `i1` mask keeps positions that are true, a float mask is added.
    - `enable_gqa`: the query head count is a multiple of the key/value head
      count and query head `h` reads key/value head `h / (Hq / Hkv)`.
    - `dropout_p` in `[0, 1)`.
    - `segment_ids` (optional) are document ids of packed sequences:
      integers `[seq]` (one layout for every batch) or `[batch, seq]`
      (the first dim of the query); query `i` sees key `j` only where
      `segment_ids[i] == segment_ids[j]` (and the other masks allow it).
      Self-attention only (`Lq == Lkv`). `--cp-detect-attention` produces
      it from `doc[q] == doc[k]` masks; context parallelism shards it with
      the sequence and hands it to `cp.ring_attention`.
    - The optional second result is the fp32 log-sum-exp (natural log) of
      the scaled, masked scores per query row, `[batch..., heads, Lq]`. A
      fully masked row has LSE `-inf` and output 0.

    Example:
    ```mlir
    %out, %lse = cp.sdpa %q, %k, %v {is_causal, scale = 0.125 : f64}
        : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>)
        -> (tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
    %o2 = cp.sdpa %q, %k, %v mask %m
        : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>,
           tensor<64x64xi1>) -> tensor<1x8x64x64xf32>
    %o3 = cp.sdpa %q, %k, %v segment_ids %docs {is_causal}
        : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>,
           tensor<64xi32>) -> tensor<1x8x64x64xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
    Optional<AnyRankedTensor>:$mask, Optional<AnyRankedTensor>:$segment_ids,
    UnitAttr:$is_causal, OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa,
    OptionalAttr<F64Attr>:$dropout_p);
  let results = (outs AnyRankedTensor:$output, Optional<AnyRankedTensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)?
    (`segment_ids` $segment_ids^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def CP_SDPABackwardOp : CP_Op<"sdpa_backward", [Pure,
    AttrSizedOperandSegments]> {
  let summary = "gradients of scaled dot-product attention";
  let description = [{
    Given the upstream gradient `grad_output`, the forward inputs and the
    forward's `output` and fp32 `lse`, returns the gradients of query, key
    and value. Attributes, the mask and `segment_ids` have the meaning of
    `cp.sdpa`; with
    `enable_gqa` the key/value gradients are summed over the query heads
    that share a key/value head.

    Example:
    ```mlir
    %dq, %dk, %dv = cp.sdpa_backward %dout, %q, %k, %v, %out, %lse {is_causal}
        : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>,
           tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64xf32>)
        -> (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>)
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$grad_output, AnyRankedTensor:$query,
    AnyRankedTensor:$key, AnyRankedTensor:$value, AnyRankedTensor:$output,
    AnyRankedTensor:$lse, Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$segment_ids,
    UnitAttr:$is_causal, OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa,
    OptionalAttr<F64Attr>:$dropout_p);
  let results = (outs AnyRankedTensor:$grad_query, AnyRankedTensor:$grad_key,
                      AnyRankedTensor:$grad_value);
  let assemblyFormat = [{
    $grad_output `,` $query `,` $key `,` $value `,` $output `,` $lse
    (`mask` $mask^)? (`segment_ids` $segment_ids^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def CP_FlexAttentionOp : CP_Op<"flex_attention", [
    Pure]> {
  let summary = "attention with a mask_mod and a score_mod region";
  let description = [{
    PyTorch's `flex_attention`: scores are `query · keyᵀ · scale`, then
    `score_mod(score, b, h, q_idx, kv_idx)` (if present) rewrites each score,
    and `mask_mod(b, h, q_idx, kv_idx)` (if present) keeps the positions where
    it yields true. Indices are `index` values in original (global) sequence
    positions; the score is `f32`. Without `mask_mod` nothing is masked.
    GQA, scale and the optional LSE result are as in `cp.sdpa`.

    Example (causal plus an ALiBi-like bias):
    ```mlir
    %out = cp.flex_attention %q, %k, %v
        : (tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>)
        -> tensor<1x8x64x64xf32>
      mask_mod {
      ^bb0(%b: index, %h: index, %qi: index, %ki: index):
        %keep = arith.cmpi sge, %qi, %ki : index
        cp.yield %keep : i1
      } score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
        %d = arith.subi %ki, %qi : index
        %di = arith.index_cast %d : index to i64
        %df = arith.sitofp %di : i64 to f32
        %r = arith.addf %s, %df : f32
        cp.yield %r : f32
      }
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
    OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa);
  let results = (outs AnyRankedTensor:$output, Optional<AnyRankedTensor>:$lse);
  let regions = (region AnyRegion:$mask_mod, AnyRegion:$score_mod);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
    (`mask_mod` $mask_mod^)? (`score_mod` $score_mod^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def CP_YieldOp : CP_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["FlexAttentionOp"]>]> {
  let summary = "yields the value of a flex_attention modifier region";
  let description = [{
    Terminates `mask_mod` (yielding one `i1`) and `score_mod` (yielding one
    `f32`) of `cp.flex_attention`.

    Example: `cp.yield %keep : i1`
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Per-rank ops: sharding along the sequence and ring attention
//===----------------------------------------------------------------------===//

def CP_ShardOp : CP_GridOp<"shard", [Pure]> {
  let summary = "permute along a sequence dim by a load balancer and keep this rank's shard";
  let description = [{
    Takes a whole (global) tensor and returns this rank's local shard along
    `dim`: positions are first permuted by the load balancer, then split
    evenly over the `W` ranks of `grid` along `grid_axes` (all axes when
    empty). Rank `r` keeps positions `[r·L, (r+1)·L)` of the permuted order.

    | balancer | granule `g` | order |
    |---|---|---|
    | `none` | 1 | contiguous blocks |
    | `head_tail` | 2 | rank `r` holds chunk `r`, then chunk `2W-1-r` of `2W` chunks |
    | `striped` | `block_size` (1) | blocks of `g` tokens round robin |
    | `per_document_head_tail` | 2 | head-tail inside each document of `document_ids` |
    | `ptrr` | `block_size` (128) | blocks dealt by decreasing work, snake order |

    The sequence length `S` must be a multiple of `g·W`, unless `pad` is
    set: then the sequence is padded to the next multiple with positions
    that every consumer masks out, and `L = ceil(S / (g·W)) · g`. The
    padding is spread over the balancer's chunks (each chunk holds its real
    tokens first), exactly as the runtime lays it out.
    `document_ids` (1-D, length `S`) is required by
    `per_document_head_tail` and `ptrr` uses it when given.

    Example (S = 64, W = 4, head-tail: L = 16):
    ```mlir
    shard.grid @grid(shape = 4)
    %l = cp.shard %x on @grid dim = 2 balancer = <head_tail>
        : tensor<1x8x64x64xf32> -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = !con(
    (ins AnyRankedTensor:$input, Optional<AnyRankedTensor>:$document_ids),
    CP_GridArgs, (ins CP_I64Attr:$dim), CP_ShardLayoutArgs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input (`documents` $document_ids^ `:` type($document_ids))?
    `on` $grid (`grid_axes` `=` $grid_axes^)? `dim` `=` $dim
    `balancer` `=` $balancer attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def CP_UnshardOp : CP_GridOp<"unshard", [Pure]> {
  let summary = "gather local shards and undo the load-balanced permutation";
  let description = [{
    The inverse of `cp.shard` with the same attributes: all-gathers the local
    shards along `dim` across the ranks of `grid_axes`, applies the inverse
    permutation and drops padding, so every rank holds the whole tensor.

    Example:
    ```mlir
    %x = cp.unshard %l on @grid dim = 2 balancer = <head_tail>
        : tensor<1x8x16x64xf32> -> tensor<1x8x64x64xf32>
    ```
  }];
  let arguments = !con(
    (ins AnyRankedTensor:$input, Optional<AnyRankedTensor>:$document_ids),
    CP_GridArgs, (ins CP_I64Attr:$dim), CP_ShardLayoutArgs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input (`documents` $document_ids^ `:` type($document_ids))?
    `on` $grid (`grid_axes` `=` $grid_axes^)? `dim` `=` $dim
    `balancer` `=` $balancer attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def CP_GlobalPositionOp : CP_GridOp<"global_position", [Pure]> {
  let summary = "original sequence position of a local index on a rank";
  let description = [{
    Maps local sequence index `local` on rank `rank` (the linear index along
    `grid_axes`, e.g. from `shard.process_linear_index`) to the position it
    had before the load balancer's permutation, for a sequence of length
    `seq_len`. Padding positions (with `pad`) map to positions `>= seq_len`.
    This is how position-dependent code (`linalg.index`, causal masks,
    `mask_mod`) keeps its meaning after sharding.

    `per_document_head_tail` lays the sequence out from the document ids at
    run time: it takes `documents`, the ids of the whole sequence (integer,
    `[seq_len]` or `[1, seq_len]`), and `rank` must be the calling rank (the
    runtime computes this rank's positions from the ids; the local length is
    `ceil(seq_len / W)`, padding slots map to positions `>= seq_len`).
    `ptrr` is not accepted.

    Example:
    ```mlir
    %g = cp.global_position %i, %rank on @grid balancer = <head_tail>
        seq_len = 64 : index
    %p = cp.global_position %i, %rank documents %ids : tensor<64xi32>
        on @grid balancer = <per_document_head_tail> seq_len = 64 : index
    ```
  }];
  let arguments = !con((ins Index:$local, Index:$rank,
    Optional<AnyRankedTensor>:$document_ids), CP_GridArgs, CP_SeqLayoutArgs);
  let results = (outs Index:$position);
  let assemblyFormat = [{
    $local `,` $rank (`documents` $document_ids^ `:` type($document_ids))?
    `on` $grid (`grid_axes` `=` $grid_axes^)?
    `balancer` `=` $balancer `seq_len` `=` $seq_len attr-dict `:` type($position)
  }];
  let hasVerifier = 1;
}

def CP_RingAttentionOp : CP_GridOp<"ring_attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "attention of local query shards against all key/value shards of the ring";
  let description = [{
    Each rank holds the local shards (in the balancer's order) of query, key
    and value along the sequence dim; the op computes, for the local
    queries, attention against the whole sequence, moving key/value blocks
    between the `W` ranks of `grid` by `rotate`:
    `allgather` (gather all keys/values once), `alltoall` (a shift per step
    through all-to-all, as PyTorch), or `ring` (point-to-point shifts, the
    next posted before the current block is computed). With `enable_gqa`
    only the `Hkv` key/value heads move. Partial results are merged in fp32.

    `seq_len` is the global (unpadded) sequence length; `is_causal`,
    `window` (query at position p sees keys in `(p - window, p]`), `scale`
    and `enable_gqa` have their `cp.sdpa` meanings in original positions.
    `mask` (optional) holds the local query rows against all keys of the
    sequence in original order: last two dims `[L, seq_len]` (the runtime
    picks the columns of each received block); one row (`[.., 1, seq_len]`,
    a key-padding mask) holds for every local query. `segment_ids` (optional,
    `[L]` or `[batch, L]` integers) are document ids of the local tokens: a
    query sees only keys of its own document. With `per_document_head_tail`
    balancing they are required and hold the ids of the whole sequence
    (`[seq_len]`, original order), from which the runtime computes the
    layout.

    `ulysses_size = U` (optional, 2 ≤ U ≤ W, dividing W) makes it the
    hybrid 2-D strategy: the W ranks form a grid of W/U groups of U
    consecutive ranks (rank n = u + U·r); inside a group an all-to-all
    turns the sequence shards into head shards (H/U heads of the group's
    tokens; GQA key/value heads split when they divide over U, else
    replicated U/Hkv times), a ring of the W/U groups computes attention
    with the same balancer, and an all-to-all turns the output back. The
    shards stay in the balancer's W-rank layout, so nothing outside the op
    changes. Query heads must divide over U; masks and segment ids are not
    supported with it yet.

    Example:
    ```mlir
    %o, %lse = cp.ring_attention %q, %k, %v on @grid {
        rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>,
        is_causal, seq_len = 64 : i64}
        : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
        -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
    ```
  }];
  let arguments = !con((ins AnyRankedTensor:$query, AnyRankedTensor:$key,
    AnyRankedTensor:$value, Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$segment_ids), CP_RingSettings);
  let results = (outs AnyRankedTensor:$output, Optional<AnyRankedTensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? (`segment_ids` $segment_ids^)?
    `on` $grid (`grid_axes` `=` $grid_axes^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let builders = [
    // The ring the pass creates: no segment ids, block size or window; the
    // mask may be null, `scale` unset and `ulyssesSize` 0 (no hybrid).
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::mlir::Value":$query,
      "::mlir::Value":$key, "::mlir::Value":$value, "::mlir::Value":$mask,
      "const RingConfig &":$config)>
  ];
}

def CP_RingAttentionBackwardOp : CP_GridOp<"ring_attention_backward",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "gradients of ring attention on local shards";
  let description = [{
    The backward of `cp.ring_attention` with the same attributes. `output`
    and `lse` are the forward's (global over the ring) results for the local
    queries. The query gradient stays local (fp32 accumulation); key/value
    gradient accumulators travel with their key/value block and arrive home
    after `W` hops (`ring`, `alltoall`), or are reduce-scattered
    (`allgather`).

    Example:
    ```mlir
    %dq, %dk, %dv = cp.ring_attention_backward %dout, %q, %k, %v, %o, %lse
        on @grid {rotate = #cp.rotate<ring>, balancer = #cp.balancer<head_tail>,
                  is_causal, seq_len = 64 : i64}
        : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
           tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
        -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
    ```
  }];
  let arguments = !con((ins AnyRankedTensor:$grad_output,
    AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
    AnyRankedTensor:$output, AnyRankedTensor:$lse,
    Optional<AnyRankedTensor>:$mask, Optional<AnyRankedTensor>:$segment_ids),
    CP_RingSettings);
  let results = (outs AnyRankedTensor:$grad_query, AnyRankedTensor:$grad_key,
                      AnyRankedTensor:$grad_value);
  let assemblyFormat = [{
    $grad_output `,` $query `,` $key `,` $value `,` $output `,` $lse
    (`mask` $mask^)? (`segment_ids` $segment_ids^)?
    `on` $grid (`grid_axes` `=` $grid_axes^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let builders = [
    // As cp.ring_attention's: the ring the pass creates.
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes,
      "::mlir::Value":$grad_output, "::mlir::Value":$query,
      "::mlir::Value":$key, "::mlir::Value":$value, "::mlir::Value":$output,
      "::mlir::Value":$lse, "::mlir::Value":$mask,
      "const RingConfig &":$config)>
  ];
}

//===----------------------------------------------------------------------===//
// Ulysses: all-to-all between sequence shards and head shards
//===----------------------------------------------------------------------===//

def CP_SeqToHeadsOp : CP_GridOp<"seq_to_heads", [Pure]> {
  let summary = "all-to-all from this rank's sequence shard to a head shard of the whole sequence";
  let description = [{
    Ulysses' first all-to-all. `input` is this rank's shard along `seq_dim`
    (local length `L`, in the order of `balancer`, as `cp.shard` produces
    it) of a tensor with `H` heads in `head_dim`. The result holds the
    `H / W` heads `[r·H/W, (r+1)·H/W)` of rank `r` (of the `W` ranks of
    `grid` along `grid_axes`) for the whole sequence **in original order**:
    the op undoes the balancer's permutation while it concatenates the
    shards, and drops padding, so the result's sequence dim is exactly
    `seq_len` and position-dependent code (`is_causal`, masks, `mask_mod`)
    keeps its meaning. `H` must be a multiple of `W`; `balancer` one of
    `none`, `head_tail`, `striped` (static permutations).

    It folds `cp.seq_to_heads(cp.heads_to_seq(%x))` with the same
    attributes to `%x` (a forward output that the backward reads again).

    `--cp-lower-to-runtime` lowers it to `cprt_c_seq_to_heads_<T>`: one
    equal-size all-to-all of the communicator plus the load balancer's
    position table, on every backend.

    Example (H = 8, S = 64, W = 4, head-tail: L = 16):
    ```mlir
    %h = cp.seq_to_heads %q on @grid head_dim = 1 seq_dim = 2
        balancer = <head_tail> seq_len = 64
        : tensor<1x8x16x64xf32> -> tensor<1x2x64x64xf32>
    ```
  }];
  let arguments = !con((ins AnyRankedTensor:$input), CP_UlyssesSettings);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `on` $grid (`grid_axes` `=` $grid_axes^)? `head_dim` `=` $head_dim
    `seq_dim` `=` $seq_dim `balancer` `=` $balancer `seq_len` `=` $seq_len
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def CP_HeadsToSeqOp : CP_GridOp<"heads_to_seq", [Pure]> {
  let summary = "all-to-all from a head shard of the whole sequence back to this rank's sequence shard";
  let description = [{
    The inverse of `cp.seq_to_heads` with the same attributes: `input` holds
    `H / W` heads for the whole sequence (`seq_len` positions in original
    order), the result all `H` heads for this rank's sequence shard in the
    order of `balancer` (local length `L`); padding slots (with `pad`) are
    zero. Lowered to `cprt_c_heads_to_seq_<T>`.

    Example:
    ```mlir
    %o = cp.heads_to_seq %h on @grid head_dim = 1 seq_dim = 2
        balancer = <head_tail> seq_len = 64
        : tensor<1x2x64x64xf32> -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = !con((ins AnyRankedTensor:$input), CP_UlyssesSettings);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `on` $grid (`grid_axes` `=` $grid_axes^)? `head_dim` `=` $head_dim
    `seq_dim` `=` $seq_dim `balancer` `=` $balancer `seq_len` `=` $seq_len
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The explicit ring schedule
//===----------------------------------------------------------------------===//

def CP_ShiftStartOp : CP_GridOp<"shift_start", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "start sending tensors to the ring neighbour `offset` ranks ahead";
  let description = [{
    Posts a shift of `inputs` along the ring of `grid_axes`: rank `r` sends
    to `(r + offset) mod W` and receives from `(r - offset) mod W`. The
    transfer is in flight until the matching `cp.shift_wait`, so work placed
    between the two overlaps with it.

    Example:
    ```mlir
    %t = cp.shift_start %k, %v on @grid offset = 1
        : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = !con((ins Variadic<AnyRankedTensor>:$inputs), CP_GridArgs,
    (ins DefaultValuedAttr<CP_I64Attr, "1">:$offset));
  let results = (outs CP_ShiftToken:$token);
  let assemblyFormat = [{
    $inputs `on` $grid (`grid_axes` `=` $grid_axes^)? `offset` `=` $offset
    attr-dict `:` type($inputs)
  }];
  let hasVerifier = 1;
}

def CP_ShiftWaitOp : CP_Op<"shift_wait", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "wait for a shift and return the received tensors";
  let description = [{
    Completes the shift started by the `cp.shift_start` that produced
    `token` and returns the tensors received from the ring neighbour, with
    the types that were sent.

    Example:
    ```mlir
    %k1, %v1 = cp.shift_wait %t : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins CP_ShiftToken:$token);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = "$token attr-dict `:` type($results)";
  let hasVerifier = 1;
}

def CP_BlockAttentionOp : CP_Op<"block_attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "one ring step: local queries against one key/value block";
  let description = [{
    Computes the partial attention of `query` against one received key/value
    block with the step's causal behaviour (`skip`, `not_causal`, `causal`,
    `causal_strict`, `kv_head_half`, `q_tail_half`), returning the partial
    output and its fp32 LSE. Rows that the behaviour leaves out get output 0
    and LSE `-inf`, so `cp.merge_partial` ignores them.

    Optional operands refine the mask: `mask` (rows: local queries, columns:
    this block's keys), `q_positions` / `kv_positions` (1-D `index` or
    integer tensors of original positions, needed with `window`), and
    `q_segment_ids` / `kv_segment_ids` (document ids).

    Example:
    ```mlir
    %o, %lse = cp.block_attention %q, %k, %v {causal = #cp.causal<kv_head_half>}
        : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
        -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
    AnyRankedTensor:$value, Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$q_positions,
    Optional<AnyRankedTensor>:$kv_positions,
    Optional<AnyRankedTensor>:$q_segment_ids,
    Optional<AnyRankedTensor>:$kv_segment_ids,
    CP_CausalBehaviorAttr:$causal, OptionalAttr<CP_I64Attr>:$window,
    OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa);
  let results = (outs AnyRankedTensor:$output, AnyRankedTensor:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)?
    (`positions` `(` $q_positions^ `,` $kv_positions `)`)?
    (`segment_ids` `(` $q_segment_ids^ `,` $kv_segment_ids `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def CP_BlockAttentionBackwardOp : CP_Op<"block_attention_backward",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "one backward ring step: gradient contributions of one block";
  let description = [{
    The backward of `cp.block_attention` for one key/value block, given the
    final (merged) `output` and `lse` of the local queries. Returns the
    contributions of this block to the query gradient and to the block's
    key and value gradients; the schedule sums them (fp32 accumulators are
    allowed as result element types).

    Example:
    ```mlir
    %dq, %dk, %dv = cp.block_attention_backward %dout, %q, %k, %v, %o, %lse
        {causal = #cp.causal<causal>}
        : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
           tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
        -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$grad_output, AnyRankedTensor:$query,
    AnyRankedTensor:$key, AnyRankedTensor:$value, AnyRankedTensor:$output,
    AnyRankedTensor:$lse, Optional<AnyRankedTensor>:$mask,
    Optional<AnyRankedTensor>:$q_positions,
    Optional<AnyRankedTensor>:$kv_positions,
    Optional<AnyRankedTensor>:$q_segment_ids,
    Optional<AnyRankedTensor>:$kv_segment_ids,
    CP_CausalBehaviorAttr:$causal, OptionalAttr<CP_I64Attr>:$window,
    OptionalAttr<F64Attr>:$scale, UnitAttr:$enable_gqa);
  let results = (outs AnyRankedTensor:$grad_query, AnyRankedTensor:$grad_key,
                      AnyRankedTensor:$grad_value);
  let assemblyFormat = [{
    $grad_output `,` $query `,` $key `,` $value `,` $output `,` $lse
    (`mask` $mask^)?
    (`positions` `(` $q_positions^ `,` $kv_positions `)`)?
    (`segment_ids` `(` $q_segment_ids^ `,` $kv_segment_ids `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def CP_MergePartialOp : CP_Op<"merge_partial", [Pure]> {
  let summary = "merge two partial attention results by their log-sum-exp";
  let description = [{
    In fp32: `lse' = logaddexp(lse, lse_b)`,
    `out' = exp(lse - lse')·out + exp(lse_b - lse')·out_b`; rows where both
    LSEs are `-inf` stay output 0, LSE `-inf` (never NaN).

    Example:
    ```mlir
    %o, %l = cp.merge_partial %o0, %l0, %o1, %l1
        : (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>,
           tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
        -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf32>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$output, AnyRankedTensor:$lse,
    AnyRankedTensor:$output_b, AnyRankedTensor:$lse_b);
  let results = (outs AnyRankedTensor:$merged_output,
                      AnyRankedTensor:$merged_lse);
  let assemblyFormat = [{
    $output `,` $lse `,` $output_b `,` $lse_b attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Scans along a sharded sequence
//===----------------------------------------------------------------------===//

def CP_SeqScanOp : CP_GridOp<"seq_scan", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "inclusive scan along a sharded sequence dim, in original order";
  let description = [{
    `input` is this rank's shard of a tensor whose sequence dim `dim` (of
    global length `seq_len`) is split over the ranks of `grid` in the order
    of `balancer`. Every result element is the sum (`kind = <sum>`) or
    product (`<prod>`) of the input elements at original positions up to its
    own, along `dim`: what `torch.cumsum` / `torch.cumprod` on the whole
    tensor gives, though under head-tail or striped balancing no rank holds
    a contiguous part of the sequence. Padding positions (with `pad`)
    contribute nothing; their results are unspecified.

    It is computed as a scan of each chunk of consecutive positions plus an
    exclusive scan across ranks of the chunk totals (the runtime's exscan
    collective); `--cp-lower-to-runtime` lowers it to `cprt_c_seq_scan_*`.
    Element types: f32, f64, i32, i64.

    Example (S = 64, W = 4, head-tail: L = 16):
    ```mlir
    %c = cp.seq_scan %x on @grid dim = 1 balancer = <head_tail> seq_len = 64
        kind = <sum> : tensor<1x16xi64>
    ```
  }];
  let arguments = !con((ins AnyRankedTensor:$input), CP_GridArgs,
    (ins CP_I64Attr:$dim, CP_LoadBalancerAttr:$balancer, CP_I64Attr:$seq_len,
     CP_ScanKindAttr:$kind, UnitAttr:$pad));
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `on` $grid (`grid_axes` `=` $grid_axes^)? `dim` `=` $dim
    `balancer` `=` $balancer `seq_len` `=` $seq_len `kind` `=` $kind
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

#endif // CP_DIALECT_CP_IR_CPOPS_TD
