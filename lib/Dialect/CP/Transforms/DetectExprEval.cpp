//===- DetectExprEval.cpp - query, evaluate and emit expressions ----------===//
//
// What is done with an expression tree once built (see DetectExpr.h):
// structural equality and dim/position queries, evaluation of positional
// expressions at a point, emission as arith ops (emitScalar) and the debug
// print (toString).
//
//===----------------------------------------------------------------------===//

#include "DetectExpr.h"
#include "DetectExprUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace mlir::cp::detect;

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

bool mlir::cp::detect::equal(const Expr *a, const Expr *b) {
  if (a == b)
    return true;
  if (a->kind != b->kind || a->type != b->type)
    return false;
  switch (a->kind) {
  case Expr::Leaf:
    return a->tensor == b->tensor && a->map == b->map;
  case Expr::Const:
    return a->fval == b->fval && a->ival == b->ival;
  case Expr::Index:
    return a->index == b->index;
  case Expr::Softmax:
    if (a->dim != b->dim)
      return false;
    break;
  case Expr::Reduce:
    if (a->fn != b->fn || a->ival != b->ival)
      return false;
    break;
  case Expr::Op:
    if (a->fn != b->fn || a->pred != b->pred || a->fn == Fn::Unknown)
      return false;
    break;
  }
  if (a->args.size() != b->args.size())
    return false;
  for (auto [x, y] : llvm::zip(a->args, b->args))
    if (!equal(x, y))
      return false;
  return true;
}

bool mlir::cp::detect::usesDim(const Expr *e, unsigned d) {
  switch (e->kind) {
  case Expr::Leaf:
    return e->map && e->map.isFunctionOfDim(d);
  case Expr::Index:
    return e->index.isFunctionOfDim(d);
  case Expr::Const:
    return false;
  default:
    return llvm::any_of(e->args, [&](const Expr *a) { return usesDim(a, d); });
  }
}

bool mlir::cp::detect::isPositional(const Expr *e) {
  switch (e->kind) {
  case Expr::Leaf:
    return e->map && denseConstantOf(e->tensor);
  case Expr::Index:
  case Expr::Const:
    return true;
  case Expr::Op:
    return e->fn != Fn::Unknown && llvm::all_of(e->args, isPositional);
  default:
    return false;
  }
}

static std::optional<int64_t> evalAffine(AffineExpr e, ArrayRef<int64_t> pt) {
  switch (e.getKind()) {
  case AffineExprKind::DimId:
    return pt[cast<AffineDimExpr>(e).getPosition()];
  case AffineExprKind::Constant:
    return cast<AffineConstantExpr>(e).getValue();
  case AffineExprKind::SymbolId:
    return std::nullopt;
  default:
    break;
  }
  auto b = cast<AffineBinaryOpExpr>(e);
  auto l = evalAffine(b.getLHS(), pt), r = evalAffine(b.getRHS(), pt);
  if (!l || !r)
    return std::nullopt;
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return *l + *r;
  case AffineExprKind::Mul:
    return *l * *r;
  case AffineExprKind::FloorDiv:
    return *r == 0 ? std::nullopt : std::optional<int64_t>(floorDiv(*l, *r));
  case AffineExprKind::CeilDiv:
    return *r == 0 ? std::nullopt : std::optional<int64_t>(-floorDiv(-*l, *r));
  case AffineExprKind::Mod:
    return *r <= 0 ? std::nullopt
                   : std::optional<int64_t>(((*l % *r) + *r) % *r);
  default:
    return std::nullopt;
  }
}

/// A dense constant leaf `e` read at `pt`.
static std::optional<Scalar> evaluateLeaf(const Expr *e, ArrayRef<int64_t> pt,
                                          Scalar s) {
  DenseElementsAttr d = e->map ? denseConstantOf(e->tensor) : nullptr;
  if (!d)
    return std::nullopt;
  auto shape = d.getType().getShape();
  int64_t flat = 0;
  for (unsigned p = 0; p < shape.size(); ++p) {
    auto v = evalAffine(e->map.getResult(p), pt);
    if (!v || *v < 0 || *v >= shape[p])
      return std::nullopt;
    flat = flat * shape[p] + *v;
  }
  Attribute a = d.getValues<Attribute>()[flat];
  if (!scalarOf(a, s.f, s.i))
    return std::nullopt;
  return s;
}

/// arith.cmpi `pred` of x and y, integers of type `ot`.
static std::optional<bool> evaluateCmpI(int64_t pred, Type ot, int64_t x,
                                        int64_t y) {
  // Unsigned predicates compare the operands' bit patterns at their width.
  unsigned width = ot.isIndex() ? 64 : ot.getIntOrFloatBitWidth();
  uint64_t mask = width >= 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1;
  uint64_t ux = uint64_t(x) & mask, uy = uint64_t(y) & mask;
  switch (static_cast<arith::CmpIPredicate>(pred)) {
  case arith::CmpIPredicate::eq:
    return x == y;
  case arith::CmpIPredicate::ne:
    return x != y;
  case arith::CmpIPredicate::slt:
    return x < y;
  case arith::CmpIPredicate::ult:
    return ux < uy;
  case arith::CmpIPredicate::sle:
    return x <= y;
  case arith::CmpIPredicate::ule:
    return ux <= uy;
  case arith::CmpIPredicate::sgt:
    return x > y;
  case arith::CmpIPredicate::ugt:
    return ux > uy;
  case arith::CmpIPredicate::sge:
    return x >= y;
  case arith::CmpIPredicate::uge:
    return ux >= uy;
  }
  return std::nullopt;
}

/// arith.cmpf `pred` (ordered ones only) of x and y.
static std::optional<bool> evaluateCmpF(int64_t pred, double x, double y) {
  switch (static_cast<arith::CmpFPredicate>(pred)) {
  case arith::CmpFPredicate::OEQ:
    return x == y;
  case arith::CmpFPredicate::ONE:
    return x != y;
  case arith::CmpFPredicate::OLT:
    return x < y;
  case arith::CmpFPredicate::OLE:
    return x <= y;
  case arith::CmpFPredicate::OGT:
    return x > y;
  case arith::CmpFPredicate::OGE:
    return x >= y;
  default:
    return std::nullopt;
  }
}

/// The op node `e` applied to its evaluated arguments `a`.
static std::optional<Scalar> evaluateOp(const Expr *e, ArrayRef<Scalar> a,
                                        Scalar s) {
  auto fv = [&](double f) {
    s.f = f;
    s.i = int64_t(f);
    return s;
  };
  auto iv = [&](int64_t i) {
    s.i = i;
    s.f = double(i);
    return s;
  };
  auto cmp = [&](std::optional<bool> c) -> std::optional<Scalar> {
    if (!c)
      return std::nullopt;
    return iv(*c);
  };
  switch (e->fn) {
  case Fn::Add:
    return fv(a[0].f + a[1].f);
  case Fn::Sub:
    return fv(a[0].f - a[1].f);
  case Fn::Mul:
    return fv(a[0].f * a[1].f);
  case Fn::Div:
    return fv(a[0].f / a[1].f);
  case Fn::Neg:
    return fv(-a[0].f);
  case Fn::ExtF:
  case Fn::TruncF:
  case Fn::SIToFP:
    return fv(a[0].f);
  case Fn::FPToSI:
    return iv(int64_t(a[0].f));
  case Fn::IntCast:
    return iv(a[0].i);
  case Fn::AddI:
    return iv(a[0].i + a[1].i);
  case Fn::SubI:
    return iv(a[0].i - a[1].i);
  case Fn::MulI:
    return iv(a[0].i * a[1].i);
  case Fn::AndI:
    return iv(a[0].i & a[1].i);
  case Fn::OrI:
    return iv(a[0].i | a[1].i);
  case Fn::XOrI:
    return iv((a[0].i ^ a[1].i) & (e->type.isInteger(1) ? 1 : ~int64_t(0)));
  case Fn::Select:
    return a[0].i ? a[1] : a[2];
  case Fn::CmpI:
    return cmp(evaluateCmpI(e->pred, e->args[0]->type, a[0].i, a[1].i));
  case Fn::CmpF:
    return cmp(evaluateCmpF(e->pred, a[0].f, a[1].f));
  default:
    return std::nullopt;
  }
}

std::optional<Scalar> mlir::cp::detect::evaluate(const Expr *e,
                                                 ArrayRef<int64_t> pt) {
  Scalar s;
  s.isFloat = isa<FloatType>(e->type);
  switch (e->kind) {
  case Expr::Const:
    s.f = e->fval;
    s.i = e->ival;
    return s;
  case Expr::Index: {
    auto v = evalAffine(e->index, pt);
    if (!v)
      return std::nullopt;
    s.i = *v;
    s.f = double(*v);
    return s;
  }
  case Expr::Leaf:
    return evaluateLeaf(e, pt, s);
  case Expr::Op:
    break;
  default:
    return std::nullopt;
  }
  SmallVector<Scalar> a;
  for (const Expr *x : e->args) {
    auto v = evaluate(x, pt);
    if (!v)
      return std::nullopt;
    a.push_back(*v);
  }
  return evaluateOp(e, a, s);
}

static Value emitAffine(OpBuilder &b, Location loc, AffineExpr e,
                        ArrayRef<Value> dims) {
  switch (e.getKind()) {
  case AffineExprKind::DimId: {
    unsigned p = cast<AffineDimExpr>(e).getPosition();
    return p < dims.size() ? dims[p] : Value();
  }
  case AffineExprKind::Constant:
    return arith::ConstantIndexOp::create(
        b, loc, cast<AffineConstantExpr>(e).getValue());
  case AffineExprKind::Add:
  case AffineExprKind::Mul: {
    auto bin = cast<AffineBinaryOpExpr>(e);
    Value l = emitAffine(b, loc, bin.getLHS(), dims);
    Value r = emitAffine(b, loc, bin.getRHS(), dims);
    if (!l || !r)
      return {};
    if (e.getKind() == AffineExprKind::Add)
      return arith::AddIOp::create(b, loc, l, r);
    return arith::MulIOp::create(b, loc, l, r);
  }
  default:
    return {};
  }
}

static Value emitScalarImpl(OpBuilder &b, Location loc, const Expr *e,
                            ArrayRef<Value> dims,
                            llvm::StringMap<Value> &emitted);
static Value emitScalarNode(OpBuilder &b, Location loc, const Expr *e,
                            ArrayRef<Value> dims,
                            llvm::StringMap<Value> &emitted);

Value mlir::cp::detect::emitScalar(OpBuilder &b, Location loc, const Expr *e,
                                   ArrayRef<Value> dims) {
  llvm::StringMap<Value> emitted;
  return emitScalarImpl(b, loc, e, dims, emitted);
}

/// Emits each structurally distinct sub-expression once.
static Value emitScalarImpl(OpBuilder &b, Location loc, const Expr *e,
                            ArrayRef<Value> dims,
                            llvm::StringMap<Value> &emitted) {
  std::string key = toString(e);
  auto it = emitted.find(key);
  if (it != emitted.end())
    return it->second;
  Value v = emitScalarNode(b, loc, e, dims, emitted);
  if (v)
    emitted[key] = v;
  return v;
}

static Value emitScalarNode(OpBuilder &b, Location loc, const Expr *e,
                            ArrayRef<Value> dims,
                            llvm::StringMap<Value> &emitted) {
  Type t = e->type;
  switch (e->kind) {
  case Expr::Const:
    if (t.isIndex())
      return arith::ConstantIndexOp::create(b, loc, e->ival);
    if (auto it = dyn_cast<IntegerType>(t))
      return arith::ConstantIntOp::create(b, loc, it, e->ival);
    if (auto ft = dyn_cast<FloatType>(t))
      return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, e->fval));
    return {};
  case Expr::Index: {
    Value v = emitAffine(b, loc, e->index, dims);
    if (v && !t.isIndex() && isa<IntegerType>(t))
      v = arith::IndexCastOp::create(b, loc, t, v);
    return v;
  }
  case Expr::Op:
    break;
  default:
    return {};
  }
  // x & true == x: drop the all-true masks torch adds.
  if (e->fn == Fn::AndI) {
    if (e->args[1]->isConst(1))
      return emitScalarImpl(b, loc, e->args[0], dims, emitted);
    if (e->args[0]->isConst(1))
      return emitScalarImpl(b, loc, e->args[1], dims, emitted);
  }
  SmallVector<Value> a;
  for (const Expr *x : e->args) {
    Value v = emitScalarImpl(b, loc, x, dims, emitted);
    if (!v)
      return {};
    a.push_back(v);
  }
  switch (e->fn) {
  case Fn::IntCast: {
    Type from = a[0].getType();
    if (from == t)
      return a[0];
    if (from.isIndex() || t.isIndex())
      return arith::IndexCastOp::create(b, loc, t, a[0]);
    if (from.getIntOrFloatBitWidth() < t.getIntOrFloatBitWidth())
      return arith::ExtSIOp::create(b, loc, t, a[0]);
    return arith::TruncIOp::create(b, loc, t, a[0]);
  }
  case Fn::AddI:
    return arith::AddIOp::create(b, loc, a[0], a[1]);
  case Fn::SubI:
    return arith::SubIOp::create(b, loc, a[0], a[1]);
  case Fn::MulI:
    return arith::MulIOp::create(b, loc, a[0], a[1]);
  case Fn::AndI:
    return arith::AndIOp::create(b, loc, a[0], a[1]);
  case Fn::OrI:
    return arith::OrIOp::create(b, loc, a[0], a[1]);
  case Fn::XOrI:
    return arith::XOrIOp::create(b, loc, a[0], a[1]);
  case Fn::CmpI:
    if (a[0].getType() != a[1].getType())
      return {};
    return arith::CmpIOp::create(
        b, loc, static_cast<arith::CmpIPredicate>(e->pred), a[0], a[1]);
  case Fn::Select:
    return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
  // Float arithmetic, for score_mod biases.
  case Fn::Add:
    return arith::AddFOp::create(b, loc, a[0], a[1]);
  case Fn::Sub:
    return arith::SubFOp::create(b, loc, a[0], a[1]);
  case Fn::Mul:
    return arith::MulFOp::create(b, loc, a[0], a[1]);
  case Fn::Div:
    return arith::DivFOp::create(b, loc, a[0], a[1]);
  case Fn::Neg:
    return arith::NegFOp::create(b, loc, a[0]);
  case Fn::Max:
    return arith::MaximumFOp::create(b, loc, a[0], a[1]);
  case Fn::Min:
    return arith::MinimumFOp::create(b, loc, a[0], a[1]);
  case Fn::SIToFP:
    if (!isa<IntegerType>(a[0].getType()))
      return {};
    return arith::SIToFPOp::create(b, loc, t, a[0]);
  case Fn::ExtF:
    return arith::ExtFOp::create(b, loc, t, a[0]);
  case Fn::TruncF:
    return arith::TruncFOp::create(b, loc, t, a[0]);
  case Fn::CmpF:
    return arith::CmpFOp::create(
        b, loc, static_cast<arith::CmpFPredicate>(e->pred), a[0], a[1]);
  default:
    return {};
  }
}

std::string mlir::cp::detect::toString(const Expr *e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  switch (e->kind) {
  case Expr::Leaf:
    os << "leaf(";
    e->tensor.printAsOperand(os, OpPrintingFlags());
    if (e->map)
      os << ", " << e->map;
    os << ")";
    break;
  case Expr::Const:
    os << e->fval << ":" << e->type;
    break;
  case Expr::Index:
    os << "idx(" << e->index << "):" << e->type;
    break;
  case Expr::Softmax:
    os << "softmax[d" << e->dim << "](" << toString(e->args[0]) << ")";
    break;
  default:
    os << (e->kind == Expr::Reduce ? "reduce" : "op") << int(e->fn) << "/"
       << e->pred << ":" << e->type << "(";
    llvm::interleaveComma(e->args, os,
                          [&](const Expr *a) { os << toString(a); });
    os << ")";
  }
  return s;
}
