//===- DetectAttentionMatch.cpp - match attention to a plan ---------------===//
//
// Matcher::match and its steps: from the output, the P·V contraction, the
// softmax, the roles of the output dims, the score terms (mask fills,
// soft-capping, scales) and the q·kᵀ contraction, down to q, k and v.
// The masks are sorted out in DetectAttentionMasks.cpp, the operands read
// in DetectAttentionOperands.cpp.
//
//===----------------------------------------------------------------------===//

#include "DetectAttentionPlan.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace mlir::cp::detect {

/// Whether `v` (a score added or selected at masked positions) masks.
bool isMaskFillValue(double v) { return v == kNegInf || v <= kMaskFillLimit; }

/// Whether `e` is a constant mask fill: -inf or a large finite negative.
bool isMaskFill(const Expr *e) {
  return e->kind == Expr::Const && isa<FloatType>(e->type) &&
         isMaskFillValue(e->fval);
}

bool isContractionProducer(Value v) {
  Operation *op = v.getDefiningOp();
  if (!op)
    return false;
  if (isa<tosa::MatMulOp>(op))
    return true;
  auto lop = dyn_cast<linalg::LinalgOp>(op);
  return lop && lop.hasPureTensorSemantics() &&
         linalg::isaContractionOpInterface(lop) &&
         lop.getNumReductionLoops() == 1;
}

namespace {

/// Logit soft-capping `tanh(x / c) · c` (or `tanh(x · (1/c)) · c`), with a
/// positive constant c: returns x and sets `cap`, else null.
const Expr *peelSoftcap(const Expr *t, double &cap) {
  if (!t->isOp(Fn::Mul))
    return nullptr;
  const Expr *th = t->args[0], *c = t->args[1];
  if (th->kind == Expr::Const)
    std::swap(th, c);
  if (!th->isOp(Fn::Tanh) || c->kind != Expr::Const ||
      !isa<FloatType>(c->type) || !(c->fval > 0))
    return nullptr;
  const Expr *u = th->args[0];
  auto near = [](double a, double b) {
    return std::abs(a - b) <= 1e-6 * std::abs(b);
  };
  if (u->isOp(Fn::Div) && u->args[1]->kind == Expr::Const &&
      near(u->args[1]->fval, c->fval)) {
    cap = c->fval;
    return u->args[0];
  }
  if (u->isOp(Fn::Mul)) {
    const Expr *x = u->args[0], *inv = u->args[1];
    if (x->kind == Expr::Const)
      std::swap(x, inv);
    if (inv->kind == Expr::Const && isa<FloatType>(inv->type) &&
        near(inv->fval * c->fval, 1.0)) {
      cap = c->fval;
      return x;
    }
  }
  return nullptr;
}

/// Multiplications and divisions by float constants peeled off `t`: returns
/// what they scale and multiplies `scale` by their factor.
const Expr *peelScale(const Expr *t, double &scale) {
  while (true) {
    if (t->isOp(Fn::Mul) && t->args[1]->kind == Expr::Const &&
        isa<FloatType>(t->args[1]->type)) {
      scale *= t->args[1]->fval;
      t = t->args[0];
    } else if (t->isOp(Fn::Mul) && t->args[0]->kind == Expr::Const &&
               isa<FloatType>(t->args[0]->type)) {
      scale *= t->args[0]->fval;
      t = t->args[1];
    } else if (t->isOp(Fn::Div) && t->args[1]->kind == Expr::Const) {
      scale /= t->args[1]->fval;
      t = t->args[0];
    } else {
      return t;
    }
  }
}

} // namespace

FailureOr<Plan> Matcher::match(Value root) {
  MatchState s;
  s.plan.root = root;
  FailureOr<Contraction> pv = findValueContraction(s);
  if (failed(pv) || failed(findSoftmax(s, *pv)) || failed(assignOutputDims(s)))
    return failure();
  s.plan.rank = s.R;
  s.plan.batch = s.batch;
  s.plan.qDim = s.qDim;
  s.plan.eDim = s.eDim;
  FailureOr<const Expr *> scores = peelMaskFills(s);
  if (failed(scores) || failed(splitScoreTerms(s, *scores)) ||
      failed(findScoreContraction(s)) || failed(resolveQKV(s)) ||
      failed(collectMasks(s)) || failed(resolvePositionalMasks(s)))
    return failure();
  Plan &plan = s.plan;
  plan.mask = s.tensorMask;
  if (s.tensorMask && (plan.keep || plan.bias || plan.softcap) &&
      s.batch.size() != 2)
    return fail("a tensor mask together with a mask_mod or score_mod on "
                "attention that is not [B, H, S, D]");
  if (!std::isfinite(plan.scale) || plan.scale == 0)
    return fail("the scale is not finite and non-zero");
  return plan;
}

FailureOr<Contraction> Matcher::findValueContraction(MatchState &s) {
  auto rootTy = dyn_cast<RankedTensorType>(s.plan.root.getType());
  if (!rootTy || rootTy.getRank() < 2)
    return fail("the output is not a ranked tensor of rank >= 2");
  s.rootTy = rootTy;
  s.R = rootTy.getRank();
  s.J = s.R;
  s.Dd = s.R + 1;
  Sizes sizes(rootTy.getShape());
  const Expr *out = B.expand(
      s.plan.root, AffineMap::getMultiDimIdentityMap(s.R, ctx), sizes);
  if (out->isOp(Fn::TruncF)) {
    s.truncated = true;
    out = out->args[0];
  }
  if (out->kind != Expr::Leaf || !out->map ||
      !isContractionProducer(out->tensor))
    return fail("the output is not produced by a P·V contraction");
  FailureOr<Contraction> pv = contractionAt(out, sizes);
  if (failed(pv))
    return failure();
  s.sj = pv->sizes;
  return pv;
}

LogicalResult Matcher::findSoftmax(MatchState &s, const Contraction &pv) {
  // P is the softmax operand; V the other one.
  s.pExpr = pv.lhs;
  s.vExpr = pv.rhs;
  FailureOr<Softmax> sm = softmaxOf(s.pExpr, s.sj);
  if (failed(sm)) {
    std::string firstWhy = why;
    why.clear();
    sm = softmaxOf(pv.rhs, s.sj);
    if (failed(sm)) {
      why = firstWhy;
      return failure();
    }
    std::swap(s.pExpr, s.vExpr);
  }
  s.scores = sm->scores;
  s.softmaxDim = sm->dim;
  return success();
}

LogicalResult Matcher::assignOutputDims(MatchState &s) {
  // Roles of the output dims: by default [batch..., query, value head dim];
  // when exactly one output dim is read only by P (the query) and exactly
  // one only by V (its head dim), that layout is taken (e.g. [B, S, H, D]).
  unsigned R = s.R;
  s.qDim = R - 2;
  s.eDim = R - 1;
  SmallVector<unsigned> onlyP, onlyV;
  for (unsigned d = 0; d < R; ++d) {
    bool p = usesDim(s.pExpr, d), v = usesDim(s.vExpr, d);
    if (p && !v)
      onlyP.push_back(d);
    if (v && !p)
      onlyV.push_back(d);
  }
  if (onlyP.size() == 1 && onlyV.size() == 1) {
    s.qDim = onlyP[0];
    s.eDim = onlyV[0];
  }
  for (unsigned d = 0; d < R; ++d)
    if (d != s.qDim && d != s.eDim)
      s.batch.push_back(d);
  if (s.softmaxDim != s.J) {
    // Softmax over the wrong dim, or P·V over the wrong dim: either way the
    // normalised dim is not the contracted one.
    unsigned dim = s.softmaxDim;
    std::string which = dim == s.qDim   ? " (the query dim)"
                        : dim == s.eDim ? " (the value's head dim)"
                                        : " (a batch dim)";
    return fail(llvm::formatv("the softmax normalises over dim {0} of the "
                              "output{1}, not over the key dim that P·V "
                              "contracts",
                              dim, which));
  }
  return success();
}

FailureOr<const Expr *> Matcher::peelMaskFills(MatchState &s) {
  // Scores: [select(keep, ...)] sum of terms, one of them scale · q·kᵀ.
  const Expr *x = s.scores;
  // masked_fill with -inf or a large finite fill, written either way round:
  // select(keep, scores, fill) or select(masked, fill, scores).
  auto boolTy = IntegerType::get(ctx, 1);
  while (x->isOp(Fn::Select)) {
    if (isMaskFill(x->args[2])) {
      s.keeps.push_back(x->args[0]);
      x = x->args[1];
    } else if (isMaskFill(x->args[1])) {
      const Expr *masked = x->args[0];
      s.keeps.push_back(masked->isOp(Fn::XOrI) && masked->args[1]->isConst(1)
                            ? masked->args[0]
                            : B.makeOp(Fn::XOrI, boolTy,
                                       {masked, B.makeConst(boolTy, 1, 1)}));
      x = x->args[2];
    } else {
      break;
    }
  }
  if (x->isOp(Fn::Select) && x->args[2]->kind == Expr::Const &&
      isa<FloatType>(x->args[2]->type))
    return fail(llvm::formatv("masked scores are filled with {0:e}, which "
                              "does not mask (a mask fills -inf or at most "
                              "{1:e})",
                              x->args[2]->fval, kMaskFillLimit));
  return x;
}

LogicalResult Matcher::splitScoreTerms(MatchState &s, const Expr *x) {
  SmallVector<const Expr *> terms;
  std::function<void(const Expr *)> flatten = [&](const Expr *t) {
    if (t->isOp(Fn::Add)) {
      flatten(t->args[0]);
      flatten(t->args[1]);
    } else {
      terms.push_back(t);
    }
  };
  flatten(x);
  Plan &plan = s.plan;
  const Expr *cappedTerm = nullptr;
  for (const Expr *&t : terms) {
    double cap = 0;
    if (const Expr *capped = peelSoftcap(t, cap)) {
      if (plan.softcap)
        return fail("the scores are soft-capped twice");
      plan.softcap = cap;
      t = cappedTerm = capped;
    }
  }
  for (const Expr *t : terms) {
    double scale = 1.0;
    const Expr *inner = peelScale(t, scale);
    if (inner->kind == Expr::Leaf && inner->map &&
        isContractionProducer(inner->tensor)) {
      if (s.qk)
        return fail("the scores add two contractions");
      if (cappedTerm && t != cappedTerm)
        return fail("soft-capping is applied to something other than q·kᵀ");
      s.qk = inner;
      plan.scale *= scale;
    } else {
      s.maskTerms.push_back(t);
    }
  }
  if (cappedTerm && (!s.qk || llvm::is_contained(s.maskTerms, cappedTerm)))
    return fail("soft-capping is applied to something other than q·kᵀ");
  if (!s.qk) {
    if (terms.size() == 1 && terms[0]->isOp(Fn::Mul))
      return fail("the scale is applied to the masked scores, not to q·kᵀ");
    return fail("the softmax input is not q·kᵀ (plus a mask)");
  }
  return success();
}

LogicalResult Matcher::findScoreContraction(MatchState &s) {
  FailureOr<Contraction> qkc = contractionAt(s.qk, s.sj);
  if (failed(qkc))
    return failure();
  s.sjd = qkc->sizes; // + Dd (the head dim of q and k)
  // Which of the two reads the query dim.
  const Expr *qE = qkc->lhs, *kE = qkc->rhs;
  if (usesDim(qE, s.J) && !usesDim(kE, s.J))
    std::swap(qE, kE);
  s.qUnscaled = qE;
  s.kUnscaled = kE;
  s.qE = peelScale(qE, s.sq);
  s.kE = peelScale(kE, s.sk);
  s.plan.scale *= s.sq * s.sk;
  s.headPos = s.R >= 3 ? s.R - 3 : ~0u;
  return success();
}

SmallVector<AffineExpr> Matcher::canon(const MatchState &s, unsigned seqDim,
                                       unsigned lastDim,
                                       ArrayRef<int64_t> sz) {
  SmallVector<AffineExpr> w;
  for (unsigned d : s.batch)
    w.push_back(dimOrZero(d, sz));
  w.push_back(dimOrZero(seqDim, sz));
  w.push_back(dimOrZero(lastDim, sz));
  return w;
}

// Resolves a query/key operand from its peeled expression or, when the
// scale multiplies a tensor that is not laid out along the attention dims
// (OPT scales the [B, S, H*D] projection before the head split), from the
// scaled expression itself, keeping the scale in the operand.
FailureOr<Operand> Matcher::operandOrScaled(MatchState &s, const Expr *&e,
                                            const Expr *unscaled,
                                            double &peeled,
                                            ArrayRef<AffineExpr> want,
                                            ArrayRef<int64_t> sizes, bool gqa,
                                            StringRef what) {
  bool nar = s.truncated;
  std::string before = why;
  FailureOr<Operand> r = operandOf(e, want, sizes, s.headPos, gqa, nar, what);
  if (succeeded(r) || e == unscaled)
    return r;
  std::string peeledWhy = why;
  why = before;
  r = operandOf(unscaled, want, sizes, s.headPos, gqa, nar, what);
  if (failed(r)) {
    why = peeledWhy;
    return failure();
  }
  s.plan.scale /= peeled;
  peeled = 1.0;
  e = unscaled;
  return r;
}

LogicalResult Matcher::resolveOperands(MatchState &s, bool gqa) {
  auto q = operandOrScaled(s, s.qE, s.qUnscaled, s.sq,
                           canon(s, s.qDim, s.Dd, s.sjd), s.sjd, false,
                           "the query");
  if (failed(q))
    return failure();
  auto k = operandOrScaled(s, s.kE, s.kUnscaled, s.sk,
                           canon(s, s.J, s.Dd, s.sjd), s.sjd, gqa, "the key");
  if (failed(k))
    return failure();
  auto v = operandOf(s.vExpr, canon(s, s.J, s.eDim, s.sj), s.sj, s.headPos,
                     gqa, s.truncated, "the value");
  if (failed(v))
    return failure();
  s.plan.q = *q;
  s.plan.k = *k;
  s.plan.v = *v;
  return success();
}

LogicalResult Matcher::resolveQKV(MatchState &s) {
  if (failed(resolveOperands(s, /*gqa=*/true)))
    return failure();
  Plan &plan = s.plan;
  // Key and value must share their head grouping; else use repeated heads.
  if (plan.k.rep != plan.v.rep && failed(resolveOperands(s, /*gqa=*/false)))
    return failure();
  Type outET = s.rootTy.getElementType();
  for (Operand *o : {&plan.q, &plan.k, &plan.v})
    if ((o->widenTo
             ? o->widenTo
             : cast<ShapedType>(o->base.getType()).getElementType()) != outET)
      return fail(s.truncated
                      ? "the widened operands and the truncated output "
                        "have different element types"
                      : "the operands and the output have different "
                        "element types");
  return success();
}

} // namespace mlir::cp::detect
