//===- ExpandRing.cpp - make the ring schedule explicit in IR -------------===//
//
// cp.ring_attention (rotate = ring | alltoall) becomes, for W ranks:
//
//   step 0:      start shift of (k, v); block attention on the local block
//                (causal on the diagonal); wait for the shift.
//   step i > 0:  start the next shift (if any); block attention against the
//                received block with the step's causal behaviour; merge the
//                partial result; wait.
//
// Steps 1 .. W-2 are one scf.for whose iteration arguments are the current
// key/value block (and its document ids) and the running fp32 (out, lse);
// each iteration's shift token is started and waited on inside it. The last
// step (no shift to post) is peeled after the loop, so the IR has the same
// size for every W >= 2 (for W = 2 the loop runs no iteration; W = 1 is
// step 0 alone).
//
// The behaviour of step i depends on this rank r only through `i <= r`
// (the source of the block is (r - i) mod W):
//
//   balancer   | i <= r        | i > r
//   none       | not_causal    | skip
//   head_tail  | kv_head_half  | q_tail_half
//   striped    | causal        | causal_strict
//
// so each causal step is an scf.if on that comparison, computed from the
// step index. The table (and step 0: causal) is mlir::cp::ringStepRule
// (RingSchedule.h), which a unit test checks against the runtime's
// cprt::stepCausalFor. allgather rotation and rings with an explicit mask
// are left for the runtime.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Dialect/CP/Transforms/RingSchedule.h"
#include "cp/Utils/ElementCast.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::cp {
#define GEN_PASS_DEF_CPEXPANDRING
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

//===----------------------------------------------------------------------===//
// The step table
//===----------------------------------------------------------------------===//

CausalBehavior RingStepRule::at(int64_t rank, int64_t step) const {
  if (step == 0)
    return diagonal;
  bool upTo =
      arith::applyCmpPredicate(kUpToRank, APInt(64, step), APInt(64, rank));
  return upTo ? upToRank : pastRank;
}

std::optional<RingStepRule> mlir::cp::ringStepRule(LoadBalancer balancer,
                                                   bool causal) {
  using CB = CausalBehavior;
  if (balancer == LoadBalancer::per_document_head_tail ||
      balancer == LoadBalancer::ptrr)
    return std::nullopt;
  if (!causal)
    return RingStepRule{CB::not_causal, CB::not_causal, CB::not_causal};
  switch (balancer) {
  case LoadBalancer::none: // earlier ranks' blocks are wholly in the past
    return RingStepRule{CB::causal, CB::not_causal, CB::skip};
  case LoadBalancer::head_tail: // chunks r and 2W-1-r of 2W
    return RingStepRule{CB::causal, CB::kv_head_half, CB::q_tail_half};
  case LoadBalancer::striped: // token t on rank t mod W
    return RingStepRule{CB::causal, CB::causal, CB::causal_strict};
  default:
    llvm_unreachable("data-dependent balancers returned above");
  }
}

std::optional<CausalBehavior>
mlir::cp::ringStepBehavior(LoadBalancer balancer, bool causal, int64_t world,
                           int64_t rank, int64_t step) {
  std::optional<RingStepRule> rule = ringStepRule(balancer, causal);
  if (!rule || rank < 0 || rank >= world || step < 0 || step >= world)
    return std::nullopt;
  return rule->at(rank, step);
}

//===----------------------------------------------------------------------===//
// The expansion
//===----------------------------------------------------------------------===//

namespace {

/// What travels around the ring: the key/value block and, with document
/// ids, the block's ids (null otherwise).
struct KVBlock {
  Value k, v, seg;

  SmallVector<Value> values() const {
    SmallVector<Value> r = {k, v};
    if (seg)
      r.push_back(seg);
    return r;
  }
  static KVBlock from(ValueRange r, bool withSeg) {
    return {r[0], r[1], withSeg ? r[2] : Value()};
  }
};

/// The running partial result (fp32 output and LSE).
struct Partial {
  Value out, lse;
};

/// Builds the schedule of one cp.ring_attention in front of it.
class RingExpander {
public:
  RingExpander(RingAttentionOp op, int64_t world, RingStepRule rule);
  /// Builds the schedule and replaces the op by it.
  void run();

private:
  Value positionsOf(OpBuilder &b, Value owner);
  Partial block(OpBuilder &b, const KVBlock &kv, Value kvPos,
                CausalBehavior behavior);
  Partial accumulate(OpBuilder &b, const KVBlock &kv, Value kvPos,
                     CausalBehavior behavior, Partial acc);
  Partial step(OpBuilder &b, Value i, const KVBlock &kv, Partial acc);
  Value shiftStart(OpBuilder &b, const KVBlock &kv);
  KVBlock shiftWait(OpBuilder &b, Value token, const KVBlock &kv);
  Value index(OpBuilder &b, int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  }

  RingAttentionOp op;
  int64_t world;
  /// The causal behaviour of each step (ringStepRule).
  RingStepRule rule;
  Location loc;
  int64_t localLen;
  bool padded, usePositions;
  RankedTensorType outType, lseType;
  DenseI16ArrayAttr gridAxes;
  // This rank's linear index, W as an index, this rank's query positions
  // (the last two only with positions).
  Value rank, worldIndex, qPos;
};

RingExpander::RingExpander(RingAttentionOp op, int64_t world, RingStepRule rule)
    : op(op), world(world), rule(rule), loc(op.getLoc()) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  localLen = qType.getShape()[qType.getRank() - 2];
  padded = localLen * world != op.getSeqLen();
  usePositions = op.getWindow().has_value() || padded;
  Type f32 = Float32Type::get(op.getContext());
  outType = RankedTensorType::get(
      cast<RankedTensorType>(op.getOutput().getType()).getShape(), f32);
  lseType = RankedTensorType::get(outType.getShape().drop_back(), f32);
  gridAxes = DenseI16ArrayAttr::get(op.getContext(), op.getGridAxes());
}

/// Original positions of the block owned by `owner` (padding -> -1).
Value RingExpander::positionsOf(OpBuilder &b, Value owner) {
  auto t = RankedTensorType::get({localLen}, b.getI64Type());
  auto gen = tensor::GenerateOp::create(b, loc, t, ValueRange{});
  Block *body = b.createBlock(&gen.getBody(), {}, {b.getIndexType()}, {loc});
  OpBuilder gb = OpBuilder::atBlockEnd(body);
  Value pos = GlobalPositionOp::create(
      gb, loc, gb.getIndexType(), body->getArgument(0), owner, /*documents=*/Value(),
      op.getGridAttr(), gridAxes, op.getBalancerAttr(), op.getSeqLenAttr(),
      op.getBlockSizeAttr(), op.getPadAttr());
  Value p = arith::IndexCastOp::create(gb, loc, gb.getI64Type(), pos);
  if (padded) {
    Value cS =
        arith::ConstantIntOp::create(gb, loc, gb.getI64Type(), op.getSeqLen());
    Value neg = arith::ConstantIntOp::create(gb, loc, gb.getI64Type(), -1);
    Value valid =
        arith::CmpIOp::create(gb, loc, arith::CmpIPredicate::slt, p, cS);
    p = arith::SelectOp::create(gb, loc, valid, p, neg);
  }
  tensor::YieldOp::create(gb, loc, p);
  b.setInsertionPointAfter(gen);
  return gen.getResult();
}

/// One block attention of the local queries against `kv`, in fp32.
Partial RingExpander::block(OpBuilder &b, const KVBlock &kv, Value kvPos,
                            CausalBehavior behavior) {
  auto blk = BlockAttentionOp::create(
      b, loc, outType, lseType, op.getQuery(), kv.k, kv.v, /*mask=*/Value(),
      kvPos ? qPos : Value(), kvPos,
      kv.seg ? op.getSegmentIds() : Value(), kv.seg,
      CausalBehaviorAttr::get(op.getContext(), behavior), op.getWindowAttr(),
      op.getScaleAttr(), op.getEnableGqaAttr());
  return {blk.getOutput(), blk.getLse()};
}

/// `acc` merged with the block attention of `kv` with `behavior` (`acc`
/// itself when the behaviour is `skip`: nothing is computed).
Partial RingExpander::accumulate(OpBuilder &b, const KVBlock &kv, Value kvPos,
                                 CausalBehavior behavior, Partial acc) {
  if (behavior == CausalBehavior::skip)
    return acc;
  Partial p = block(b, kv, kvPos, behavior);
  auto m = MergePartialOp::create(b, loc, TypeRange{outType, lseType}, acc.out,
                                  acc.lse, p.out, p.lse);
  return {m.getMergedOutput(), m.getMergedLse()};
}

/// Step `i` > 0 (an index value: the loop's induction variable or the last
/// step's constant): the block of rank (rank - i) mod W with the step's
/// causal behaviour (`rule`), merged into `acc`.
Partial RingExpander::step(OpBuilder &b, Value i, const KVBlock &kv,
                           Partial acc) {
  Value kvPos;
  if (usePositions) {
    Value back = arith::SubIOp::create(b, loc, worldIndex, i);
    Value sum = arith::AddIOp::create(b, loc, rank, back);
    kvPos = positionsOf(b, arith::RemUIOp::create(b, loc, sum, worldIndex));
  }
  if (!rule.dependsOnRank())
    return accumulate(b, kv, kvPos, rule.upToRank, acc);

  Value upTo = arith::CmpIOp::create(b, loc, RingStepRule::kUpToRank, i, rank);
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{outType, lseType}, upTo,
                                /*withElseRegion=*/true);
  for (auto [region, behavior] :
       {std::make_pair(&ifOp.getThenRegion(), rule.upToRank),
        std::make_pair(&ifOp.getElseRegion(), rule.pastRank)}) {
    OpBuilder rb = OpBuilder::atBlockBegin(&region->front());
    Partial r = accumulate(rb, kv, kvPos, behavior, acc);
    scf::YieldOp::create(rb, loc, ValueRange{r.out, r.lse});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

/// Posts the shift of `kv` to the next rank; returns its token.
Value RingExpander::shiftStart(OpBuilder &b, const KVBlock &kv) {
  return ShiftStartOp::create(b, loc, ShiftTokenType::get(op.getContext()),
                              kv.values(), op.getGridAttr(), gridAxes,
                              b.getI64IntegerAttr(1));
}

/// Waits for the shift of `token`: the block received in place of `kv`.
KVBlock RingExpander::shiftWait(OpBuilder &b, Value token, const KVBlock &kv) {
  SmallVector<Value> sent = kv.values();
  auto wait = ShiftWaitOp::create(b, loc, ValueRange(sent).getTypes(), token);
  return KVBlock::from(wait.getResults(), kv.seg != nullptr);
}

void RingExpander::run() {
  OpBuilder b(op);
  // The ring index is the linear process index: the ring spans the grid.
  rank =
      shard::ProcessLinearIndexOp::create(b, loc, op.getGridAttr()).getResult();
  if (usePositions) {
    worldIndex = index(b, world);
    qPos = positionsOf(b, rank);
  }

  // Step 0: post the first shift, then the diagonal block.
  KVBlock kv = {op.getKey(), op.getValue(), op.getSegmentIds()};
  Value token = world > 1 ? shiftStart(b, kv) : Value();
  assert(rule.diagonal != CausalBehavior::skip && "step 0 starts the result");
  Partial acc = block(b, kv, qPos, rule.diagonal);
  if (world > 1) {
    kv = shiftWait(b, token, kv);
    // Steps 1 .. W-2: each posts the next shift before its compute.
    SmallVector<Value> init = kv.values();
    init.append({acc.out, acc.lse});
    Value c1 = index(b, 1), last = index(b, world - 1);
    auto loop = scf::ForOp::create(
        b, loc, c1, last, c1, init,
        [&](OpBuilder &lb, Location, Value i, ValueRange args) {
          KVBlock cur = KVBlock::from(args, kv.seg != nullptr);
          Value t = shiftStart(lb, cur);
          Partial p = step(lb, i, cur, {args[args.size() - 2], args.back()});
          SmallVector<Value> next = shiftWait(lb, t, cur).values();
          next.append({p.out, p.lse});
          scf::YieldOp::create(lb, loc, next);
        });
    ValueRange res = loop.getResults();
    kv = KVBlock::from(res, kv.seg != nullptr);
    // Step W-1: nothing left to shift.
    acc = step(b, last, kv, {res[res.size() - 2], res.back()});
  }

  Value result = acc.out;
  auto wantType = cast<RankedTensorType>(op.getOutput().getType());
  if (wantType.getElementType() != outType.getElementType())
    result = castElements(b, loc, acc.out, wantType.getElementType());
  op.getOutput().replaceAllUsesWith(result);
  if (op.getLse())
    op.getLse().replaceAllUsesWith(acc.lse);
  op.erase();
}

struct ExpandRingPass : cp::impl::CPExpandRingBase<ExpandRingPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<RingAttentionOp> rings;
    getOperation().walk([&](RingAttentionOp op) { rings.push_back(op); });
    SymbolTableCollection symbols;
    for (RingAttentionOp op : rings)
      if (failed(expand(op, symbols)))
        return signalPassFailure();
  }

  LogicalResult expand(RingAttentionOp op, SymbolTableCollection &symbols);
};

LogicalResult ExpandRingPass::expand(RingAttentionOp op,
                                     SymbolTableCollection &symbols) {
  if (op.getRotate() == RotateMethod::allgather || op.getMask() ||
      op.getUlyssesSize())
    return success(); // the runtime runs these (and the hybrid) as one op
  std::optional<RingStepRule> rule =
      ringStepRule(op.getBalancer(), op.getIsCausal());
  if (!rule)
    return success(); // no closed-form step table: the runtime masks

  shard::GridOp grid = shard::getGridOrNull(op, op.getGridAttr(), symbols);
  SmallVector<int16_t> axes(op.getGridAxes());
  if (axes.empty())
    for (int16_t i = 0; i < grid.getRank(); ++i)
      axes.push_back(i);
  if ((int64_t)axes.size() != grid.getRank())
    return success(); // a ring over part of a grid stays for the runtime
  int64_t world = shard::collectiveProcessGroupSize(axes, grid.getShape());
  if (ShapedType::isDynamic(world))
    return op.emitOpError("cannot expand a ring of dynamic size");
  RingExpander(op, world, *rule).run();
  return success();
}

} // namespace
