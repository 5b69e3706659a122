//===- DetectExpr.cpp - tensor expressions for attention detection --------===//
//
// See DetectExpr.h. This file is the ExprBuilder: the expansion of tensor
// values through linalg (generics, named ops, reductions) and TOSA ops into
// expression trees, and renaming of their dims. The range-aware affine
// simplification is in DetectExprRanges.cpp; queries, evaluation, emission
// and printing of expressions in DetectExprEval.cpp.
//
//===----------------------------------------------------------------------===//

#include "DetectExpr.h"
#include "DetectExprUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace mlir::cp::detect;

//===----------------------------------------------------------------------===//
// Scalar function mapping
//===----------------------------------------------------------------------===//

namespace {
Fn fnOfScalarOp(Operation *op, int64_t &pred) {
  if (auto c = dyn_cast<arith::CmpFOp>(op)) {
    pred = static_cast<int64_t>(c.getPredicate());
    return Fn::CmpF;
  }
  if (auto c = dyn_cast<arith::CmpIOp>(op)) {
    pred = static_cast<int64_t>(c.getPredicate());
    return Fn::CmpI;
  }
  return llvm::TypeSwitch<Operation *, Fn>(op)
      .Case<arith::AddFOp>([](auto) { return Fn::Add; })
      .Case<arith::SubFOp>([](auto) { return Fn::Sub; })
      .Case<arith::MulFOp>([](auto) { return Fn::Mul; })
      .Case<arith::DivFOp>([](auto) { return Fn::Div; })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([](auto) { return Fn::Max; })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([](auto) { return Fn::Min; })
      .Case<math::ExpOp>([](auto) { return Fn::Exp; })
      .Case<math::TanhOp>([](auto) { return Fn::Tanh; })
      .Case<arith::NegFOp>([](auto) { return Fn::Neg; })
      .Case<math::RsqrtOp>([](auto) { return Fn::Rsqrt; })
      .Case<math::SqrtOp>([](auto) { return Fn::Sqrt; })
      .Case<arith::ExtFOp>([](auto) { return Fn::ExtF; })
      .Case<arith::TruncFOp>([](auto) { return Fn::TruncF; })
      .Case<arith::SIToFPOp>([](auto) { return Fn::SIToFP; })
      .Case<arith::FPToSIOp>([](auto) { return Fn::FPToSI; })
      .Case<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
            arith::ExtUIOp, arith::TruncIOp>([](auto) { return Fn::IntCast; })
      .Case<arith::SelectOp>([](auto) { return Fn::Select; })
      .Case<arith::AndIOp>([](auto) { return Fn::AndI; })
      .Case<arith::OrIOp>([](auto) { return Fn::OrI; })
      .Case<arith::XOrIOp>([](auto) { return Fn::XOrI; })
      .Case<arith::AddIOp>([](auto) { return Fn::AddI; })
      .Case<arith::SubIOp>([](auto) { return Fn::SubI; })
      .Case<arith::MulIOp>([](auto) { return Fn::MulI; })
      .Default([](auto) { return Fn::Unknown; });
}

Type elementTypeOf(Type t) {
  if (auto s = dyn_cast<ShapedType>(t))
    return s.getElementType();
  return t;
}

} // namespace

namespace mlir::cp::detect {

/// Reads a scalar constant (float or int/bool) from an attribute.
bool scalarOf(Attribute a, double &f, int64_t &i) {
  if (auto fa = dyn_cast<FloatAttr>(a)) {
    f = fa.getValueAsDouble();
    return true;
  }
  if (auto ia = dyn_cast<IntegerAttr>(a)) {
    i = ia.getType().isInteger(1) ? (ia.getValue().isZero() ? 0 : 1)
                                  : ia.getValue().getSExtValue();
    f = double(i);
    return true;
  }
  if (auto ba = dyn_cast<BoolAttr>(a)) {
    i = ba.getValue();
    f = double(i);
    return true;
  }
  return false;
}

DenseElementsAttr denseConstantOf(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return {};
  if (auto c = dyn_cast<arith::ConstantOp>(def))
    return dyn_cast<DenseElementsAttr>(c.getValue());
  if (auto c = dyn_cast<tosa::ConstOp>(def))
    return dyn_cast<DenseElementsAttr>(c.getValues());
  return {};
}
} // namespace mlir::cp::detect

//===----------------------------------------------------------------------===//
// ExprBuilder
//===----------------------------------------------------------------------===//

Expr *ExprBuilder::alloc(Expr::Kind k, Type t) {
  arena.emplace_back();
  Expr *e = &arena.back();
  e->kind = k;
  e->type = t;
  return e;
}

const Expr *ExprBuilder::makeConst(Type t, double f, int64_t i) {
  Expr *e = alloc(Expr::Const, t);
  e->fval = f;
  e->ival = i;
  return e;
}

const Expr *ExprBuilder::makeOp(Fn fn, Type t, ArrayRef<const Expr *> args,
                                int64_t pred) {
  Expr *e = alloc(Expr::Op, t);
  e->fn = fn;
  e->pred = pred;
  e->args.assign(args.begin(), args.end());
  // Fold constant operands (e.g. `arith.truncf %cst : f64 to f32` of a scale).
  if (fn != Fn::Unknown && !args.empty() &&
      llvm::all_of(args, [](const Expr *a) { return a->kind == Expr::Const; }))
    if (std::optional<Scalar> v = evaluate(e, {})) {
      double f = v->f;
      if (auto ft = dyn_cast<FloatType>(t)) {
        APFloat x(f);
        bool lost = false;
        x.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
        x.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
        f = x.convertToDouble();
      }
      return makeConst(t, f, v->i);
    }
  return e;
}

const Expr *ExprBuilder::leaf(Value v, AffineMap map) {
  Expr *e = alloc(Expr::Leaf, elementTypeOf(v.getType()));
  e->tensor = v;
  e->map = map;
  return e;
}

const Expr *ExprBuilder::expand(Value v, AffineMap map,
                                ArrayRef<int64_t> sizes) {
  map = simplifyWithRanges(map, sizes);
  auto key = std::make_tuple(v.getAsOpaquePointer(),
                             const_cast<void *>(map.getAsOpaquePointer()),
                             std::vector<int64_t>(sizes.begin(), sizes.end()));
  auto it = memo.find(key);
  if (it != memo.end())
    return it->second;
  const Expr *e = expandImpl(v, map, sizes);
  if (e->kind != Expr::Const)
    const_cast<Expr *>(e)->srcs.push_back({v, map});
  memo[key] = e;
  return e;
}

/// Source indices of a reshape read at `idx` (static shapes only).
static std::optional<SmallVector<AffineExpr>>
reshapeIndices(ArrayRef<int64_t> srcShape, ArrayRef<int64_t> dstShape,
               ArrayRef<AffineExpr> idx, ArrayRef<int64_t> sizes,
               MLIRContext *ctx) {
  if (ShapedType::isDynamicShape(srcShape) ||
      ShapedType::isDynamicShape(dstShape))
    return std::nullopt;
  AffineExpr linear = getAffineConstantExpr(0, ctx);
  int64_t stride = 1;
  for (int64_t p = dstShape.size() - 1; p >= 0; --p) {
    linear = linear + idx[p] * stride;
    stride *= dstShape[p];
  }
  SmallVector<AffineExpr> out(srcShape.size());
  stride = 1;
  for (int64_t k = srcShape.size() - 1; k >= 0; --k) {
    AffineExpr e = srcShape[k] == 1 ? getAffineConstantExpr(0, ctx)
                                    : linear.floorDiv(stride) % srcShape[k];
    out[k] = simplifyWithRanges(e, sizes);
    stride *= srcShape[k];
  }
  return out;
}

const Expr *ExprBuilder::expandImpl(Value v, AffineMap map,
                                    ArrayRef<int64_t> sizes) {
  Type et = elementTypeOf(v.getType());
  Operation *def = v.getDefiningOp();
  if (!isa<RankedTensorType>(v.getType())) {
    Attribute a;
    double f = 0;
    int64_t i = 0;
    if (matchPattern(v, m_Constant(&a)) && scalarOf(a, f, i))
      return makeConst(et, f, i);
    return leaf(v, map);
  }
  if (!def)
    return leaf(v, map);

  if (DenseElementsAttr dense = denseConstantOf(v)) {
    double f = 0;
    int64_t i = 0;
    if (dense.isSplat() && scalarOf(dense.getSplatValue<Attribute>(), f, i))
      return makeConst(et, f, i);
    // A 1-D integer iota (torch.arange folded by TOSA) is a position.
    if (dense.getType().getRank() == 1 && isa<IntegerType>(et) &&
        map.getNumResults() == 1) {
      bool iota = true;
      int64_t n = 0;
      for (APInt x : dense.getValues<APInt>())
        if (x.getSExtValue() != n++) {
          iota = false;
          break;
        }
      if (iota) {
        Expr *ix = alloc(Expr::Index, IndexType::get(ctx));
        ix->index = map.getResult(0);
        return makeOp(Fn::IntCast, et, {ix});
      }
    }
    return leaf(v, map);
  }

  if (auto sm = dyn_cast<linalg::SoftmaxOp>(def)) {
    auto d = dyn_cast<AffineDimExpr>(map.getResult(sm.getDimension()));
    if (!d)
      return leaf(v, map);
    visited.insert(def);
    Expr *e = alloc(Expr::Softmax, et);
    e->dim = d.getPosition();
    e->args.push_back(expand(sm.getInput(), map, sizes));
    return e;
  }

  if (isa<linalg::LinalgOp>(def))
    return expandLinalg(def, cast<OpResult>(v).getResultNumber(), map, sizes);

  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tosa::ReshapeOp>(
          def)) {
    Value src = def->getOperand(0);
    auto srcTy = cast<RankedTensorType>(src.getType());
    auto dstTy = cast<RankedTensorType>(v.getType());
    auto idx = reshapeIndices(srcTy.getShape(), dstTy.getShape(),
                              map.getResults(), sizes, ctx);
    if (!idx)
      return leaf(v, map);
    visited.insert(def);
    return expand(src, AffineMap::get(map.getNumDims(), 0, *idx, ctx), sizes);
  }

  if (def->getDialect() && def->getDialect()->getNamespace() ==
                               tosa::TosaDialect::getDialectNamespace())
    return expandTosa(def, map, sizes);

  // arith / math elementwise ops on tensors of one shape.
  int64_t pred = 0;
  Fn fn = fnOfScalarOp(def, pred);
  if (fn != Fn::Unknown && def->getNumResults() == 1) {
    SmallVector<const Expr *> args;
    for (Value o : def->getOperands()) {
      auto ot = dyn_cast<RankedTensorType>(o.getType());
      if (!ot ||
          ot.getShape() != cast<RankedTensorType>(v.getType()).getShape())
        return leaf(v, map);
      args.push_back(expand(o, map, sizes));
    }
    visited.insert(def);
    return makeOp(fn, et, args, pred);
  }
  return leaf(v, map);
}

/// A linalg op's body being expanded: its loops renamed into the reader's
/// space (plus a trailing dim for the reduced loop, if any), and the body's
/// scalars expanded so far.
struct ExprBuilder::LinalgBody {
  linalg::LinalgOp lop;
  Value result;
  /// How the result is read.
  AffineMap map;
  OpOperand *init = nullptr;
  /// The reduction loop, if any.
  SmallVector<unsigned> red;
  /// Loop -> its expression over the new space (of newSizes).
  SmallVector<AffineExpr> sub;
  Sizes newSizes;
  AffineMap subMap;
  BlockArgument accArg;
  llvm::DenseMap<Value, const Expr *> local;
  /// The accumulator was read outside the combiner.
  bool failed = false;
};

bool ExprBuilder::substituteLoops(LinalgBody &lb, unsigned resultNo,
                                  ArrayRef<int64_t> sizes) {
  linalg::LinalgOp lop = lb.lop;
  lb.init = lop.getDpsInitOperand(resultNo);
  AffineMap outMap = lop.getMatchingIndexingMap(lb.init);
  unsigned n = lb.map.getNumDims();
  lb.newSizes.assign(sizes.begin(), sizes.end());
  lb.sub.assign(lop.getNumLoops(), AffineExpr());
  auto shape = cast<RankedTensorType>(lb.result.getType()).getShape();
  for (unsigned p = 0; p < outMap.getNumResults(); ++p) {
    AffineExpr r = outMap.getResult(p);
    if (auto d = dyn_cast<AffineDimExpr>(r)) {
      if (lb.sub[d.getPosition()])
        return false;
      lb.sub[d.getPosition()] = lb.map.getResult(p);
      continue;
    }
    auto c = dyn_cast<AffineConstantExpr>(r);
    if (!c || c.getValue() != 0 || shape[p] != 1)
      return false;
  }
  if (!lb.red.empty()) {
    if (lb.sub[lb.red[0]])
      return false;
    lb.sub[lb.red[0]] = getAffineDimExpr(n, ctx);
    SmallVector<int64_t> ranges = lop.getStaticLoopRanges();
    lb.newSizes.push_back(ranges[lb.red[0]]);
  }
  for (AffineExpr s : lb.sub)
    if (!s)
      return false;
  return true;
}

const Expr *ExprBuilder::linalgScalar(LinalgBody &lb, Value s) {
  auto it = lb.local.find(s);
  if (it != lb.local.end())
    return it->second;
  linalg::LinalgOp lop = lb.lop;
  Block *body = lop.getBlock();
  unsigned nSpace = lb.newSizes.size();
  const Expr *r = nullptr;
  Attribute a;
  double f = 0;
  int64_t i = 0;
  if (auto ba = dyn_cast<BlockArgument>(s); ba && ba.getOwner() == body) {
    if (ba == lb.accArg && !lb.red.empty()) {
      lb.failed = true; // the accumulator outside the combiner
      r = leaf(lb.result, lb.map);
    } else {
      OpOperand *o = lop.getMatchingOpOperand(ba);
      AffineMap m = lop.getMatchingIndexingMap(o).compose(lb.subMap);
      r = expand(o->get(), simplifyWithRanges(m, lb.newSizes), lb.newSizes);
    }
  } else if (s.getParentRegion() != &lop->getRegion(0)) {
    if (matchPattern(s, m_Constant(&a)) && scalarOf(a, f, i))
      r = makeConst(s.getType(), f, i);
    else
      r = leaf(s, AffineMap::get(nSpace, 0, {}, ctx));
  } else {
    Operation *d = s.getDefiningOp();
    if (auto ix = dyn_cast<linalg::IndexOp>(d)) {
      Expr *e = alloc(Expr::Index, s.getType());
      e->index = lb.sub[ix.getDim()];
      r = e;
    } else if (matchPattern(s, m_Constant(&a)) && scalarOf(a, f, i)) {
      r = makeConst(s.getType(), f, i);
    } else {
      int64_t pred = 0;
      Fn fn = fnOfScalarOp(d, pred);
      SmallVector<const Expr *> args;
      for (Value o : d->getOperands())
        args.push_back(linalgScalar(lb, o));
      r = makeOp(fn, s.getType(), args, pred);
    }
  }
  lb.local[s] = r;
  return r;
}

/// The identity a reduction combining with `fn` starts from, if supported.
static std::optional<double> reductionIdentity(Fn fn) {
  switch (fn) {
  case Fn::Max:
    return -std::numeric_limits<double>::infinity();
  case Fn::Add:
  case Fn::OrI:
  case Fn::AddI:
    return 0;
  case Fn::AndI:
    return 1;
  default:
    return std::nullopt;
  }
}

const Expr *ExprBuilder::expandLinalgReduction(LinalgBody &lb, Value yielded,
                                               ArrayRef<int64_t> sizes) {
  // A reduction: yielded = combiner(accumulator, f(inputs)).
  Value result = lb.result;
  AffineMap map = lb.map;
  Operation *comb = yielded.getDefiningOp();
  if (!comb || comb->getParentRegion() != &lb.lop->getRegion(0) ||
      comb->getNumOperands() != 2)
    return leaf(result, map);
  int64_t pred = 0;
  Fn fn = fnOfScalarOp(comb, pred);
  std::optional<double> identity = reductionIdentity(fn);
  if (!identity)
    return leaf(result, map);
  Value other;
  if (comb->getOperand(0) == lb.accArg)
    other = comb->getOperand(1);
  else if (comb->getOperand(1) == lb.accArg)
    other = comb->getOperand(0);
  else
    return leaf(result, map);
  const Expr *bodyExpr = linalgScalar(lb, other);
  if (lb.failed)
    return leaf(result, map);
  // The accumulator must start at the combiner's identity.
  const Expr *initExpr = expand(lb.init->get(), map, sizes);
  if (initExpr->kind != Expr::Const || initExpr->fval != *identity)
    return leaf(result, map);
  visited.insert(lb.lop);
  Expr *e = alloc(Expr::Reduce, elementTypeOf(result.getType()));
  e->fn = fn;
  e->ival = lb.newSizes.back();
  e->args.push_back(bodyExpr);
  return e;
}

const Expr *ExprBuilder::expandLinalg(Operation *op, unsigned resultNo,
                                      AffineMap map, ArrayRef<int64_t> sizes) {
  auto lop = cast<linalg::LinalgOp>(op);
  Value result = op->getResult(resultNo);
  if (!lop.hasPureTensorSemantics() || lop->getNumRegions() != 1 ||
      !lop.getBlock())
    return leaf(result, map);
  LinalgBody lb;
  lb.lop = lop;
  lb.result = result;
  lb.map = map;
  auto iters = lop.getIteratorTypesArray();
  for (unsigned i = 0; i < lop.getNumLoops(); ++i)
    if (iters[i] == utils::IteratorType::reduction)
      lb.red.push_back(i);
  if (lb.red.size() > 1)
    return leaf(result, map);
  if (lb.red.size() == 1 && linalg::isaContractionOpInterface(lop))
    return leaf(result, map);
  if (!substituteLoops(lb, resultNo, sizes))
    return leaf(result, map);
  lb.subMap = AffineMap::get(lb.newSizes.size(), 0, lb.sub, ctx);
  lb.accArg = lop.getMatchingBlockArgument(lb.init);

  Value yielded = lop.getBlock()->getTerminator()->getOperand(resultNo);
  if (!lb.red.empty())
    return expandLinalgReduction(lb, yielded, sizes);
  const Expr *e = linalgScalar(lb, yielded);
  if (lb.failed)
    return leaf(result, map);
  visited.insert(op);
  return e;
}

const Expr *ExprBuilder::tosaOperand(Value in, Value result, AffineMap map,
                                     ArrayRef<int64_t> sizes) {
  auto outTy = cast<RankedTensorType>(result.getType());
  auto inTy = dyn_cast<RankedTensorType>(in.getType());
  if (!inTy || inTy.getRank() != outTy.getRank())
    return nullptr;
  SmallVector<AffineExpr> rs;
  for (int64_t p = 0; p < inTy.getRank(); ++p)
    rs.push_back(inTy.getDimSize(p) == 1 && outTy.getDimSize(p) != 1
                     ? getAffineConstantExpr(0, ctx)
                     : map.getResult(p));
  return expand(in, AffineMap::get(map.getNumDims(), 0, rs, ctx), sizes);
}

const Expr *ExprBuilder::tosaElementwise(Operation *op, Fn fn,
                                         ArrayRef<Value> ins, AffineMap map,
                                         ArrayRef<int64_t> sizes,
                                         int64_t pred) {
  Value result = op->getResult(0);
  SmallVector<const Expr *> args;
  for (Value in : ins) {
    const Expr *a = tosaOperand(in, result, map, sizes);
    if (!a)
      return leaf(result, map);
    args.push_back(a);
  }
  visited.insert(op);
  return makeOp(fn, elementTypeOf(result.getType()), args, pred);
}

/// The scalar conversion of a tosa.cast from `it` to `et`; Fn::Unknown if
/// not supported.
static Fn tosaCastFn(Type it, Type et) {
  if (isa<FloatType>(it) && isa<FloatType>(et))
    return it.getIntOrFloatBitWidth() < et.getIntOrFloatBitWidth()
               ? Fn::ExtF
               : Fn::TruncF;
  if (isa<IntegerType>(it) && isa<IntegerType>(et) && !it.isInteger(1))
    return Fn::IntCast;
  if (isa<IntegerType>(it) && isa<FloatType>(et) && !it.isInteger(1))
    return Fn::SIToFP;
  return Fn::Unknown;
}

const Expr *ExprBuilder::expandTosaElementwise(Operation *op, AffineMap map,
                                               ArrayRef<int64_t> sizes) {
  Value result = op->getResult(0);
  Type et = elementTypeOf(result.getType());
  bool isF = isa<FloatType>(et);
  auto elementwise = [&](Fn fn, ArrayRef<Value> ins, int64_t pred = 0) {
    return tosaElementwise(op, fn, ins, map, sizes, pred);
  };
  auto binary = [&](Fn fn) {
    return elementwise(fn, {op->getOperand(0), op->getOperand(1)});
  };
  auto unary = [&](Fn fn) { return elementwise(fn, {op->getOperand(0)}); };
  auto cmp = [&](arith::CmpFPredicate f, arith::CmpIPredicate i) {
    Type it = elementTypeOf(op->getOperand(0).getType());
    bool fl = isa<FloatType>(it);
    return elementwise(fl ? Fn::CmpF : Fn::CmpI,
                       {op->getOperand(0), op->getOperand(1)},
                       fl ? int64_t(f) : int64_t(i));
  };

  if (isa<tosa::AddOp>(op))
    return binary(isF ? Fn::Add : Fn::AddI);
  if (isa<tosa::SubOp>(op))
    return binary(isF ? Fn::Sub : Fn::SubI);
  if (isa<tosa::MulOp>(op)) {
    if (!isF) {
      // Integer multiply: only without a shift.
      unsigned n = map.getNumDims();
      const Expr *s = expand(
          op->getOperand(2),
          AffineMap::get(n, 0, {getAffineConstantExpr(0, ctx)}, ctx), sizes);
      if (s->kind != Expr::Const || s->ival != 0)
        return leaf(result, map);
    }
    return binary(isF ? Fn::Mul : Fn::MulI);
  }
  if (isa<tosa::ExpOp>(op))
    return unary(Fn::Exp);
  if (isa<tosa::TanhOp>(op) && isF)
    return unary(Fn::Tanh);
  if (isa<tosa::ReciprocalOp>(op))
    return unary(Fn::Recip);
  if (isa<tosa::RsqrtOp>(op))
    return unary(Fn::Rsqrt);
  if (isa<tosa::NegateOp>(op) && isF)
    return unary(Fn::Neg);
  if (isa<tosa::MaximumOp>(op) && isF)
    return binary(Fn::Max);
  if (isa<tosa::SelectOp>(op))
    return elementwise(
        Fn::Select, {op->getOperand(0), op->getOperand(1), op->getOperand(2)});
  if (isa<tosa::EqualOp>(op))
    return cmp(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
  if (isa<tosa::GreaterOp>(op))
    return cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
  if (isa<tosa::GreaterEqualOp>(op))
    return cmp(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge);
  if (isa<tosa::LogicalAndOp>(op))
    return binary(Fn::AndI);
  if (isa<tosa::LogicalOrOp>(op))
    return binary(Fn::OrI);
  if (isa<tosa::LogicalNotOp>(op)) {
    const Expr *a = tosaOperand(op->getOperand(0), result, map, sizes);
    if (!a)
      return leaf(result, map);
    visited.insert(op);
    return makeOp(Fn::XOrI, et, {a, makeConst(et, 1, 1)});
  }
  if (isa<tosa::CastOp>(op)) {
    Fn fn = tosaCastFn(elementTypeOf(op->getOperand(0).getType()), et);
    if (fn == Fn::Unknown)
      return leaf(result, map);
    return unary(fn);
  }
  return nullptr;
}

const Expr *ExprBuilder::expandTosaStructural(Operation *op, AffineMap map,
                                              ArrayRef<int64_t> sizes) {
  Value result = op->getResult(0);
  auto outTy = cast<RankedTensorType>(result.getType());
  Type et = outTy.getElementType();
  unsigned n = map.getNumDims();
  if (isa<tosa::TileOp>(op)) {
    auto inTy = cast<RankedTensorType>(op->getOperand(0).getType());
    SmallVector<AffineExpr> rs;
    for (int64_t p = 0; p < inTy.getRank(); ++p) {
      int64_t in = inTy.getDimSize(p), out = outTy.getDimSize(p);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out))
        return leaf(result, map);
      rs.push_back(in == 1     ? getAffineConstantExpr(0, ctx)
                   : in == out ? map.getResult(p)
                               : map.getResult(p) % in);
    }
    visited.insert(op);
    return expand(op->getOperand(0), AffineMap::get(n, 0, rs, ctx), sizes);
  }
  if (auto t = dyn_cast<tosa::TransposeOp>(op)) {
    ArrayRef<int32_t> perms = t.getPerms();
    SmallVector<AffineExpr> rs(perms.size());
    for (unsigned p = 0; p < perms.size(); ++p)
      rs[perms[p]] = map.getResult(p);
    visited.insert(op);
    return expand(op->getOperand(0), AffineMap::get(n, 0, rs, ctx), sizes);
  }
  if (isa<tosa::ReduceMaxOp, tosa::ReduceSumOp, tosa::ReduceAllOp,
          tosa::ReduceAnyOp>(op)) {
    int64_t axis = cast<IntegerAttr>(op->getAttr("axis")).getInt();
    Value in = op->getOperand(0);
    auto inTy = cast<RankedTensorType>(in.getType());
    SmallVector<AffineExpr> rs;
    for (int64_t p = 0; p < inTy.getRank(); ++p)
      rs.push_back(p == axis ? getAffineDimExpr(n, ctx) : map.getResult(p));
    Sizes newSizes(sizes.begin(), sizes.end());
    newSizes.push_back(inTy.getDimSize(axis));
    bool isF = isa<FloatType>(et);
    Fn fn = isa<tosa::ReduceMaxOp>(op)   ? Fn::Max
            : isa<tosa::ReduceSumOp>(op) ? (isF ? Fn::Add : Fn::AddI)
            : isa<tosa::ReduceAllOp>(op) ? Fn::AndI
                                         : Fn::OrI;
    visited.insert(op);
    Expr *e = alloc(Expr::Reduce, et);
    e->fn = fn;
    e->ival = newSizes.back();
    e->args.push_back(expand(in, AffineMap::get(n + 1, 0, rs, ctx), newSizes));
    return e;
  }
  return nullptr;
}

const Expr *ExprBuilder::expandTosa(Operation *op, AffineMap map,
                                    ArrayRef<int64_t> sizes) {
  if (const Expr *e = expandTosaElementwise(op, map, sizes))
    return e;
  if (const Expr *e = expandTosaStructural(op, map, sizes))
    return e;
  return leaf(op->getResult(0), map);
}

const Expr *ExprBuilder::rename(const Expr *e, ArrayRef<AffineExpr> sub,
                                ArrayRef<int64_t> sizes) {
  unsigned nNew = sizes.size();
  switch (e->kind) {
  case Expr::Const:
    return e;
  case Expr::Leaf: {
    if (!e->map)
      return e;
    AffineMap m = e->map.compose(AffineMap::get(nNew, 0, sub, ctx));
    Expr *r = alloc(Expr::Leaf, e->type);
    r->tensor = e->tensor;
    r->map = simplifyWithRanges(m, sizes);
    return r;
  }
  case Expr::Index: {
    Expr *r = alloc(Expr::Index, e->type);
    r->index = simplifyWithRanges(e->index.replaceDims(sub), sizes);
    return r;
  }
  case Expr::Op: {
    SmallVector<const Expr *> args;
    for (const Expr *a : e->args)
      args.push_back(rename(a, sub, sizes));
    return makeOp(e->fn, e->type, args, e->pred);
  }
  case Expr::Reduce: {
    SmallVector<AffineExpr> sub2(sub.begin(), sub.end());
    sub2.push_back(getAffineDimExpr(nNew, ctx));
    Sizes sizes2(sizes.begin(), sizes.end());
    sizes2.push_back(e->ival);
    Expr *r = alloc(Expr::Reduce, e->type);
    r->fn = e->fn;
    r->ival = e->ival;
    r->args.push_back(rename(e->args[0], sub2, sizes2));
    return r;
  }
  case Expr::Softmax: {
    auto d = dyn_cast<AffineDimExpr>(sub[e->dim]);
    if (!d)
      return makeOp(Fn::Unknown, e->type, {});
    Expr *r = alloc(Expr::Softmax, e->type);
    r->dim = d.getPosition();
    r->args.push_back(rename(e->args[0], sub, sizes));
    return r;
  }
  }
  return e;
}
