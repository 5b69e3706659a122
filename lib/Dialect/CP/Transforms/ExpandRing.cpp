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
// The behaviour of step i depends on this rank r only through `i <= r`
// (the source of the block is (r - i) mod W):
//
//   balancer   | i <= r        | i > r
//   none       | not_causal    | skip
//   head_tail  | kv_head_half  | q_tail_half
//   striped    | causal        | causal_strict
//
// so each causal step is an scf.if on that comparison. allgather rotation
// and rings with an explicit mask are left for the runtime.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
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

namespace {

/// The two behaviours of a causal ring step: when `i <= rank`, and when not.
std::pair<CausalBehavior, CausalBehavior> stepBehaviors(LoadBalancer b) {
  switch (b) {
  case LoadBalancer::head_tail:
    return {CausalBehavior::kv_head_half, CausalBehavior::q_tail_half};
  case LoadBalancer::striped:
    return {CausalBehavior::causal, CausalBehavior::causal_strict};
  default:
    return {CausalBehavior::not_causal, CausalBehavior::skip};
  }
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
  if (op.getRotate() == RotateMethod::allgather || op.getMask())
    return success(); // the runtime runs these as one op
  LoadBalancer balancer = op.getBalancer();
  if (balancer == LoadBalancer::per_document_head_tail ||
      balancer == LoadBalancer::ptrr)
    return success();
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

  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  int64_t rank4 = qType.getRank();
  int64_t localLen = qType.getShape()[rank4 - 2];
  int64_t seqLen = op.getSeqLen();
  bool padded = localLen * world != seqLen;
  bool causal = op.getIsCausal();
  bool usePositions = op.getWindow().has_value() || padded;
  Type f32 = Float32Type::get(ctx);
  auto outType = RankedTensorType::get(
      cast<RankedTensorType>(op.getOutput().getType()).getShape(), f32);
  SmallVector<int64_t> lseShape(outType.getShape().drop_back());
  auto lseType = RankedTensorType::get(lseShape, f32);
  auto gridAxes = b.getDenseI16ArrayAttr(op.getGridAxes());

  // The ring index is the linear process index: the ring spans the grid.
  Value rank =
      shard::ProcessLinearIndexOp::create(b, loc, op.getGridAttr()).getResult();

  // Original positions of the block owned by `owner` (padding -> -1).
  auto positionsOf = [&](Value owner) -> Value {
    auto t = RankedTensorType::get({localLen}, b.getI64Type());
    auto gen = tensor::GenerateOp::create(b, loc, t, ValueRange{});
    Block *body = b.createBlock(&gen.getBody(), {}, {b.getIndexType()}, {loc});
    OpBuilder gb = OpBuilder::atBlockEnd(body);
    Value pos = GlobalPositionOp::create(
        gb, loc, gb.getIndexType(), body->getArgument(0), owner,
        op.getGridAttr(), gridAxes, op.getBalancerAttr(), op.getSeqLenAttr(),
        op.getBlockSizeAttr(), op.getPadAttr());
    Value p = arith::IndexCastOp::create(gb, loc, gb.getI64Type(), pos);
    if (padded) {
      Value cS = arith::ConstantIntOp::create(gb, loc, gb.getI64Type(), seqLen);
      Value neg = arith::ConstantIntOp::create(gb, loc, gb.getI64Type(), -1);
      Value valid =
          arith::CmpIOp::create(gb, loc, arith::CmpIPredicate::slt, p, cS);
      p = arith::SelectOp::create(gb, loc, valid, p, neg);
    }
    tensor::YieldOp::create(gb, loc, p);
    b.setInsertionPointAfter(gen);
    return gen.getResult();
  };
  Value qPos = usePositions ? positionsOf(rank) : Value();

  // One block attention; returns (out, lse) in fp32.
  auto block = [&](OpBuilder &bb, Value k, Value v, Value seg, Value kvPos,
                   CausalBehavior behavior) -> std::pair<Value, Value> {
    OperationState state(loc, BlockAttentionOp::getOperationName());
    state.addOperands({op.getQuery(), k, v});
    if (kvPos)
      state.addOperands({qPos, kvPos});
    if (seg)
      state.addOperands({op.getSegmentIds(), seg});
    state.addAttribute("operandSegmentSizes",
                       bb.getDenseI32ArrayAttr({1, 1, 1, 0, kvPos ? 1 : 0,
                                                kvPos ? 1 : 0, seg ? 1 : 0,
                                                seg ? 1 : 0}));
    state.addAttribute("causal", CausalBehaviorAttr::get(ctx, behavior));
    if (op.getWindowAttr())
      state.addAttribute("window", op.getWindowAttr());
    if (op.getScaleAttr())
      state.addAttribute("scale", op.getScaleAttr());
    if (op.getEnableGqa())
      state.addAttribute("enable_gqa", bb.getUnitAttr());
    state.addTypes({outType, lseType});
    Operation *blk = bb.create(state);
    return {blk->getResult(0), blk->getResult(1)};
  };
  auto merge = [&](OpBuilder &bb, Value o, Value l, Value ob, Value lb) {
    auto m = MergePartialOp::create(bb, loc, TypeRange{outType, lseType}, o, l,
                                    ob, lb);
    return std::make_pair(m.getMergedOutput(), m.getMergedLse());
  };

  Value k = op.getKey(), v = op.getValue(), seg = op.getSegmentIds();
  Value out, lse;
  for (int64_t i = 0; i < world; ++i) {
    // Post the next shift before this step's compute so they overlap.
    ShiftStartOp shift;
    if (i + 1 < world) {
      SmallVector<Value> send = {k, v};
      if (seg)
        send.push_back(seg);
      shift = ShiftStartOp::create(b, loc, ShiftTokenType::get(ctx), send,
                                   op.getGridAttr(), gridAxes,
                                   b.getI64IntegerAttr(1));
    }
    Value kvPos = i == 0 ? qPos : Value();
    if (usePositions && i > 0) {
      // Source of the block at step i: (rank - i) mod W.
      Value cI = arith::ConstantIndexOp::create(b, loc, world - i);
      Value cW = arith::ConstantIndexOp::create(b, loc, world);
      Value sum = arith::AddIOp::create(b, loc, rank, cI);
      Value src = arith::RemUIOp::create(b, loc, sum, cW);
      kvPos = positionsOf(src);
    }
    if (i == 0) {
      std::tie(out, lse) =
          block(b, k, v, seg, kvPos,
                causal ? CausalBehavior::causal : CausalBehavior::not_causal);
    } else if (!causal) {
      auto [o, l] = block(b, k, v, seg, kvPos, CausalBehavior::not_causal);
      std::tie(out, lse) = merge(b, out, lse, o, l);
    } else {
      auto [whenLe, whenGt] = stepBehaviors(balancer);
      Value cI = arith::ConstantIndexOp::create(b, loc, i);
      Value le = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, cI,
                                       rank);
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{outType, lseType}, le,
                                    /*withElseRegion=*/true);
      for (auto [region, behavior] :
           {std::make_pair(&ifOp.getThenRegion(), whenLe),
            std::make_pair(&ifOp.getElseRegion(), whenGt)}) {
        OpBuilder rb = OpBuilder::atBlockBegin(&region->front());
        if (behavior == CausalBehavior::skip) {
          scf::YieldOp::create(rb, loc, ValueRange{out, lse});
          continue;
        }
        auto [o, l] = block(rb, k, v, seg, kvPos, behavior);
        auto [mo, ml] = merge(rb, out, lse, o, l);
        scf::YieldOp::create(rb, loc, ValueRange{mo, ml});
      }
      out = ifOp.getResult(0);
      lse = ifOp.getResult(1);
    }
    if (shift) {
      SmallVector<Type> types = {k.getType(), v.getType()};
      if (seg)
        types.push_back(seg.getType());
      auto wait = ShiftWaitOp::create(b, loc, types, shift.getToken());
      k = wait.getResult(0);
      v = wait.getResult(1);
      if (seg)
        seg = wait.getResult(2);
    }
  }
  Value result = out;
  auto wantType = cast<RankedTensorType>(op.getOutput().getType());
  if (wantType.getElementType() != f32)
    result = castElements(b, loc, out, wantType.getElementType());
  op.getOutput().replaceAllUsesWith(result);
  if (op.getLse())
    op.getLse().replaceAllUsesWith(lse);
  op.erase();
  return success();
}

} // namespace
