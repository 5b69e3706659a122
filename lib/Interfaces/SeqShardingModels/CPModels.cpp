//===- CPModels.cpp - sequence sharding of cp's attention ops
//--------------===//
//
// cp.sdpa, cp.sdpa_backward and cp.flex_attention carry the sequence in
// dim rank-2 of their q/k/v/output/gradient tensors and rank-1 of the LSE;
// masks are sharded along their query rows (a key-only mask is read whole),
// document ids (segment_ids, [S] or [1, S]) along their last dim.
// Their local form is ring attention (cp.ring_attention[_backward]); flex
// attention attends to all-gathered keys/values with its modifiers seeing
// original positions. (strategy=ulysses attention is rewritten by the pass
// itself, Ulysses.cpp.) The ops the pass creates (ring attention, Ulysses'
// all-to-alls, cp.seq_scan, cp.shard/unshard) say that they are local
// already.
//
//===----------------------------------------------------------------------===//

#include "Models.h"

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-context-parallel"

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// The sequence-carrying tensors of an attention op: [..., S, D] tensors
/// (sequence in dim rank-2), LSEs [..., S] (rank-1), the mask (its query
/// dim rank-2; its key dim stays whole) and the document ids ([S] or
/// [1, S]: the sequence in their last dim).
struct AttentionTensors {
  SmallVector<Value> tensors, lses;
  OpOperand *mask = nullptr;
  Value segmentIds;
};

AttentionTensors attentionTensors(Operation *op) {
  AttentionTensors a;
  if (auto sdpa = dyn_cast<SDPAOp>(op)) {
    a.tensors = {sdpa.getQuery(), sdpa.getKey(), sdpa.getValue(),
                 sdpa.getOutput()};
    if (sdpa.getLse())
      a.lses.push_back(sdpa.getLse());
    if (sdpa.getMask())
      a.mask = &sdpa.getMaskMutable()[0];
    a.segmentIds = sdpa.getSegmentIds();
  } else if (auto bw = dyn_cast<SDPABackwardOp>(op)) {
    a.tensors = {bw.getGradOutput(), bw.getQuery(),     bw.getKey(),
                 bw.getValue(),      bw.getOutput(),    bw.getGradQuery(),
                 bw.getGradKey(),    bw.getGradValue()};
    a.lses.push_back(bw.getLse());
    if (bw.getMask())
      a.mask = &bw.getMaskMutable()[0];
    a.segmentIds = bw.getSegmentIds();
  } else if (auto flex = dyn_cast<FlexAttentionOp>(op)) {
    a.tensors = {flex.getQuery(), flex.getKey(), flex.getValue(),
                 flex.getOutput()};
    if (flex.getLse())
      a.lses.push_back(flex.getLse());
  }
  return a;
}

LogicalResult relateAttention(Operation *op, Value v, int64_t d,
                              SeqRelateContext &ctx) {
  auto seqDimOf = [](Value x) { return rankedTensor(x).getRank() - 2; };
  AttentionTensors a = attentionTensors(op);
  Value mask = a.mask ? a.mask->get() : Value();
  if (ctx.getInnerFactor() != 1)
    return op->emitOpError("the sequence reaches this attention op merged "
                           "with other dims; cannot shard it");
  bool known = llvm::is_contained(a.tensors, v) && d == seqDimOf(v);
  known |= llvm::is_contained(a.lses, v) && d == rankedTensor(v).getRank() - 1;
  known |= v == mask && d == seqDimOf(v);
  Value seg = a.segmentIds;
  if (seg) {
    auto st = rankedTensor(seg);
    // The ring takes one document layout for the whole batch.
    if (st.getRank() == 2 && st.getShape()[0] != 1)
      return op->emitOpError("has segment_ids with a batch of ")
             << st.getShape()[0]
             << " document layouts; context parallelism takes one layout "
                "for the whole batch ([seq] or [1, seq] segment ids)";
    known |= v == seg && d == st.getRank() - 1;
  }
  // A mask along the keys only (its query dim broadcast): every rank needs
  // all of it, gathered in original order.
  if (v == mask && d == rankedTensor(v).getRank() - 1) {
    if (rankedTensor(v).getShape()[seqDimOf(v)] != 1)
      return op->emitOpError("the mask carries the sequence in its key dim "
                             "but not in its query dim; cannot shard it");
    ctx.addWholeRead(*a.mask);
    known = true;
  }
  if (!known)
    return op->emitOpError("the sequence reaches this attention op through a "
                           "dim that is not its sequence dim (dim ")
           << d << "); cannot shard it";
  for (Value t : a.tensors)
    if (failed(ctx.add(t, seqDimOf(t), op)))
      return failure();
  for (Value l : a.lses)
    if (failed(ctx.add(l, rankedTensor(l).getRank() - 1, op)))
      return failure();
  if (mask && rankedTensor(mask).getShape()[seqDimOf(mask)] != 1)
    if (failed(ctx.add(mask, seqDimOf(mask), op)))
      return failure();
  if (seg && failed(ctx.add(seg, rankedTensor(seg).getRank() - 1, op)))
    return failure();
  return success();
}

/// The local document ids of `seg` for the ring: 1-D ([1, L] collapsed).
Value ringSegmentIds(RewriterBase &rewriter, Location loc, Value seg) {
  auto t = rankedTensor(seg);
  if (!seg || t.getRank() == 1)
    return seg;
  return tensor::CollapseShapeOp::create(
             rewriter, loc,
             RankedTensorType::get({t.getShape()[1]}, t.getElementType()), seg,
             ArrayRef<ReassociationIndices>{{0, 1}})
      .getResult();
}

/// The ring's local document ids for `op`'s `seg` (null without), made
/// before the ring; an error for the hybrid, which takes none yet.
FailureOr<Value> localSegmentIds(Operation *op, Value seg,
                                 RewriterBase &rewriter,
                                 SeqRewriteContext &ctx) {
  if (!seg)
    return Value();
  if (ctx.getUlyssesSize(op))
    return op->emitOpError("strategy=hybrid does not take segment_ids "
                           "(document ids) yet; use strategy=ring");
  return ringSegmentIds(rewriter, op->getLoc(), seg);
}

/// Gives `ring` (created by the RingConfig builder, which takes no segment
/// ids) the local document ids `seg` when set.
template <typename RingOp>
void addSegmentIds(RingOp ring, Value seg, RewriterBase &rewriter) {
  if (seg)
    rewriter.modifyOpInPlace(ring,
                             [&] { ring.getSegmentIdsMutable().assign(seg); });
}

/// The ring attributes the pass gives the ring op replacing `op`.
RingConfig ringConfig(Operation *op, SeqRewriteContext &ctx, bool causal,
                      std::optional<APFloat> scale, bool gqa) {
  RingConfig c;
  c.grid = ctx.getGrid();
  c.rotate = cast<RotateMethodAttr>(ctx.getRotate());
  c.balancer = cast<LoadBalancerAttr>(ctx.getBalancer());
  c.seqLen = ctx.getSeqLen();
  c.pad = ctx.isPadded();
  c.isCausal = causal;
  if (scale)
    c.scale = scale->convertToDouble();
  c.enableGqa = gqa;
  c.ulyssesSize = ctx.getUlyssesSize(op);
  return c;
}

/// Replaces `op` by `ring`.
void replaceByRing(Operation *op, RewriterBase &rewriter, Operation *ring) {
  rewriter.replaceOp(op, ring->getResults());
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << op->getName()
                          << " -> " << ring->getName() << "\n");
}

struct SDPASeqSharding
    : SeqShardingOpInterface::ExternalModel<SDPASeqSharding, SDPAOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateAttention(op, v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto sdpa = cast<SDPAOp>(op);
    rewriter.setInsertionPoint(op);
    FailureOr<Value> seg =
        localSegmentIds(op, sdpa.getSegmentIds(), rewriter, ctx);
    if (failed(seg))
      return failure();
    auto ring = RingAttentionOp::create(
        rewriter, op->getLoc(), op->getResultTypes(), sdpa.getQuery(),
        sdpa.getKey(), sdpa.getValue(), sdpa.getMask(),
        ringConfig(op, ctx, sdpa.getIsCausal(), sdpa.getScale(),
                   sdpa.getEnableGqa()));
    addSegmentIds(ring, *seg, rewriter);
    replaceByRing(op, rewriter, ring);
    return success();
  }
};

struct SDPABackwardSeqSharding
    : SeqShardingOpInterface::ExternalModel<SDPABackwardSeqSharding,
                                            SDPABackwardOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateAttention(op, v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    auto bw = cast<SDPABackwardOp>(op);
    rewriter.setInsertionPoint(op);
    FailureOr<Value> seg =
        localSegmentIds(op, bw.getSegmentIds(), rewriter, ctx);
    if (failed(seg))
      return failure();
    auto ring = RingAttentionBackwardOp::create(
        rewriter, op->getLoc(), op->getResultTypes(), bw.getGradOutput(),
        bw.getQuery(), bw.getKey(), bw.getValue(), bw.getOutput(), bw.getLse(),
        bw.getMask(),
        ringConfig(op, ctx, bw.getIsCausal(), bw.getScale(),
                   bw.getEnableGqa()));
    addSegmentIds(ring, *seg, rewriter);
    replaceByRing(op, rewriter, ring);
    return success();
  }
};

/// Maps the local query index `qArg` and the gathered key index `kvArg` of
/// a flex modifier region to original positions (cp.global_position);
/// returns `kv position < S` when `addPadMask` (padded positions masked).
Value mapPositions(Region &region, unsigned qArg, unsigned kvArg,
                   bool addPadMask, Value rank, SeqRewriteContext &ctx) {
  Block &body = region.front();
  Location loc = region.getParentOp()->getLoc();
  OpBuilder rb = OpBuilder::atBlockBegin(&body);
  Value cL = arith::ConstantIndexOp::create(rb, loc, ctx.getLocalLen());
  auto pos = [&](Value local, Value owner) {
    return GlobalPositionOp::create(
               rb, loc, rb.getIndexType(), local, owner, ctx.getDocuments(),
               ctx.getGrid(),
               rb.getDenseI16ArrayAttr({}),
               cast<LoadBalancerAttr>(ctx.getBalancer()),
               rb.getI64IntegerAttr(ctx.getSeqLen()), IntegerAttr(),
               ctx.isPadded() ? rb.getUnitAttr() : UnitAttr())
        .getResult();
  };
  BlockArgument qIdx = body.getArgument(qArg);
  BlockArgument kvIdx = body.getArgument(kvArg);
  Value qPos = pos(qIdx, rank);
  Value src = arith::DivUIOp::create(rb, loc, kvIdx, cL);
  Value local = arith::RemUIOp::create(rb, loc, kvIdx, cL);
  Value kvPos = pos(local, src);
  qIdx.replaceAllUsesExcept(qPos, qPos.getDefiningOp());
  kvIdx.replaceUsesWithIf(kvPos, [&](OpOperand &use) {
    return use.getOwner() != src.getDefiningOp() &&
           use.getOwner() != local.getDefiningOp();
  });
  if (!addPadMask)
    return Value();
  Value cS = arith::ConstantIndexOp::create(rb, loc, ctx.getSeqLen());
  return arith::CmpIOp::create(rb, loc, arith::CmpIPredicate::ult, kvPos, cS);
}

/// Flex attention: local queries attend to all-gathered keys/values (in
/// rank order, i.e. the balancer's order); the modifiers see original
/// positions through cp.global_position, and padded keys are masked.
LogicalResult rewriteFlex(FlexAttentionOp flex, RewriterBase &rewriter,
                          SeqRewriteContext &ctx) {
  LoadBalancer balancer = cast<LoadBalancerAttr>(ctx.getBalancer()).getValue();
  if (balancer == LoadBalancer::per_document_head_tail ||
      balancer == LoadBalancer::ptrr)
    return flex.emitOpError("flex attention supports none, head_tail and "
                            "striped balancing");
  Location loc = flex.getLoc();
  rewriter.setInsertionPoint(flex);
  auto gather = [&](Value x) {
    auto t = rankedTensor(x);
    SmallVector<int64_t> shape(t.getShape());
    shape[t.getRank() - 2] *= ctx.getWorldSize();
    return shard::AllGatherOp::create(
               rewriter, loc, RankedTensorType::get(shape, t.getElementType()),
               ctx.getGrid(), rewriter.getDenseI16ArrayAttr({0}), x,
               rewriter.getIndexAttr(t.getRank() - 2))
        .getResult();
  };
  Value kAll = gather(flex.getKey()), vAll = gather(flex.getValue());
  Value rank = ctx.getRank();
  rewriter.modifyOpInPlace(flex, [&] {
    flex->setOperand(1, kAll);
    flex->setOperand(2, vAll);
    bool padded = ctx.hasPadding();
    if (flex.getMaskMod().empty() && padded) {
      Block *block = new Block();
      flex.getMaskMod().push_back(block);
      for (int i = 0; i < 4; ++i)
        block->addArgument(rewriter.getIndexType(), loc);
      OpBuilder rb = OpBuilder::atBlockEnd(block);
      Value t = arith::ConstantIntOp::create(rb, loc, 1, 1);
      YieldOp::create(rb, loc, ValueRange{t});
    }
    if (!flex.getMaskMod().empty()) {
      Value valid = mapPositions(flex.getMaskMod(), 2, 3, padded, rank, ctx);
      if (valid) {
        auto yield = cast<YieldOp>(flex.getMaskMod().front().getTerminator());
        OpBuilder rb(yield);
        Value keep =
            arith::AndIOp::create(rb, loc, yield.getValues()[0], valid);
        yield->setOperand(0, keep);
      }
    }
    if (!flex.getScoreMod().empty())
      mapPositions(flex.getScoreMod(), 3, 4, false, rank, ctx);
  });
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] cp.flex_attention: keys "
                             "and values all-gathered, modifiers mapped to "
                             "original positions\n");
  return success();
}

struct FlexSeqSharding
    : SeqShardingOpInterface::ExternalModel<FlexSeqSharding, FlexAttentionOp> {
  LogicalResult relateSeqDim(Operation *op, Value v, int64_t d,
                             SeqRelateContext &ctx) const {
    return relateAttention(op, v, d, ctx);
  }
  LogicalResult rewriteToLocal(Operation *op, RewriterBase &rewriter,
                               SeqRewriteContext &ctx) const {
    return rewriteFlex(cast<FlexAttentionOp>(op), rewriter, ctx);
  }
};

/// The ops cp-context-parallel creates (ring attention, the Ulysses
/// all-to-alls, scans, shards) already work on local shards: reaching one
/// means the function is (partly) context-parallel already.
template <typename OpTy>
struct AlreadyLocalSeqSharding
    : SeqShardingOpInterface::ExternalModel<AlreadyLocalSeqSharding<OpTy>,
                                            OpTy> {
  LogicalResult relateSeqDim(Operation *op, Value, int64_t,
                             SeqRelateContext &) const {
    return op->emitOpError("already works on local shards of the sequence; "
                           "a function is made context-parallel once");
  }
};

template <typename... OpTys>
void registerAlreadyLocal(MLIRContext *ctx) {
  (OpTys::template attachInterface<AlreadyLocalSeqSharding<OpTys>>(*ctx),
   ...);
}

} // namespace

void mlir::cp::detail::registerCPModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, CPDialect *) {
    SDPAOp::attachInterface<SDPASeqSharding>(*ctx);
    SDPABackwardOp::attachInterface<SDPABackwardSeqSharding>(*ctx);
    FlexAttentionOp::attachInterface<FlexSeqSharding>(*ctx);
    registerAlreadyLocal<RingAttentionOp, RingAttentionBackwardOp,
                         SeqToHeadsOp, HeadsToSeqOp, SeqScanOp, ShardOp,
                         UnshardOp>(ctx);
  });
}
