//===- DecomposeFlex.cpp - cp.flex_attention into linalg ------------------===//
//
// Flex attention has no runtime entry: it is decomposed into linalg on f32
// scores (O(Lq x Lkv) memory), with the user's modifiers inlined where each
// score is computed:
//
//   scores[b,h,i,j] = sum_d q[b,h,i,d] k[b,h/g,j,d]
//   s'              = mask_mod(b,h,i,j) ? score_mod(scale * s, b,h,i,j) : -inf
//   max, sum        = row max of s', row sum of exp(s' - max)
//   out[b,h,i,e]    = sum_j exp(s' - max) / sum * v[b,h/g,j,e]
//   lse             = max + log(sum)
//
// Fully masked rows give output 0 and LSE -inf. A rank-3 [B*H, S, D] op
// (torch-mlir folds batch and heads when a model has one KV head) is first
// rewritten as the rank-4 [1, B*H, S, D] op when its modifiers read neither
// the batch nor the head index.
//
//===----------------------------------------------------------------------===//

#include "cp/Conversion/CPToRuntime.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Utils/ElementCast.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Inlines the single block of `region` at `b`, mapping its arguments to
/// `args`; returns the value its cp.yield yields.
Value inlineModifier(OpBuilder &b, Region &region, ValueRange args) {
  IRMapping map;
  Block &block = region.front();
  for (auto [arg, v] : llvm::zip(block.getArguments(), args))
    map.map(arg, v);
  for (Operation &inner : block.without_terminator())
    b.clone(inner, map);
  return map.lookup(cast<YieldOp>(block.getTerminator()).getValues()[0]);
}

/// Rank-3 [B*H, S, D] flex attention -> [1, B*H, S, D] (kv head `x / group`
/// is right for the folded dim too, when no modifier reads b or h).
struct UnfoldRank3Flex : OpRewritePattern<FlexAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FlexAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (rtt(op.getQuery()).getRank() != 3 || rtt(op.getKey()).getRank() != 3 ||
        rtt(op.getValue()).getRank() != 3)
      return rewriter.notifyMatchFailure(op, "not rank 3");
    auto unusedBH = [](Region &r, unsigned first) {
      return r.empty() || (r.getArgument(first).use_empty() &&
                           r.getArgument(first + 1).use_empty());
    };
    if (!unusedBH(op.getMaskMod(), 0) || !unusedBH(op.getScoreMod(), 1))
      return op.emitOpError("reads the batch or head index in a modifier of "
                            "rank-3 [B*H, S, D] attention; the lowering takes "
                            "[B, H, S, D]");
    Location loc = op.getLoc();
    SmallVector<ReassociationIndices> r4 = {{0, 1}, {2}, {3}}, r3 = {{0, 1}, {2}};
    auto lead1 = [](RankedTensorType t) {
      SmallVector<int64_t> shape = {1};
      llvm::append_range(shape, t.getShape());
      return t.clone(shape);
    };
    auto expand = [&](Value x) -> Value {
      return tensor::ExpandShapeOp::create(rewriter, loc, lead1(rtt(x)), x, r4);
    };
    Type lseTy = op.getLse() ? Type(lead1(rtt(op.getLse()))) : Type();
    auto unfolded = FlexAttentionOp::create(
        rewriter, loc, lead1(rtt(op.getOutput())), lseTy,
        expand(op.getQuery()), expand(op.getKey()), expand(op.getValue()),
        op.getScaleAttr(), op.getEnableGqaAttr());
    rewriter.inlineRegionBefore(op.getMaskMod(), unfolded.getMaskMod(),
                                unfolded.getMaskMod().end());
    rewriter.inlineRegionBefore(op.getScoreMod(), unfolded.getScoreMod(),
                                unfolded.getScoreMod().end());
    SmallVector<Value> results = {tensor::CollapseShapeOp::create(
        rewriter, loc, op.getOutput().getType(), unfolded.getOutput(), r4)};
    if (op.getLse())
      results.push_back(tensor::CollapseShapeOp::create(
          rewriter, loc, op.getLse().getType(), unfolded.getLse(), r3));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Builds the linalg form of one rank-4 flex attention op.
class FlexBuilder {
public:
  FlexBuilder(PatternRewriter &b, FlexAttentionOp op)
      : b(b), op(op), loc(op.getLoc()), ctx(b.getContext()),
        f32(b.getF32Type()) {
    auto q = rtt(op.getQuery()), k = rtt(op.getKey()), v = rtt(op.getValue());
    B = q.getDimSize(0), Hq = q.getDimSize(1), Lq = q.getDimSize(2);
    D = q.getDimSize(3), Hkv = k.getDimSize(1), Lk = k.getDimSize(2);
    Dv = v.getDimSize(3);
    kvHead = d(1).floorDiv(Hq / Hkv);
    scale = op.getScale() ? op.getScale()->convertToDouble()
                          : 1.0 / std::sqrt((double)D);
    ninf = constant(-INFINITY);
    zero = constant(0.0f);
  }

  /// scores[b,h,i,j] = sum_d q[b,h,i,d] k[b,h/g,j,d] (f32).
  Value scores() {
    return generic({B, Hq, Lq, Lk}, {op.getQuery(), op.getKey()},
                   filled({B, Hq, Lq, Lk}, 0.0f),
                   {map5({d(0), d(1), d(2), d(4)}),
                    map5({d(0), kvHead, d(3), d(4)}),
                    map5({d(0), d(1), d(2), d(3)})},
                   5, /*reduced=*/1, [&](OpBuilder &nb, Location l, ValueRange a) {
                     Value p = arith::MulFOp::create(nb, l, toF32(nb, l, a[0]),
                                                     toF32(nb, l, a[1]));
                     return arith::AddFOp::create(nb, l, a[2], p).getResult();
                   });
  }

  /// score_mod on the scaled score, then mask_mod (-inf where dropped).
  Value modified(Value scores) {
    auto id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    Value scaleV = constant((float)scale);
    return generic({B, Hq, Lq, Lk}, {scores}, empty({B, Hq, Lq, Lk}),
                   {id4, id4}, 4, 0,
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     SmallVector<Value> idx;
                     for (int i = 0; i < 4; ++i)
                       idx.push_back(linalg::IndexOp::create(nb, l, i));
                     Value s = arith::MulFOp::create(nb, l, a[0], scaleV);
                     if (!op.getScoreMod().empty())
                       s = inlineModifier(nb, op.getScoreMod(),
                                          {s, idx[0], idx[1], idx[2], idx[3]});
                     if (!op.getMaskMod().empty()) {
                       Value keep = inlineModifier(nb, op.getMaskMod(), idx);
                       s = arith::SelectOp::create(nb, l, keep, s, ninf);
                     }
                     return s;
                   });
  }

  /// Row max, and row sum of exp(s - max) (fully masked rows: -inf, 0).
  std::pair<Value, Value> rowStats(Value s) {
    auto id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineMap row = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
    Value max = generic({B, Hq, Lq}, {s}, filled({B, Hq, Lq}, -INFINITY),
                        {id4, row}, 4, 1,
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          return arith::MaximumFOp::create(nb, l, a[0], a[1])
                              .getResult();
                        });
    Value sum = generic({B, Hq, Lq}, {s, max}, filled({B, Hq, Lq}, 0.0f),
                        {id4, row, row}, 4, 1,
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          Value e = expOf(nb, l, a[0], a[1]);
                          return arith::AddFOp::create(nb, l, a[2], e)
                              .getResult();
                        });
    return {max, sum};
  }

  /// out[b,h,i,e] = sum_j p[b,h,i,j] v[b,h/g,j,e], in the output's type.
  Value output(Value s, Value max, Value sum) {
    AffineMap row = map5({d(0), d(1), d(2)});
    Value out = generic(
        {B, Hq, Lq, Dv}, {s, max, sum, op.getValue()},
        filled({B, Hq, Lq, Dv}, 0.0f),
        {map5({d(0), d(1), d(2), d(4)}), row, row,
         map5({d(0), kvHead, d(4), d(3)}), map5({d(0), d(1), d(2), d(3)})},
        5, 1, [&](OpBuilder &nb, Location l, ValueRange a) {
          Value e = expOf(nb, l, a[0], a[1]);
          Value none =
              arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[2], zero);
          Value p = arith::SelectOp::create(
              nb, l, none, zero, arith::DivFOp::create(nb, l, e, a[2]));
          Value pv = arith::MulFOp::create(nb, l, p, toF32(nb, l, a[3]));
          return arith::AddFOp::create(nb, l, a[4], pv).getResult();
        });
    Type et = rtt(op.getOutput()).getElementType();
    return et == f32 ? out : castElements(b, loc, out, et);
  }

  /// lse = max + log(sum), -inf for fully masked rows.
  Value lse(Value max, Value sum) {
    auto id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    return generic({B, Hq, Lq}, {max, sum}, empty({B, Hq, Lq}),
                   {id3, id3, id3}, 3, 0,
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     Value none = arith::CmpFOp::create(
                         nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
                     Value lg = arith::AddFOp::create(
                         nb, l, a[0], math::LogOp::create(nb, l, a[1]));
                     return arith::SelectOp::create(nb, l, none, ninf, lg)
                         .getResult();
                   });
  }

private:
  using Body = function_ref<Value(OpBuilder &, Location, ValueRange)>;

  /// A linalg.generic over `loops` dims (the last `reduced` of them
  /// reductions) writing an f32 tensor of `shape` from `init`.
  Value generic(ArrayRef<int64_t> shape, ValueRange ins, Value init,
                ArrayRef<AffineMap> maps, unsigned loops, unsigned reduced,
                Body body) {
    SmallVector<utils::IteratorType> iters(loops - reduced,
                                           utils::IteratorType::parallel);
    iters.append(reduced, utils::IteratorType::reduction);
    return linalg::GenericOp::create(
               b, loc, RankedTensorType::get(shape, f32), ins,
               ValueRange{init}, maps, iters,
               [&](OpBuilder &nb, Location l, ValueRange a) {
                 linalg::YieldOp::create(nb, l, ValueRange{body(nb, l, a)});
               })
        .getResult(0);
  }

  AffineExpr d(unsigned i) { return getAffineDimExpr(i, ctx); }
  AffineMap map5(ArrayRef<AffineExpr> e) { return AffineMap::get(5, 0, e, ctx); }
  Value constant(float v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v));
  }
  Value empty(ArrayRef<int64_t> shape) {
    return tensor::EmptyOp::create(b, loc, shape, f32);
  }
  Value filled(ArrayRef<int64_t> shape, float v) {
    return linalg::FillOp::create(b, loc, constant(v), empty(shape))
        .getResult(0);
  }
  Value toF32(OpBuilder &nb, Location l, Value x) {
    return x.getType() == f32 ? x : arith::ExtFOp::create(nb, l, f32, x);
  }
  /// exp(s - max), 0 where the row is fully masked (max = -inf).
  Value expOf(OpBuilder &nb, Location l, Value s, Value mx) {
    Value isInf =
        arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, mx, ninf);
    Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, s, mx));
    return arith::SelectOp::create(nb, l, isInf, zero, e);
  }

  PatternRewriter &b;
  FlexAttentionOp op;
  Location loc;
  MLIRContext *ctx;
  Type f32;
  int64_t B, Hq, Lq, D, Hkv, Lk, Dv;
  AffineExpr kvHead;
  double scale;
  Value ninf, zero;
};

/// Rank-4 static flex attention -> linalg (FlexBuilder).
struct DecomposeFlex : OpRewritePattern<FlexAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FlexAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto q = rtt(op.getQuery()), k = rtt(op.getKey()), v = rtt(op.getValue());
    if (q.getRank() == 3 && k.getRank() == 3 && v.getRank() == 3)
      return rewriter.notifyMatchFailure(op, "rank 3: unfolded first");
    if (q.getRank() != 4 || !q.hasStaticShape() || !k.hasStaticShape() ||
        !v.hasStaticShape())
      return op.emitOpError("the lowering decomposes flex attention on static "
                            "[B, H, S, D] tensors");
    FlexBuilder fb(rewriter, op);
    Value s = fb.modified(fb.scores());
    auto [max, sum] = fb.rowStats(s);
    SmallVector<Value> results = {fb.output(s, max, sum)};
    if (op.getLse())
      results.push_back(fb.lse(max, sum));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::cp::populateDecomposeFlexPatterns(RewritePatternSet &patterns) {
  patterns.add<UnfoldRank3Flex, DecomposeFlex>(patterns.getContext());
}
