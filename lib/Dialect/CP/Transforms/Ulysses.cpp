//===- Ulysses.cpp - attention distributed by heads (Ulysses) -------------===//
//
// strategy=ulysses of cp-context-parallel. The function boundary keeps the
// sequence sharding of the ring strategy (cp.sharding, balancer, padding);
// each attention op is rewritten on its local shards to
//
//   q, k, v (, dout, out, lse)  --cp.seq_to_heads-->  H/W heads x S (original order)
//   cp.sdpa / cp.sdpa_backward / cp.flex_attention on those (unchanged semantics)
//   out, lse, dq, dk, dv        --cp.heads_to_seq-->  H heads x L (balancer order)
//
// seq_to_heads drops padding and undoes the balancer's permutation, so
// is_causal, masks, document ids (gathered whole) and mask_mod positions
// keep their meaning and padded keys never exist in the local attention. A
// mask keeps every query row in original order (an all-gather of its rows if
// they were sharded) and, when it has per-head values, this rank's heads. GQA: key/value heads are split when
// Hkv % W == 0, else replicated W/Hkv times when W % Hkv == 0 (rank r then
// holds the one key/value head its query heads read), never expanded to the
// query heads; the backward sums the replicas' gradients.
//
//===----------------------------------------------------------------------===//

#include "Ulysses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

struct AttentionParts {
  Value query, key, value, mask, segmentIds;
};

AttentionParts partsOf(Operation *op) {
  if (auto s = dyn_cast<SDPAOp>(op))
    return {s.getQuery(), s.getKey(), s.getValue(), s.getMask(),
            s.getSegmentIds()};
  if (auto b = dyn_cast<SDPABackwardOp>(op))
    return {b.getQuery(), b.getKey(), b.getValue(), b.getMask(),
            b.getSegmentIds()};
  auto f = cast<FlexAttentionOp>(op);
  return {f.getQuery(), f.getKey(), f.getValue(), Value(), Value()};
}

/// `t` with `heads` in dim `headDim` and the whole sequence in `seqDim`.
RankedTensorType withHeadsAndSeq(Type t, int64_t headDim, int64_t heads,
                                 int64_t seqDim, int64_t seq) {
  auto r = cast<RankedTensorType>(t);
  SmallVector<int64_t> shape(r.getShape());
  shape[headDim] = heads;
  shape[seqDim] = seq;
  return RankedTensorType::get(shape, r.getElementType());
}

} // namespace

LogicalResult mlir::cp::checkUlysses(Operation *op, int64_t world) {
  AttentionParts p = partsOf(op);
  auto q = rtt(p.query), k = rtt(p.key);
  int64_t n = q.getRank();
  if (n < 3)
    return op->emitOpError("strategy=ulysses distributes attention by heads, "
                           "but this attention has no heads dim (rank ")
           << n << ")";
  int64_t hq = q.getShape()[n - 3], hkv = k.getShape()[n - 3];
  if (hq % world != 0)
    return op->emitOpError("strategy=ulysses splits the query heads over the "
                           "ranks: ")
           << hq << " query heads do not divide over " << world
           << " ranks (use a rank count that divides " << hq
           << ", or strategy=ring)";
  if (hkv % world != 0 && world % hkv != 0)
    return op->emitOpError("strategy=ulysses: ")
           << hkv << " key/value heads neither divide over " << world
           << " ranks nor divide " << world
           << " (GQA replication); use strategy=ring";
  return success();
}

namespace {

/// Reassociation of [.., H, R, L, D] (rank n + 1) into [.., H * R, L, D]:
/// the replica dim hd + 1 joins the heads dim hd.
SmallVector<ReassociationIndices> replicaGroups(int64_t n, int64_t hd) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i <= n; ++i)
    if (i == hd + 1)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  return groups;
}

/// Rewrites one attention op to Ulysses form: the all-to-alls around a
/// local clone of it (see the file comment).
class UlyssesRewriter {
public:
  UlyssesRewriter(Operation *op, const UlyssesOptions &o)
      : op(op), o(o), b(op), loc(op->getLoc()), p(partsOf(op)) {
    n = rtt(p.query).getRank();
    hd = n - 3;
    sd = n - 2;
    W = o.world;
    S = o.seqLen;
    hq = rtt(p.query).getShape()[hd];
    hkv = rtt(p.key).getShape()[hd];
    replicas = hkv % W == 0 ? 1 : W / hkv;
    balancerAttr = LoadBalancerAttr::get(op->getContext(), o.balancer);
    padAttr = o.pad ? b.getUnitAttr() : UnitAttr();
  }

  /// Replaces the op by its Ulysses form and erases it.
  void run() {
    Operation *local = cloneOnHeads();
    mapResultsBack(local);
    if (auto flex = dyn_cast<FlexAttentionOp>(local)) {
      mapModifierHead(flex.getMaskMod(), 1);
      mapModifierHead(flex.getScoreMod(), 2);
    }
    op->erase();
  }

private:
  /// seq_to_heads of `x`: H/W heads of the whole sequence.
  Value toHeads(Value x) {
    auto t = rtt(x);
    auto type = withHeadsAndSeq(t, hd, t.getShape()[hd] / W, sd, S);
    return SeqToHeadsOp::create(b, loc, type, x, o.grid,
                                b.getDenseI16ArrayAttr({}),
                                b.getI64IntegerAttr(hd), b.getI64IntegerAttr(sd),
                                balancerAttr, b.getI64IntegerAttr(S), padAttr)
        .getResult();
  }

  /// heads_to_seq of `x` back to the local sequence shard `localType`.
  Value toSeq(Value x, Type localType) {
    return HeadsToSeqOp::create(b, loc, localType, x, o.grid,
                                b.getDenseI16ArrayAttr({}),
                                b.getI64IntegerAttr(hd), b.getI64IntegerAttr(sd),
                                balancerAttr, b.getI64IntegerAttr(S), padAttr)
        .getResult();
  }

  /// [.., Hkv, L, D] -> [.., Hkv * R, L, D], head h*R + j = replica j of h.
  Value replicate(Value x) {
    if (replicas == 1)
      return x;
    auto t = rtt(x);
    SmallVector<int64_t> shape(t.getShape());
    shape.insert(shape.begin() + hd + 1, replicas);
    Value init = tensor::EmptyOp::create(b, loc, shape, t.getElementType());
    Value wide = linalg::BroadcastOp::create(b, loc, x, init,
                                             ArrayRef<int64_t>{hd + 1})
                     ->getResult(0);
    return tensor::CollapseShapeOp::create(b, loc, wide, replicaGroups(n, hd))
        .getResult();
  }

  /// [.., Hkv * R, L, D] -> sum over the replicas -> [.., Hkv, L, D].
  Value sumReplicas(Value x) {
    if (replicas == 1)
      return x;
    auto t = rtt(x);
    SmallVector<int64_t> shape(t.getShape());
    shape[hd] = hkv;
    shape.insert(shape.begin() + hd + 1, replicas);
    auto wideType = RankedTensorType::get(shape, t.getElementType());
    Value wide = tensor::ExpandShapeOp::create(b, loc, wideType, x,
                                               replicaGroups(n, hd))
                     .getResult();
    SmallVector<int64_t> outShape(t.getShape());
    outShape[hd] = hkv;
    Value zero = arith::ConstantOp::create(
        b, loc, cast<TypedAttr>(b.getZeroAttr(t.getElementType())));
    Value init = linalg::FillOp::create(
                     b, loc, zero,
                     tensor::EmptyOp::create(b, loc, outShape,
                                             t.getElementType())
                         .getResult())
                     .getResult(0);
    return linalg::ReduceOp::create(
               b, loc, ValueRange{wide}, ValueRange{init},
               ArrayRef<int64_t>{hd + 1},
               [](OpBuilder &nb, Location l, ValueRange args) {
                 Value s = arith::AddFOp::create(nb, l, args[0], args[1]);
                 linalg::YieldOp::create(nb, l, s);
               })
        ->getResult(0);
  }

  /// A mask with rows for every query: whole, in original order (masks do
  /// not depend on the head split), then this rank's heads if it has a
  /// head dim.
  Value wholeMask(Value m) {
    if (!m)
      return m;
    if (o.isSharded(m))
      m = gatherMaskRows(m);
    auto t = rtt(m);
    int64_t mh = t.getRank() - 3;
    if (mh < 0 || t.getShape()[mh] == 1)
      return m;
    // Per-head values: heads [rank * Hq/W, (rank + 1) * Hq/W).
    SmallVector<OpFoldResult> offsets(t.getRank(), b.getIndexAttr(0)),
        sizes, strides(t.getRank(), b.getIndexAttr(1));
    for (int64_t d : t.getShape())
      sizes.push_back(b.getIndexAttr(d));
    sizes[mh] = b.getIndexAttr(hq / W);
    Value per = arith::ConstantIndexOp::create(b, loc, hq / W);
    offsets[mh] = arith::MulIOp::create(b, loc, o.getRank(), per).getResult();
    SmallVector<int64_t> shape(t.getShape());
    shape[mh] = hq / W;
    return tensor::ExtractSliceOp::create(
               b, loc, RankedTensorType::get(shape, t.getElementType()), m,
               offsets, sizes, strides)
        .getResult();
  }

  /// Document ids of the whole sequence in original order (the local
  /// attention sees every token): sharded ids are gathered back.
  Value wholeIds(Value ids) {
    if (!o.isSharded(ids))
      return ids;
    if (auto shard = ids.getDefiningOp<ShardOp>())
      return shard.getInput();
    auto t = rtt(ids);
    SmallVector<int64_t> shape(t.getShape());
    int64_t seq = t.getRank() - 1;
    shape[seq] = S;
    return UnshardOp::create(
               b, loc, RankedTensorType::get(shape, t.getElementType()), ids,
               Value(), o.grid, b.getDenseI16ArrayAttr({}),
               b.getI64IntegerAttr(seq), balancerAttr, IntegerAttr(), padAttr)
        .getResult();
  }

  /// The sharded mask `m` with all its query rows, in original order.
  Value gatherMaskRows(Value m) {
    if (auto shard = m.getDefiningOp<ShardOp>())
      return shard.getInput(); // a constant sharded for this op only
    auto t = rtt(m);
    SmallVector<int64_t> shape(t.getShape());
    int64_t rows = t.getRank() - 2;
    shape[rows] = S;
    return UnshardOp::create(
               b, loc, RankedTensorType::get(shape, t.getElementType()), m,
               Value(), o.grid, b.getDenseI16ArrayAttr({}),
               b.getI64IntegerAttr(rows), balancerAttr, IntegerAttr(), padAttr)
        .getResult();
  }

  /// The local attention: a clone of `op` (attributes and regions) on head
  /// shards of the whole sequence, with its result types set.
  Operation *cloneOnHeads() {
    SmallVector<Value> qLike, kvLike;
    if (auto bw = dyn_cast<SDPABackwardOp>(op))
      qLike = {bw.getGradOutput(), bw.getQuery(), bw.getOutput(),
               bw.getLse()};
    else
      qLike = {p.query};
    kvLike = {p.key, p.value};
    DenseMap<Value, Value> mapped;
    for (Value x : qLike)
      if (!mapped.count(x))
        mapped[x] = toHeads(x);
    for (Value x : kvLike)
      if (!mapped.count(x))
        mapped[x] = toHeads(replicate(x));
    if (p.mask)
      mapped[p.mask] = wholeMask(p.mask);
    if (p.segmentIds && !mapped.count(p.segmentIds))
      mapped[p.segmentIds] = wholeIds(p.segmentIds);
    Operation *local = b.clone(*op);
    for (OpOperand &use : local->getOpOperands())
      if (Value m = mapped.lookup(use.get()))
        use.set(m);
    int64_t kvLocalHeads = hkv * replicas / W;
    for (OpResult r : local->getResults()) {
      Type t = r.getType();
      int64_t heads = hq / W;
      if (isa<SDPABackwardOp>(op) && r.getResultNumber() != 0)
        heads = kvLocalHeads; // grad_key / grad_value
      r.setType(withHeadsAndSeq(t, hd, heads, sd, S));
    }
    return local;
  }

  /// Replaces the op's results by `local`'s brought back to sequence
  /// shards (replicated key/value gradients summed).
  void mapResultsBack(Operation *local) {
    b.setInsertionPointAfter(local);
    for (auto [old, now] : llvm::zip(op->getResults(), local->getResults())) {
      Value back;
      if (isa<SDPABackwardOp>(op) && now.getResultNumber() != 0 &&
          replicas != 1) {
        auto t = rtt(old);
        SmallVector<int64_t> shape(t.getShape());
        shape[hd] = hkv * replicas;
        back = sumReplicas(
            toSeq(now, RankedTensorType::get(shape, t.getElementType())));
      } else {
        back = toSeq(now, old.getType());
      }
      old.replaceAllUsesWith(back);
    }
  }

  /// Flex modifiers see the global query head: h + rank * Hq/W.
  void mapModifierHead(Region &region, unsigned hArg) {
    if (region.empty())
      return;
    BlockArgument h = region.front().getArgument(hArg);
    if (h.use_empty())
      return;
    OpBuilder rb = OpBuilder::atBlockBegin(&region.front());
    Value per = arith::ConstantIndexOp::create(rb, loc, hq / W);
    Value off = arith::MulIOp::create(rb, loc, o.getRank(), per);
    Value global = arith::AddIOp::create(rb, loc, h, off);
    h.replaceAllUsesExcept(global, global.getDefiningOp());
  }

  Operation *op;
  const UlyssesOptions &o;
  OpBuilder b;
  Location loc;
  AttentionParts p;
  /// Rank; heads and sequence dims (q/k/v/out/grads; also the LSE's).
  int64_t n, hd, sd;
  /// Ranks, global sequence length, query and key/value heads, replicas.
  int64_t W, S, hq, hkv, replicas;
  LoadBalancerAttr balancerAttr;
  UnitAttr padAttr;
};

} // namespace

LogicalResult mlir::cp::rewriteUlysses(Operation *op,
                                       const UlyssesOptions &o) {
  UlyssesRewriter(op, o).run();
  return success();
}
