//===- DetectAttentionOperands.cpp - the Matcher's primitives -------------===//
//
// The Matcher's reading primitives: a contraction at an expression leaf,
// a (safe) softmax and the dim it normalises over, and an attention
// operand (q, k, v or a mask) read along the attention dims, possibly
// through reshapes, a narrowing extf or GQA head repetition.
//
//===----------------------------------------------------------------------===//

#include "DetectAttentionPlan.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace mlir::cp::detect {

FailureOr<Contraction> Matcher::contractionAt(const Expr *leaf,
                                              ArrayRef<int64_t> sizes) {
  if (leaf->kind != Expr::Leaf || !leaf->map ||
      !isContractionProducer(leaf->tensor))
    return fail("expected a matmul-like contraction");
  Operation *op = leaf->tensor.getDefiningOp();
  AffineMap m = leaf->map;
  unsigned n = sizes.size();
  Contraction c;
  c.sizes.assign(sizes.begin(), sizes.end());
  AffineExpr kd = getAffineDimExpr(n, ctx);
  auto zero = [&](Value v, AffineMap map) {
    const Expr *e = B.expand(v, map, sizes);
    return e->kind == Expr::Const && e->fval == 0;
  };
  if (auto mm = dyn_cast<tosa::MatMulOp>(op)) {
    AffineMap zp = AffineMap::get(n, 0, {getAffineConstantExpr(0, ctx)}, ctx);
    if (!zero(op->getOperand(2), zp) || !zero(op->getOperand(3), zp))
      return fail("tosa.matmul with non-zero zero points");
    auto k = cast<RankedTensorType>(op->getOperand(0).getType()).getDimSize(2);
    c.sizes.push_back(k);
    AffineExpr r0 = m.getResult(0), r1 = m.getResult(1), r2 = m.getResult(2);
    c.lhs = B.expand(op->getOperand(0),
                     AffineMap::get(n + 1, 0, {r0, r1, kd}, ctx), c.sizes);
    c.rhs = B.expand(op->getOperand(1),
                     AffineMap::get(n + 1, 0, {r0, kd, r2}, ctx), c.sizes);
    B.visited.insert(op);
    return c;
  }
  auto lop = cast<linalg::LinalgOp>(op);
  if (lop.getNumDpsInputs() != 2 || lop.getNumDpsInits() != 1)
    return fail("expected a contraction of two operands");
  // Multiply-add bodies only, with at most a widening of the inputs to the
  // accumulator type (bf16 inputs, f32 accumulation).
  Type et = cast<ShapedType>(leaf->tensor.getType()).getElementType();
  if (!isa<FloatType>(et))
    return fail("integer contraction");
  for (Operation &bop : lop.getBlock()->getOperations()) {
    if (isa<arith::MulFOp, arith::AddFOp, linalg::YieldOp>(bop))
      continue;
    auto ext = dyn_cast<arith::ExtFOp>(bop);
    if (!ext || !isa<BlockArgument>(ext.getIn()) || ext.getType() != et)
      return fail("contraction body is not a plain multiply-add");
  }
  if (lop.getBlock()->getOperations().size() > 5)
    return fail("contraction body is not a plain multiply-add");
  OpOperand *init = lop.getDpsInitOperand(0);
  AffineMap outMap = lop.getMatchingIndexingMap(init);
  if (!zero(init->get(), m))
    return fail("contraction does not start from zero");
  unsigned nLoops = lop.getNumLoops();
  SmallVector<AffineExpr> sub(nLoops);
  for (unsigned p = 0; p < outMap.getNumResults(); ++p) {
    auto d = dyn_cast<AffineDimExpr>(outMap.getResult(p));
    if (!d)
      return fail("contraction output map is not a projection");
    sub[d.getPosition()] = m.getResult(p);
  }
  auto iters = lop.getIteratorTypesArray();
  SmallVector<int64_t> ranges = lop.getStaticLoopRanges();
  for (unsigned l = 0; l < nLoops; ++l) {
    if (iters[l] == utils::IteratorType::reduction) {
      sub[l] = kd;
      c.sizes.push_back(ranges[l]);
    }
    if (!sub[l])
      return fail("contraction loop not in the output");
  }
  AffineMap subMap = AffineMap::get(n + 1, 0, sub, ctx);
  SmallVector<const Expr *, 2> ins;
  for (OpOperand *in : lop.getDpsInputOperands()) {
    const Expr *e = B.expand(
        in->get(), lop.getMatchingIndexingMap(in).compose(subMap), c.sizes);
    if (e->type != et)
      e = B.makeOp(Fn::ExtF, et, {e});
    ins.push_back(e);
  }
  c.lhs = ins[0];
  c.rhs = ins[1];
  B.visited.insert(op);
  return c;
}

/// Which dim of `like`'s space the reduction `reduce` runs over, found by
/// renaming its reduced dim to each candidate and comparing its body with
/// `like` (with allowExt, also `extf(like)`).
std::optional<unsigned> Matcher::reducedDim(const Expr *reduce,
                                            const Expr *like,
                                            ArrayRef<int64_t> sizes,
                                            bool allowExt) {
  unsigned n = sizes.size();
  for (unsigned t = 0; t < n; ++t) {
    SmallVector<AffineExpr> sub;
    for (unsigned d = 0; d < n; ++d)
      sub.push_back(dimOrZero(d, sizes));
    sub.push_back(dimOrZero(t, sizes));
    const Expr *body = B.rename(reduce->args[0], sub, sizes);
    if (allowExt && body->kind == Expr::Op && body->fn == Fn::ExtF)
      body = body->args[0];
    const Expr *src = reduce->args[0];
    if (equal(body, like) || sameSource(src, like, sub, sizes) ||
        (allowExt && src->isOp(Fn::ExtF) &&
         sameSource(src->args[0], like, sub, sizes)))
      return t;
  }
  return std::nullopt;
}

/// Whether `body` (in the reduction's space) read with its reduced dim
/// renamed by `sub` reads the same tensor at the same indices as `like`:
/// then both are the same values, whatever the tensor's own expansion
/// (data-dependent masks can expand into trees that rename differently).
bool Matcher::sameSource(const Expr *body, const Expr *like,
                         ArrayRef<AffineExpr> sub, ArrayRef<int64_t> sizes) {
  for (const auto &[v, m] : body->srcs) {
    AffineMap renamed = simplifyWithRanges(
        m.replaceDimsAndSymbols(sub, {}, sizes.size(), 0), sizes);
    for (const auto &[v2, m2] : like->srcs)
      if (v == v2 && renamed == simplifyWithRanges(m2, sizes))
        return true;
  }
  return false;
}

FailureOr<Matcher::Softmax> Matcher::softmaxOf(const Expr *p,
                                               ArrayRef<int64_t> sizes) {
  // Probabilities rounded to a narrower type and widened back for the P·V
  // matmul (bf16 P, f32 accumulation): as flash kernels do.
  if (p->isOp(Fn::ExtF) && p->args[0]->isOp(Fn::TruncF))
    p = p->args[0]->args[0];
  // Safe softmax: where(all(scores == -inf), 0, softmax(scores)).
  const Expr *allMasked = nullptr;
  if (p->isOp(Fn::Select) && p->args[1]->isConst(0)) {
    allMasked = p->args[0];
    p = p->args[2];
  }
  Softmax s;
  if (p->kind == Expr::Softmax) {
    s.scores = p->args[0];
    s.dim = p->dim;
  } else {
    const Expr *num = nullptr, *den = nullptr;
    // 1/x as tosa.reciprocal or as a division of one.
    auto recipOf = [](const Expr *e) -> const Expr * {
      if (e->isOp(Fn::Recip))
        return e->args[0];
      if (e->isOp(Fn::Div) && e->args[0]->isConst(1))
        return e->args[1];
      return nullptr;
    };
    if (p->isOp(Fn::Div)) {
      num = p->args[0];
      den = p->args[1];
    } else if (p->isOp(Fn::Mul) && recipOf(p->args[1])) {
      num = p->args[0];
      den = recipOf(p->args[1]);
    } else if (p->isOp(Fn::Mul) && recipOf(p->args[0])) {
      num = p->args[1];
      den = recipOf(p->args[0]);
    }
    if (!num) {
      if ((p->isOp(Fn::Mul) || p->isOp(Fn::Div)) &&
          (p->args[1]->kind == Expr::Const || p->args[0]->kind == Expr::Const))
        return fail("a scale is applied after the softmax");
      return fail("the P·V operand is not a softmax");
    }
    if (!num->isOp(Fn::Exp))
      return fail("the softmax numerator is not an exp");
    if (den->kind != Expr::Reduce || den->fn != Fn::Add)
      return fail("the softmax denominator is not a sum");
    const Expr *arg = num->args[0];
    std::optional<unsigned> maxDim;
    if (arg->isOp(Fn::Sub) && arg->args[1]->kind == Expr::Reduce &&
        arg->args[1]->fn == Fn::Max) {
      s.scores = arg->args[0];
      maxDim = reducedDim(arg->args[1], s.scores, sizes, false);
      if (!maxDim)
        return fail("the max subtracted before the exp is not taken over the "
                    "same scores");
    } else {
      s.scores = arg;
    }
    std::optional<unsigned> sumDim = reducedDim(den, num, sizes, false);
    if (!sumDim)
      return fail("the softmax sum is not taken over its exp");
    if (maxDim && *maxDim != *sumDim)
      return fail("the softmax max and sum run over different dims");
    s.dim = *sumDim;
  }
  if (allMasked) {
    // all(scores == -inf) over the softmax dim.
    if (allMasked->kind != Expr::Reduce || allMasked->fn != Fn::AndI)
      return fail("the safe-softmax condition is not an all-reduction");
    const Expr *cmp = allMasked->args[0];
    if (!cmp->isOp(Fn::CmpF) ||
        static_cast<arith::CmpFPredicate>(cmp->pred) !=
            arith::CmpFPredicate::OEQ ||
        !cmp->args[1]->isConst(kNegInf))
      return fail("the safe-softmax condition is not `scores == -inf`");
    // Compare the reduced body's lhs against the scores.
    Expr probe = *allMasked;
    probe.args = {cmp->args[0]};
    std::optional<unsigned> d = reducedDim(&probe, s.scores, sizes, true);
    if (!d || *d != s.dim)
      return fail("the safe-softmax condition does not test the softmax "
                  "scores along the softmax dim");
  }
  return s;
}

FailureOr<Operand> Matcher::operandOf(const Expr *e, ArrayRef<AffineExpr> want,
                                      ArrayRef<int64_t> sizes, unsigned headPos,
                                      bool allowGqa, bool narrow,
                                      StringRef what) {
  Operand o;
  if (narrow) {
    if (!e->isOp(Fn::ExtF))
      return fail(what + " is not widened from the output's element type");
    e = e->args[0];
    o.narrow = true;
  } else if (e->isOp(Fn::ExtF) && e->srcs.empty()) {
    // Widened inside a contraction body: widen the tensor instead.
    o.widenTo = e->type;
    e = e->args[0];
  }
  SmallVector<std::pair<Value, AffineMap>> reads(e->srcs.begin(),
                                                 e->srcs.end());
  if (e->kind == Expr::Leaf && e->map)
    reads.insert(reads.begin(), {e->tensor, e->map});
  if (reads.empty())
    return fail(what + " is not a tensor");
  // A tensor read along the attention dims: one that needs no reshape or
  // transpose if there is one, else the innermost.
  std::string saved = std::move(why), firstWhy;
  std::optional<Operand> best;
  for (auto [base, map] : reads) {
    why.clear();
    FailureOr<Operand> r =
        readAlong(base, map, want, sizes, headPos, allowGqa, what);
    if (failed(r)) {
      if (firstWhy.empty())
        firstWhy = why;
      continue;
    }
    r->narrow = o.narrow;
    r->widenTo = o.widenTo;
    bool direct = r->collapse.empty() &&
                  llvm::all_of(llvm::enumerate(r->perm), [](auto it) {
                    return int64_t(it.index()) == it.value();
                  });
    // Prefer un-repeated key/value heads (GQA), then no reshape/transpose.
    bool bestDirect = best && best->collapse.empty() &&
                      llvm::all_of(llvm::enumerate(best->perm), [](auto it) {
                        return int64_t(it.index()) == it.value();
                      });
    if (!best || r->rep > best->rep ||
        (r->rep == best->rep && direct && !bestDirect))
      best = *r;
  }
  if (best) {
    why = saved;
    return *best;
  }
  why = saved.empty() ? firstWhy : saved;
  return failure();
}

FailureOr<Operand> Matcher::readAlong(Value base, AffineMap map,
                                      ArrayRef<AffineExpr> want,
                                      ArrayRef<int64_t> sizes, unsigned headPos,
                                      bool allowGqa, StringRef what) {
  Operand o;
  if (map.getNumResults() > want.size()) {
    // Group consecutive dims whose linearised index is one attention dim
    // (a split head dim as RoPE's stack/flatten leaves it).
    auto shape = cast<ShapedType>(base.getType()).getShape();
    SmallVector<AffineExpr> grouped;
    unsigned p = 0, n = map.getNumResults();
    bool ok = !ShapedType::isDynamicShape(shape);
    while (ok && p < n) {
      bool found = false;
      for (unsigned end = p + 1; end <= n && !found; ++end) {
        AffineExpr lin = getAffineConstantExpr(0, ctx);
        for (unsigned q = p; q < end; ++q)
          lin = lin * shape[q] + map.getResult(q);
        lin = simplifyWithRanges(lin, sizes);
        bool isHead = allowGqa && headPos < want.size() &&
                      lin.getKind() == AffineExprKind::FloorDiv &&
                      cast<AffineBinaryOpExpr>(lin).getLHS() == want[headPos];
        if (llvm::is_contained(want, lin) || isHead) {
          ReassociationIndices g;
          for (unsigned q = p; q < end; ++q)
            g.push_back(q);
          o.collapse.push_back(g);
          grouped.push_back(lin);
          p = end;
          found = true;
        }
      }
      if (!found)
        ok = false;
    }
    if (ok && grouped.size() == want.size())
      map = AffineMap::get(map.getNumDims(), 0, grouped, ctx);
    else
      o.collapse.clear();
  }
  if (map.getNumResults() != want.size())
    return fail(llvm::formatv("{0} has rank {1}, expected {2}", what,
                              map.getNumResults(), want.size()));
  SmallVector<int64_t> perm(want.size(), -1);
  SmallVector<bool> used(want.size(), false);
  for (unsigned p = 0; p < map.getNumResults(); ++p) {
    AffineExpr r = map.getResult(p);
    bool found = false;
    for (unsigned t = 0; t < want.size() && !found; ++t) {
      if (perm[t] != -1)
        continue;
      if (r == want[t]) {
        found = true;
      } else if (allowGqa && t == headPos &&
                 r.getKind() == AffineExprKind::FloorDiv) {
        auto b = cast<AffineBinaryOpExpr>(r);
        auto c = dyn_cast<AffineConstantExpr>(b.getRHS());
        if (b.getLHS() == want[t] && c && c.getValue() > 1) {
          o.rep = c.getValue();
          found = true;
        }
      }
      if (found) {
        perm[t] = p;
        used[p] = true;
      }
    }
    if (!found)
      return fail(what + " is not read along the attention dims (its index " +
                  std::to_string(p) +
                  " is neither a batch, head, sequence "
                  "nor head-dim index)");
  }
  o.base = base;
  o.perm = perm;
  return o;
}

} // namespace mlir::cp::detect
