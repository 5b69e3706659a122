//===- LowerToRuntime.cpp - cp ops to calls into the cprt runtime ---------===//
//
// Runs on tensors before one-shot bufferization. Each cp op (and each
// upstream shard collective the context-parallel pass emits) is rewritten
// by one conversion pattern into a call of an entry point of
// runtime/include/cprt/cprt_compiler.h (RuntimeCalls.h has the table):
//
//   operands  -> bufferization.to_buffer (read_only), cast to memref<*xT>
//   results   -> memref.alloc, cast to memref<*xT> for the call, then
//                bufferization.to_tensor restrict writable after it
//
// Entry points are named by the element type of their main tensors
// (`_f32`, `_bf16`, ...) because an MLIR symbol has one type. Masks are
// passed as additive f32 tensors of shape [..., Lq, Lkv] (bool masks become
// 0 / -inf, broadcast dims are materialised), positions as i64 and document
// ids as i32. cp.global_position becomes a lookup in a constant table of the
// balancer's layout (per_document_head_tail: in this rank's positions from
// cprt_c_document_positions); cp.flex_attention is decomposed into linalg
// (DecomposeFlex.cpp); cp.shift_start is replaced by (handles, send
// buffers, receive buffers), which its cp.shift_wait consumes (a 1:N
// replacement). The patterns are the same for every target; the target
// (RuntimeTarget) names the entry points and says which exist.
//
//===----------------------------------------------------------------------===//

#include "cp/Conversion/CPToRuntime.h"
#include "cp/Conversion/Passes.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "RuntimeAbi.h"
#include "RuntimeCalls.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::cp {
#define GEN_PASS_DEF_CPLOWERTORUNTIME
#include "cp/Conversion/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::runtime;

namespace {

// Flags of the attention entry points: the runtime's own constants.
constexpr int32_t kCausal = CPRT_C_CAUSAL, kHasMask = CPRT_C_HAS_MASK,
                  kHasLse = CPRT_C_HAS_LSE, kHasSegments = CPRT_C_HAS_SEGMENTS,
                  kHasPositions = CPRT_C_HAS_POSITIONS;

RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

bool allStatic(Operation *op) {
  for (Type t : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto st = dyn_cast<ShapedType>(t))
      if (!st.hasStaticShape())
        return false;
  return true;
}

double scaleOf(std::optional<APFloat> s) {
  return s ? s->convertToDouble() : 0.0;
}

int64_t seqDimSize(Value v) {
  auto t = rtt(v);
  return t.getShape()[t.getRank() - 2];
}

/// The common part of every runtime-call pattern: the target must provide
/// the op's entry families and shapes must be static; `lower` builds the
/// calls and replaces the op (or reports why not, at the op).
template <typename OpTy>
class RuntimePattern : public OpConversionPattern<OpTy> {
public:
  using OpAdaptor = typename OpConversionPattern<OpTy>::OpAdaptor;
  RuntimePattern(MLIRContext *ctx, const RuntimeTarget &target,
                 ArrayRef<RuntimeEntry> entries, PatternBenefit benefit = 1)
      : OpConversionPattern<OpTy>(ctx, benefit), target(target),
        entries(entries.begin(), entries.end()) {}

  LogicalResult
  matchAndRewrite(OpTy op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    if (!matches(op))
      return rewriter.notifyMatchFailure(op, "another pattern's form");
    for (RuntimeEntry e : entries)
      if (!target.provides(e))
        return op->emitOpError(target.missingEntryMessage);
    if (!allStatic(op))
      return op->emitOpError("the lowering needs static shapes");
    RuntimeCallBuilder c(rewriter, op, target);
    return lower(op, adaptor, c);
  }

protected:
  /// Whether this pattern lowers `op` (several patterns may share an op
  /// kind, each taking one form of it).
  virtual bool matches(OpTy op) const { return true; }
  virtual LogicalResult lower(OpTy op, OpAdaptor a,
                              RuntimeCallBuilder &c) const = 0;

  /// Replaces `op` by the tensors that `buffers` hold after the calls.
  static void replaceWithBuffers(OpTy op, ArrayRef<Value> buffers,
                                 RuntimeCallBuilder &c) {
    SmallVector<Value> results;
    for (auto [buf, res] : llvm::zip_equal(buffers, op->getResults()))
      results.push_back(c.result(buf, res.getType()));
    c.b.replaceOp(op, results);
  }

  const RuntimeTarget &target;
  SmallVector<RuntimeEntry, 2> entries;
};

/// Checks that gradients (and output) of a backward op have the types the
/// runtime writes: the query's element type, or f32 for a block step.
template <typename BwdOp>
LogicalResult checkBackwardTypes(BwdOp op, Type et, bool f32Grads) {
  Type gradType = f32Grads ? Float32Type::get(op.getContext()) : et;
  for (Value g : {op.getGradQuery(), op.getGradKey(), op.getGradValue()})
    if (rtt(g).getElementType() != gradType)
      return op.emitOpError(f32Grads
                                ? "lowering needs f32 gradient contributions"
                                : "lowering needs gradients and outputs in "
                                  "the query's element type");
  for (Value g : {op.getGradOutput(), op.getOutput()})
    if (rtt(g).getElementType() != et)
      return op.emitOpError(f32Grads
                                ? "lowering needs grad_output and output in "
                                  "the query's element type"
                                : "lowering needs gradients and outputs in "
                                  "the query's element type");
  return success();
}

//===----------------------------------------------------------------------===//
// Attention: cp.sdpa(_backward), cp.ring_attention(_backward),
// cp.block_attention(_backward), cp.merge_partial
//===----------------------------------------------------------------------===//

/// The buffer arguments of an attention call, in the runtime's order: the
/// inputs (q, k, v; the backward's dout, q, k, v, out, lse), then `extra`
/// (mask, segment ids), then the results' buffers, which `buffers` receives
/// (the forward's lse passed absent when the op has none, else flagged).
template <typename Op, typename Adaptor>
SmallVector<Value> attentionArgs(Op op, Adaptor a, RuntimeCallBuilder &c,
                                 ArrayRef<Value> extra, int32_t &flags,
                                 SmallVectorImpl<Value> &buffers) {
  constexpr bool kBackward = std::is_same_v<Op, SDPABackwardOp> ||
                             std::is_same_v<Op, RingAttentionBackwardOp>;
  SmallVector<Value> args;
  if constexpr (kBackward) {
    for (Value in : {a.getGradOutput(), a.getQuery(), a.getKey(), a.getValue(),
                     a.getOutput(), a.getLse()})
      args.push_back(c.input(in));
    args.append(extra.begin(), extra.end());
    for (Value g : op.getResults()) {
      buffers.push_back(c.alloc(rtt(g)));
      args.push_back(c.unranked(buffers.back()));
    }
  } else {
    for (Value in : {a.getQuery(), a.getKey(), a.getValue()})
      args.push_back(c.input(in));
    args.append(extra.begin(), extra.end());
    buffers.push_back(c.alloc(rtt(op.getOutput())));
    args.push_back(c.unranked(buffers.back()));
    if (op.getLse()) {
      flags |= kHasLse;
      buffers.push_back(c.alloc(rtt(op.getLse())));
      args.push_back(c.unranked(buffers.back()));
    } else {
      args.push_back(c.absent(c.b.getF32Type()));
    }
  }
  return args;
}

/// cp.sdpa -> cprt_c_sdpa_fwd_<T>; cp.sdpa_backward -> cprt_c_sdpa_bwd_<T>
/// (segment ids become an additive mask of their own: the entries take
/// none).
template <typename Op>
struct SDPAPattern : RuntimePattern<Op> {
  static constexpr bool kBackward = std::is_same_v<Op, SDPABackwardOp>;
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  SDPAPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern<Op>(ctx, t, {kBackward ? RuntimeEntry::SdpaBwd
                                              : RuntimeEntry::SdpaFwd}) {}

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    Type et = rtt(a.getQuery()).getElementType();
    if (failed(c.attentionSuffix(et)))
      return failure();
    if constexpr (kBackward)
      if (failed(checkBackwardTypes(op, et, /*f32Grads=*/false)))
        return failure();
    int32_t flags = op.getIsCausal() ? kCausal : 0;
    Value mask = c.absent(c.b.getF32Type());
    if (a.getSegmentIds()) {
      // The single-device entry takes no document ids: their mask.
      flags |= kHasMask;
      mask = c.input(c.documentMask(a.getSegmentIds(), a.getMask(),
                                    rtt(a.getQuery()).getRank()));
    } else if (a.getMask()) {
      flags |= kHasMask;
      mask = c.input(c.additiveMask(a.getMask(), seqDimSize(a.getQuery()),
                                    seqDimSize(a.getKey())));
    }
    SmallVector<Value> buffers;
    SmallVector<Value> args = attentionArgs(op, a, c, {mask}, flags, buffers);
    if (failed(c.checkAttentionFlags(flags)))
      return failure();
    args.append({c.f64(scaleOf(op.getScale())), c.i32(flags)});
    if (failed(c.call(this->entries[0], et, args)))
      return failure();
    this->replaceWithBuffers(op, buffers, c);
    return success();
  }
};

/// cp.ring_attention(_backward) -> cprt_c_ring_{fwd,bwd}_<T>: the whole
/// ring in the runtime; with per_document_head_tail balancing
/// cprt_c_ring_docs_{fwd,bwd}_<T>, whose segment ids are the whole
/// sequence's (the runtime computes the layout from them).
template <typename Op>
struct RingPattern : RuntimePattern<Op> {
  static constexpr bool kBackward = std::is_same_v<Op, RingAttentionBackwardOp>;
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  RingPattern(MLIRContext *ctx, const RuntimeTarget &t, bool perDocument)
      : RuntimePattern<Op>(ctx, t, {entryFor(perDocument)}),
        perDocument(perDocument) {}

  static RuntimeEntry entryFor(bool perDocument) {
    if (perDocument)
      return kBackward ? RuntimeEntry::RingDocsBwd : RuntimeEntry::RingDocsFwd;
    return kBackward ? RuntimeEntry::RingBwd : RuntimeEntry::RingFwd;
  }

  /// The hybrid (ulysses_size) has its own pattern; per-document balancing
  /// its own entry.
  bool matches(Op op) const override {
    return !op.getUlyssesSize() &&
           (op.getBalancer() == LoadBalancer::per_document_head_tail) ==
               perDocument;
  }
  bool perDocument;

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    Type et = rtt(a.getQuery()).getElementType();
    if (failed(c.attentionSuffix(et)))
      return failure();
    if (op.getBalancer() == LoadBalancer::ptrr)
      return op.emitOpError("ptrr balancing needs a block mask, which the "
                            "lowering does not pass yet");
    if (a.getSegmentIds() && rtt(a.getSegmentIds()).getRank() != 1)
      return op.emitOpError("the lowering takes 1-D segment ids");
    if (perDocument && (a.getMask() || op.getWindow()))
      return op.emitOpError("per_document_head_tail balancing: the lowering "
                            "takes no mask or window");
    if constexpr (kBackward)
      if (failed(checkBackwardTypes(op, et, /*f32Grads=*/false)))
        return failure();
    int32_t flags = op.getIsCausal() ? kCausal : 0;
    Value mask = c.absent(c.b.getF32Type());
    if (a.getMask()) {
      flags |= kHasMask;
      mask = c.input(
          c.additiveMask(a.getMask(), seqDimSize(a.getQuery()), op.getSeqLen()));
    }
    Value seg = c.absent(c.b.getI32Type());
    if (a.getSegmentIds()) {
      flags |= kHasSegments;
      seg = c.input(c.castInts(a.getSegmentIds(), c.b.getI32Type()));
    }
    SmallVector<Value> buffers;
    SmallVector<Value> args =
        attentionArgs(op, a, c, {mask, seg}, flags, buffers);
    if (failed(c.checkAttentionFlags(flags)))
      return failure();
    args.append({c.f64(scaleOf(op.getScale())), c.i32(flags),
                 c.i32(abi::value(op.getRotate())),
                 c.i32(abi::value(op.getBalancer())), c.i64(op.getSeqLen()),
                 c.i64(op.getWindow().value_or(0))});
    if (failed(c.call(this->entries[0], et, args)))
      return failure();
    this->replaceWithBuffers(op, buffers, c);
    return success();
  }
};

/// The number of ranks along the grid axes of `op` (a cp op on a grid:
/// `grid` and `grid_axes`, all axes when empty), or a diagnostic.
template <typename GridOpTy> FailureOr<int64_t> gridWorld(GridOpTy op) {
  SymbolTableCollection symbols;
  shard::GridOp grid = shard::getGridOrNull(op, op.getGridAttr(), symbols);
  if (!grid)
    return op.emitOpError("needs its grid");
  SmallVector<int16_t> axes(op.getGridAxes());
  if (axes.empty())
    for (int16_t i = 0; i < grid.getRank(); ++i)
      axes.push_back(i);
  int64_t world = shard::collectiveProcessGroupSize(axes, grid.getShape());
  if (ShapedType::isDynamic(world))
    return op.emitOpError("needs a grid of static size");
  return world;
}

/// cp.ring_attention(_backward) with ulysses_size = U ->
/// cprt_c_hybrid_{fwd,bwd}_<T>: Ulysses inside groups of U ranks, a ring of
/// the W/U groups, all in the runtime.
template <typename Op>
struct HybridPattern : RuntimePattern<Op> {
  static constexpr bool kBackward = std::is_same_v<Op, RingAttentionBackwardOp>;
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  HybridPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern<Op>(ctx, t, {kBackward ? RuntimeEntry::HybridBwd
                                              : RuntimeEntry::HybridFwd}) {}

  bool matches(Op op) const override { return op.getUlyssesSize().has_value(); }

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    Type et = rtt(a.getQuery()).getElementType();
    if (failed(c.attentionSuffix(et)))
      return failure();
    if (a.getMask() || a.getSegmentIds())
      return op.emitOpError("the hybrid lowering takes no mask or segment ids");
    if constexpr (kBackward)
      if (failed(checkBackwardTypes(op, et, /*f32Grads=*/false)))
        return failure();
    FailureOr<int64_t> worldOr = gridWorld(op);
    if (failed(worldOr))
      return failure();
    int64_t world = *worldOr, u = *op.getUlyssesSize();
    if (world % u != 0)
      return op.emitOpError("needs a static grid that ulysses_size divides");
    int32_t flags = op.getIsCausal() ? kCausal : 0;
    SmallVector<Value> buffers;
    SmallVector<Value> args = attentionArgs(op, a, c, {}, flags, buffers);
    if (failed(c.checkAttentionFlags(flags)))
      return failure();
    args.append({c.f64(scaleOf(op.getScale())), c.i32(flags),
                 c.i32(abi::value(op.getRotate())),
                 c.i32(abi::value(op.getBalancer())), c.i64(op.getSeqLen()),
                 c.i64(op.getWindow().value_or(0)), c.i64(u),
                 c.i64(world / u)});
    if (failed(c.call(this->entries[0], et, args)))
      return failure();
    this->replaceWithBuffers(op, buffers, c);
    return success();
  }
};

/// cp.block_attention(_backward) -> cprt_c_block_{fwd,bwd}_<T>: one step
/// of the expanded ring, fp32 partial results.
template <typename Op>
struct BlockPattern : RuntimePattern<Op> {
  static constexpr bool kBackward =
      std::is_same_v<Op, BlockAttentionBackwardOp>;
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  BlockPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern<Op>(ctx, t, {kBackward ? RuntimeEntry::BlockBwd
                                              : RuntimeEntry::BlockFwd}) {}

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    Type et = rtt(a.getQuery()).getElementType();
    if (failed(c.attentionSuffix(et)))
      return failure();
    if constexpr (kBackward) {
      if (failed(checkBackwardTypes(op, et, /*f32Grads=*/true)))
        return failure();
    } else if (!rtt(op.getOutput()).getElementType().isF32()) {
      return op.emitOpError("lowering needs an f32 partial output");
    }
    int32_t flags = 0;
    SmallVector<Value> optional = optionalOperands(a, c, flags);
    SmallVector<Value> args, buffers;
    for (Value r : op.getResults())
      buffers.push_back(c.alloc(rtt(r)));
    if constexpr (kBackward)
      args = {c.input(a.getGradOutput()), c.input(a.getQuery()),
              c.input(a.getKey()),        c.input(a.getValue()),
              c.input(a.getOutput()),     c.input(a.getLse())};
    else
      args = {c.input(a.getQuery()), c.input(a.getKey()),
              c.input(a.getValue())};
    args.append(optional);
    for (Value buf : buffers)
      args.push_back(c.unranked(buf));
    if (failed(c.checkAttentionFlags(flags)))
      return failure();
    args.append({c.f64(scaleOf(op.getScale())), c.i32(flags),
                 c.i32(abi::value(op.getCausal())),
                 c.i64(op.getWindow().value_or(0))});
    if (failed(c.call(this->entries[0], et, args)))
      return failure();
    this->replaceWithBuffers(op, buffers, c);
    return success();
  }

  /// (mask, q_pos, kv_pos, q_seg, kv_seg), placeholders where absent.
  static SmallVector<Value> optionalOperands(OpAdaptor a, RuntimeCallBuilder &c,
                                            int32_t &flags) {
    Type f32 = c.b.getF32Type(), i64 = c.b.getI64Type(),
         i32 = c.b.getI32Type();
    Value mask = c.absent(f32), qp = c.absent(i64), kp = c.absent(i64),
          qs = c.absent(i32), ks = c.absent(i32);
    if (a.getMask()) {
      flags |= kHasMask;
      mask = c.input(c.additiveMask(a.getMask(), seqDimSize(a.getQuery()),
                                    seqDimSize(a.getKey())));
    }
    if (a.getQPositions()) {
      flags |= kHasPositions;
      qp = c.input(c.castInts(a.getQPositions(), i64));
      kp = c.input(c.castInts(a.getKvPositions(), i64));
    }
    if (a.getQSegmentIds()) {
      flags |= kHasSegments;
      qs = c.input(c.castInts(a.getQSegmentIds(), i32));
      ks = c.input(c.castInts(a.getKvSegmentIds(), i32));
    }
    return {mask, qp, kp, qs, ks};
  }
};

/// cp.merge_partial -> cprt_c_merge_f32.
struct MergePattern : RuntimePattern<MergePartialOp> {
  MergePattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {RuntimeEntry::Merge}) {}

  LogicalResult lower(MergePartialOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    for (Value v : op->getOperands())
      if (!rtt(v).getElementType().isF32())
        return op.emitOpError("lowering merges f32 partial results");
    Value out = c.alloc(rtt(op.getMergedOutput())),
          lse = c.alloc(rtt(op.getMergedLse()));
    if (failed(c.call(RuntimeEntry::Merge, c.b.getF32Type(),
                      {c.input(a.getOutput()), c.input(a.getLse()),
                       c.input(a.getOutputB()), c.input(a.getLseB()),
                       c.unranked(out), c.unranked(lse)})))
      return failure();
    replaceWithBuffers(op, {out, lse}, c);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Ring shifts: cp.shift_start / cp.shift_wait
//===----------------------------------------------------------------------===//

/// cp.shift_start -> per input: a private copy to send (alive until the
/// wait), a receive buffer, cprt_c_shift_start_<T> -> handle. The token is
/// replaced by (handles..., sends..., recvs...) for its cp.shift_wait.
struct ShiftStartPattern : RuntimePattern<ShiftStartOp> {
  ShiftStartPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t,
                       {RuntimeEntry::ShiftStart, RuntimeEntry::ShiftWait}) {}

  LogicalResult lower(ShiftStartOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    // The wait completes the shift and frees its send buffer: without one
    // the start would stay behind, naming a grid the lowering removes.
    Value token = op.getToken();
    if (token.use_empty() ||
        !llvm::all_of(token.getUsers(), llvm::IsaPred<ShiftWaitOp>))
      return op.emitOpError("expected its token to be used by cp.shift_wait "
                            "only (a shift never waited on stays pending)");
    SmallVector<Value> handles, sends, recvs;
    for (Value in : a.getInputs()) {
      auto t = rtt(in);
      if (failed(c.suffix(t.getElementType())))
        return failure();
      Value send = c.alloc(t);
      Value src = bufferization::ToBufferOp::create(
          c.b, c.loc, MemRefType::get(t.getShape(), t.getElementType()), in,
          /*read_only=*/true);
      memref::CopyOp::create(c.b, c.loc, src, send);
      Value recv = c.alloc(t);
      FailureOr<func::CallOp> call = c.call(
          RuntimeEntry::ShiftStart, t.getElementType(),
          {c.unranked(send), c.unranked(recv),
           c.i64(c.elemBytes(t.getElementType())), c.i64(op.getOffset())});
      if (failed(call))
        return failure();
      handles.push_back(call->getResult(0));
      sends.push_back(send);
      recvs.push_back(recv);
    }
    SmallVector<SmallVector<Value>> replacement(1);
    llvm::append_range(replacement[0],
                       llvm::concat<Value>(handles, sends, recvs));
    c.b.replaceOpWithMultiple(op, std::move(replacement));
    return success();
  }
};

/// cp.shift_wait -> cprt_c_shift_wait_<T>(handle, send) per tensor; the
/// results are the receive buffers of the lowered cp.shift_start.
struct ShiftWaitPattern : OpConversionPattern<ShiftWaitOp> {
  ShiftWaitPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : OpConversionPattern(ctx), target(t) {}

  LogicalResult
  matchAndRewrite(ShiftWaitOp op, OneToNOpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!target.provides(RuntimeEntry::ShiftWait))
      return op.emitOpError(target.missingEntryMessage);
    ValueRange parts = adaptor.getToken();
    size_t n = op.getNumResults();
    if (parts.size() != 3 * n) {
      // A start that was refused has said why.
      if (op.getToken().getDefiningOp<ShiftStartOp>())
        return rewriter.notifyMatchFailure(op, "cp.shift_start not lowered");
      return op.emitOpError("expected the token of a cp.shift_start, not one "
                            "passed through a block argument or region "
                            "result");
    }
    RuntimeCallBuilder c(rewriter, op, target);
    SmallVector<Value> results;
    for (auto [i, res] : llvm::enumerate(op.getResults())) {
      Type et = rtt(res).getElementType();
      if (failed(c.call(RuntimeEntry::ShiftWait, et,
                        {parts[i], c.unranked(parts[n + i])})))
        return failure();
      results.push_back(c.result(parts[2 * n + i], res.getType()));
    }
    rewriter.replaceOp(op, results);
    return success();
  }

  const RuntimeTarget &target;
};

//===----------------------------------------------------------------------===//
// Data movement: cp.shard / cp.unshard, Ulysses, cp.seq_scan, collectives
//===----------------------------------------------------------------------===//

/// Document ids `docs` ([S] or [1, S], integer) as the runtime takes them:
/// [S] i32.
Value wholeIds(Value docs, RuntimeCallBuilder &c) {
  Value ids = docs;
  if (rtt(ids).getRank() == 2)
    ids = tensor::CollapseShapeOp::create(c.b, c.loc, ids,
                                          ArrayRef<ReassociationIndices>{{0, 1}});
  if (!rtt(ids).getElementType().isInteger(32))
    ids = c.castInts(ids, c.b.getI32Type());
  return ids;
}

/// cp.shard / cp.unshard -> cprt_c_{shard,unshard}_<T>(in, out, elem_bytes,
/// dim, balancer); per_document_head_tail: cprt_c_{shard,unshard}_docs_<T>
/// with the whole ids last.
template <typename Op>
struct ShardPattern : RuntimePattern<Op> {
  static constexpr bool kUnshard = std::is_same_v<Op, UnshardOp>;
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  ShardPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern<Op>(ctx, t, {kUnshard ? RuntimeEntry::Unshard
                                             : RuntimeEntry::Shard}) {}

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    bool perDocument =
        op.getBalancer() == LoadBalancer::per_document_head_tail;
    if (op.getBalancer() == LoadBalancer::ptrr)
      return op.emitOpError("the lowering shards with none, head_tail, "
                            "striped or per_document_head_tail balancing");
    if (op.getDocumentIds() && !perDocument)
      return op.emitOpError("the lowering takes document ids only with "
                            "per_document_head_tail balancing");
    if (op.getBlockSize() && *op.getBlockSize() != 1)
      return op.emitOpError("the runtime's striped balancing uses blocks of 1");
    auto t = rtt(op.getResult());
    if (failed(c.suffix(t.getElementType())))
      return failure();
    Value out = c.alloc(t);
    SmallVector<Value> args = {c.input(a.getInput()), c.unranked(out),
                               c.i64(c.elemBytes(t.getElementType())),
                               c.i32(op.getDim()),
                               c.i32(abi::value(op.getBalancer()))};
    RuntimeEntry entry = this->entries[0];
    if (perDocument) {
      args.push_back(c.input(wholeIds(a.getDocumentIds(), c)));
      entry = kUnshard ? RuntimeEntry::UnshardDocs : RuntimeEntry::ShardDocs;
    }
    if (failed(c.call(entry, t.getElementType(), args)))
      return failure();
    this->replaceWithBuffers(op, {out}, c);
    return success();
  }
};

/// cp.seq_to_heads / cp.heads_to_seq -> cprt_c_seq_to_heads_<T> /
/// cprt_c_heads_to_seq_<T>(in, out, elem_bytes, head_dim, seq_dim, balancer,
/// seq_len): one all-to-all plus the balancer's positions in the runtime.
template <typename Op>
struct UlyssesPattern : RuntimePattern<Op> {
  using OpAdaptor = typename RuntimePattern<Op>::OpAdaptor;
  UlyssesPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern<Op>(ctx, t,
                           {std::is_same_v<Op, SeqToHeadsOp>
                                ? RuntimeEntry::SeqToHeads
                                : RuntimeEntry::HeadsToSeq}) {}

  LogicalResult lower(Op op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    auto t = rtt(op.getResult());
    if (failed(c.suffix(t.getElementType())))
      return failure();
    Value out = c.alloc(t);
    if (failed(c.call(this->entries[0], t.getElementType(),
                      {c.input(a.getInput()), c.unranked(out),
                       c.i64(c.elemBytes(t.getElementType())),
                       c.i32(op.getHeadDim()), c.i32(op.getSeqDim()),
                       c.i32(abi::value(op.getBalancer())),
                       c.i64(op.getSeqLen())})))
      return failure();
    this->replaceWithBuffers(op, {out}, c);
    return success();
  }
};

/// cp.seq_scan -> cprt_c_seq_scan_<T>(in, out, dim, balancer, seq_len, kind).
struct SeqScanPattern : RuntimePattern<SeqScanOp> {
  SeqScanPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {RuntimeEntry::SeqScan}) {}

  LogicalResult lower(SeqScanOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    auto t = rtt(op.getResult());
    Value out = c.alloc(t);
    if (failed(c.call(RuntimeEntry::SeqScan, t.getElementType(),
                      {c.input(a.getInput()), c.unranked(out),
                       c.i32(op.getDim()), c.i32(abi::value(op.getBalancer())),
                       c.i64(op.getSeqLen()),
                       c.i32(abi::value(op.getKind()))})))
      return failure();
    replaceWithBuffers(op, {out}, c);
    return success();
  }
};

/// shard.process_linear_index -> cprt_c_rank() (the calling thread's
/// context).
struct ProcessIndexPattern : RuntimePattern<shard::ProcessLinearIndexOp> {
  ProcessIndexPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {RuntimeEntry::Rank}) {}

  LogicalResult lower(shard::ProcessLinearIndexOp op, OpAdaptor,
                      RuntimeCallBuilder &c) const override {
    FailureOr<func::CallOp> call = c.call(RuntimeEntry::Rank, Type(), {});
    if (failed(call))
      return failure();
    c.b.replaceOpWithNewOp<arith::IndexCastOp>(op, c.b.getIndexType(),
                                               call->getResult(0));
    return success();
  }
};

/// shard.all_gather -> cprt_c_all_gather_<T>(in, out, elem_bytes, axis).
struct AllGatherPattern : RuntimePattern<shard::AllGatherOp> {
  AllGatherPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {RuntimeEntry::AllGather}) {}

  LogicalResult lower(shard::AllGatherOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    auto t = rtt(op.getResult());
    if (failed(c.suffix(t.getElementType())))
      return failure();
    Value out = c.alloc(t);
    if (failed(c.call(RuntimeEntry::AllGather, t.getElementType(),
                      {c.input(a.getInput()), c.unranked(out),
                       c.i64(c.elemBytes(t.getElementType())),
                       c.i32(op.getGatherAxis().getSExtValue())})))
      return failure();
    replaceWithBuffers(op, {out}, c);
    return success();
  }
};

/// shard.all_reduce -> cprt_c_all_reduce_<T>(in, out, kind).
struct AllReducePattern : RuntimePattern<shard::AllReduceOp> {
  AllReducePattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {RuntimeEntry::AllReduce}) {}

  LogicalResult lower(shard::AllReduceOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    auto t = rtt(op.getResult());
    if (t.getElementType() != rtt(a.getInput()).getElementType())
      return op.emitOpError("the lowering reduces in the input's element type");
    FailureOr<std::string> sfx = c.suffix(t.getElementType());
    if (failed(sfx))
      return failure();
    if (!llvm::is_contained(spec(RuntimeEntry::AllReduce).suffixes, *sfx))
      return op.emitOpError("the runtime all-reduces f32, f64, i32 or i64");
    int32_t kind;
    switch (op.getReduction()) {
    case shard::ReductionKind::Sum:
      kind = CPRT_C_REDUCE_SUM;
      break;
    case shard::ReductionKind::Max:
      kind = CPRT_C_REDUCE_MAX;
      break;
    case shard::ReductionKind::Min:
      kind = CPRT_C_REDUCE_MIN;
      break;
    default:
      return op.emitOpError("the runtime all-reduces with sum, max or min");
    }
    Value out = c.alloc(t);
    if (failed(c.call(RuntimeEntry::AllReduce, t.getElementType(),
                      {c.input(a.getInput()), c.unranked(out), c.i32(kind)})))
      return failure();
    replaceWithBuffers(op, {out}, c);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// cp.global_position (a runtime call only per document); retargeted calls
//===----------------------------------------------------------------------===//

/// This rank's per-document positions ([localLen] i64) from the whole ids
/// `docs` ([S] or [1, S]): cprt_c_document_positions, called right after
/// the ids are defined, outside any loop or linalg body that reads them.
FailureOr<Value> documentPositions(Value docs, int64_t seqLen,
                                   int64_t localLen, RuntimeCallBuilder &c) {
  OpBuilder::InsertionGuard guard(c.b);
  c.b.setInsertionPointAfterValue(docs);
  Value ids = wholeIds(docs, c);
  auto t = RankedTensorType::get({localLen}, c.b.getI64Type());
  Value out = c.alloc(t);
  if (failed(c.call(RuntimeEntry::DocumentPositions, Type(),
                    {c.input(ids), c.unranked(out), c.i64(seqLen)})))
    return failure();
  return c.result(out, t);
}

/// cp.global_position -> a lookup in a constant table of the balancer's
/// whole layout: table[rank * L + local]; with `documents`
/// (per_document_head_tail) a lookup in this rank's positions computed by
/// the runtime from the ids: positions[local] (`rank` is the caller's).
struct GlobalPositionPattern : RuntimePattern<GlobalPositionOp> {
  GlobalPositionPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : RuntimePattern(ctx, t, {}) {}

  LogicalResult lower(GlobalPositionOp op, OpAdaptor a,
                      RuntimeCallBuilder &c) const override {
    FailureOr<int64_t> world = gridWorld(op);
    if (failed(world))
      return failure();
    OpBuilder &b = c.b;
    if (a.getDocumentIds()) {
      int64_t localLen = llvm::divideCeil(op.getSeqLen(), *world);
      FailureOr<Value> pos =
          documentPositions(a.getDocumentIds(), op.getSeqLen(), localLen, c);
      if (failed(pos))
        return failure();
      Value p = tensor::ExtractOp::create(b, c.loc, *pos, a.getLocal());
      c.b.replaceOpWithNewOp<arith::IndexCastOp>(op, b.getIndexType(), p);
      return success();
    }
    std::optional<int64_t> localLen = localSeqLen(
        op.getSeqLen(), *world, op.getBalancer(), op.getBlockSize(), true);
    SmallVector<int64_t> table;
    for (int64_t r = 0; r < *world; ++r)
      for (int64_t j = 0; j < *localLen; ++j)
        table.push_back(globalPosition(j, r, op.getSeqLen(), *world,
                                       op.getBalancer(), op.getBlockSize(),
                                       op.getPad()));
    auto tt = RankedTensorType::get({(int64_t)table.size()}, b.getIndexType());
    Value cst = arith::ConstantOp::create(
        b, c.loc, tt, DenseElementsAttr::get(tt, ArrayRef<int64_t>(table)));
    Value cL = arith::ConstantIndexOp::create(b, c.loc, *localLen);
    Value base = arith::MulIOp::create(b, c.loc, a.getRank(), cL);
    Value idx = arith::AddIOp::create(b, c.loc, base, a.getLocal());
    c.b.replaceOpWithNewOp<tensor::ExtractOp>(op, cst, ValueRange{idx});
    return success();
  }
};

/// A hand-written call of a `cprt_c_*` entry that the target names
/// differently (`cprt_gpu_*`) is pointed at the target's entry, or refused
/// when the target has none.
struct RetargetCallPattern : OpConversionPattern<func::CallOp> {
  RetargetCallPattern(MLIRContext *ctx, const RuntimeTarget &t)
      : OpConversionPattern(ctx), target(t) {}

  LogicalResult
  matchAndRewrite(func::CallOp call, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    StringRef callee = call.getCallee();
    auto parsed = parseHostSymbol(callee);
    std::optional<std::string> name =
        parsed ? target.symbol(parsed->first, parsed->second) : std::nullopt;
    if (!name)
      return call.emitError("runtime entry '")
             << callee << "' " << target.missingCallMessage;
    if (*name == callee)
      return rewriter.notifyMatchFailure(call, "already the target's entry");
    ArrayRef<Param> params = spec(parsed->first).params;
    if (params.size() != call.getNumOperands())
      return call.emitError("runtime entry '")
             << callee << "' takes " << params.size() << " arguments";
    for (auto [p, arg] : llvm::zip(params, call.getOperands())) {
      std::optional<int64_t> flags = getConstantIntValue(arg);
      if (p == Param::Flags && target.refusedAttentionFlags &&
          (!flags || (*flags & target.refusedAttentionFlags)))
        return call.emitError(target.refusedFlagsMessage);
    }
    RuntimeCallBuilder c(rewriter, call, target);
    FailureOr<func::FuncOp> fn = c.declare(*name, call.getCalleeType());
    if (failed(fn))
      return failure();
    rewriter.replaceOpWithNewOp<func::CallOp>(call, *fn, a.getOperands());
    return success();
  }

  const RuntimeTarget &target;
};

} // namespace

//===----------------------------------------------------------------------===//
// Population and driver
//===----------------------------------------------------------------------===//

void mlir::cp::populateCPToRuntimePatterns(RewritePatternSet &patterns,
                                           const RuntimeTarget &target) {
  MLIRContext *ctx = patterns.getContext();
  for (bool perDocument : {false, true})
    patterns.add<RingPattern<RingAttentionOp>,
                 RingPattern<RingAttentionBackwardOp>>(ctx, target,
                                                       perDocument);
  patterns.add<
      SDPAPattern<SDPAOp>, SDPAPattern<SDPABackwardOp>,
      HybridPattern<RingAttentionOp>, HybridPattern<RingAttentionBackwardOp>,
      BlockPattern<BlockAttentionOp>, BlockPattern<BlockAttentionBackwardOp>,
      MergePattern, ShiftStartPattern, ShiftWaitPattern, ShardPattern<ShardOp>,
      ShardPattern<UnshardOp>, UlyssesPattern<SeqToHeadsOp>,
      UlyssesPattern<HeadsToSeqOp>, SeqScanPattern, ProcessIndexPattern,
      AllGatherPattern, AllReducePattern, GlobalPositionPattern,
      RetargetCallPattern>(ctx, target);
  populateDecomposeFlexPatterns(patterns);
}

bool mlir::cp::needsRuntimeLowering(Operation *op,
                                    const RuntimeTarget &target) {
  // cp.yield goes with the flex attention op whose modifier it ends.
  if (isa<YieldOp>(op))
    return false;
  // Every shard op but the grid (which goes once its users are lowered):
  // one without a pattern would be left naming a removed grid.
  if (isa<CPDialect, shard::ShardDialect>(op->getDialect()))
    return !isa<shard::GridOp>(op);
  auto call = dyn_cast<func::CallOp>(op);
  if (!call || !call.getCallee().starts_with("cprt_c_"))
    return false;
  auto parsed = parseHostSymbol(call.getCallee());
  if (!parsed) // not an entry of the table: the host's business
    return target.prefix != "cprt_c_";
  return target.symbol(parsed->first, parsed->second) != call.getCallee();
}

LogicalResult
mlir::cp::applyCPToRuntimeLowering(Operation *root,
                                   const FrozenRewritePatternSet &patterns,
                                   const RuntimeTarget &target) {
  MLIRContext *ctx = root->getContext();
  // What needs lowering is of unknown legality: a pattern that refuses an
  // op reports it there and the conversion goes on with the next op.
  ConversionTarget legality(*ctx);
  legality.markUnknownOpDynamicallyLegal(
      [&](Operation *op) -> std::optional<bool> {
        if (needsRuntimeLowering(op, target))
          return std::nullopt;
        return true;
      });
  ConversionConfig config;
  config.foldingMode = DialectConversionFoldingMode::Never;
  bool reported = false;
  {
    ScopedDiagnosticHandler noteErrors(ctx, [&](Diagnostic &d) {
      reported |= d.getSeverity() == DiagnosticSeverity::Error;
      return failure(); // and pass it on
    });
    if (failed(applyPartialConversion(root, legality, patterns, config)))
      return failure();
  }
  bool left = false;
  const auto &byOp = patterns.getOpSpecificNativePatterns();
  root->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == root || !needsRuntimeLowering(op, target))
      return WalkResult::advance();
    // Ops without a pattern; the refused ones have said why.
    if (!byOp.count(op->getName()) || !reported)
      op->emitOpError(target.missingEntryMessage);
    left = true;
    return WalkResult::skip();
  });
  if (left)
    return failure();
  // The grids are not needed at run time.
  SmallVector<shard::GridOp> grids;
  root->walk([&](shard::GridOp grid) { grids.push_back(grid); });
  for (shard::GridOp grid : grids)
    grid.erase();
  return success();
}

namespace {
struct LowerToRuntimePass
    : cp::impl::CPLowerToRuntimeBase<LowerToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    RuntimeTarget target = RuntimeTarget::host();
    RewritePatternSet patterns(&getContext());
    populateCPToRuntimePatterns(patterns, target);
    FrozenRewritePatternSet frozen(std::move(patterns));
    if (failed(applyCPToRuntimeLowering(getOperation(), frozen, target)))
      signalPassFailure();
  }
};
} // namespace
