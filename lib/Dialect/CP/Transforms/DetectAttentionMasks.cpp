//===- DetectAttentionMasks.cpp - attention masks and biases --------------===//
//
// The Matcher's mask steps: masked_fill keeps and additive score terms
// are sorted into one data mask tensor, document ids, and positional
// masks and biases, which become causal, a mask_mod or a score_mod
// (checked emittable by a dry run of emitScalar).
//
//===----------------------------------------------------------------------===//

#include "DetectAttentionPlan.h"

#include "mlir/IR/Block.h"

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace mlir::cp::detect {

namespace {

bool canEmitModifier(const Expr *e, bool isMask, unsigned rank,
                     ArrayRef<unsigned> batch, unsigned qDim);

} // namespace

LogicalResult Matcher::addTensorMask(MatchState &s, const Expr *m,
                                     bool isBool) {
  Value base;
  AffineMap map;
  if (m->kind == Expr::Leaf && m->map) {
    base = m->tensor;
    map = m->map;
  } else if (!m->srcs.empty()) {
    std::tie(base, map) = m->srcs.back();
  } else {
    return fail("the mask depends on data in an unsupported way");
  }
  Type et = cast<ShapedType>(base.getType()).getElementType();
  if (isBool != et.isInteger(1) || (!isBool && !isa<FloatType>(et)))
    return fail("the mask depends on data in an unsupported way");
  if (s.tensorMask)
    return fail("more than one tensor mask");
  // Broadcastable to [batch..., Lq, Lkv], aligned at the trailing dims.
  SmallVector<AffineExpr> target = canon(s, s.qDim, s.J, s.sj);
  unsigned mr = map.getNumResults();
  if (mr > target.size())
    return fail("the mask has a higher rank than the scores");
  auto shape = cast<ShapedType>(base.getType()).getShape();
  for (unsigned p = 0; p < mr; ++p) {
    AffineExpr r = map.getResult(p);
    AffineExpr t = target[target.size() - mr + p];
    bool bcast = shape[p] == 1 && isa<AffineConstantExpr>(r) &&
                 cast<AffineConstantExpr>(r).getValue() == 0;
    if (r != t && !bcast)
      return fail("the mask is not read as [batch..., query, key] "
                  "(transposed or sliced masks are not raised)");
  }
  s.tensorMask = base;
  s.plan.maskMap = map;
  s.plan.maskIsBool = isBool;
  return success();
}

bool Matcher::takeDocument(MatchState &s, std::optional<DocumentIds> d) {
  if (!d || (s.plan.doc &&
             (s.plan.doc->ids != d->ids || s.plan.doc->batched != d->batched)))
    return false;
  s.plan.doc = d;
  return true;
}

LogicalResult Matcher::addKeep(MatchState &s, const Expr *p) {
  if (takeDocument(s, matchDocumentKeep(p, scoreDims(s))))
    return success();
  if (isPositional(p)) {
    s.positionalKeeps.push_back(p);
    return success();
  }
  if (p->isOp(Fn::XOrI) && p->args[1]->isConst(1))
    return fail("the mask keeps the positions where a data-dependent "
                "condition is false");
  if (p->isOp(Fn::AndI)) {
    if (p->args[1]->isConst(1))
      return addKeep(s, p->args[0]);
    if (p->args[0]->isConst(1))
      return addKeep(s, p->args[1]);
    // keep = a & b: both are keeps (e.g. causal & padding mask). When
    // the parts do not resolve (two data tensors, say), the whole keep
    // is taken as one mask tensor if it was materialised.
    size_t nPos = s.positionalKeeps.size();
    Value savedMask = s.tensorMask;
    std::string savedWhy = why;
    if (succeeded(addKeep(s, p->args[0])) && succeeded(addKeep(s, p->args[1])))
      return success();
    s.positionalKeeps.resize(nPos);
    s.tensorMask = savedMask;
    why = savedWhy;
    return addTensorMask(s, p, /*isBool=*/true);
  }
  return addTensorMask(s, p, /*isBool=*/true);
}

LogicalResult Matcher::collectMasks(MatchState &s) {
  // Masks: additive terms and keep predicates.
  auto boolType = IntegerType::get(ctx, 1);
  for (const Expr *k : s.keeps)
    if (failed(addKeep(s, k)))
      return failure();
  for (const Expr *m : s.maskTerms) {
    if (m->isOp(Fn::Select) && m->args[1]->isConst(0) &&
        isMaskFill(m->args[2])) {
      if (failed(addKeep(s, m->args[0])))
        return failure();
      continue;
    }
    if (m->isOp(Fn::Select) && isMaskFill(m->args[1]) &&
        m->args[2]->isConst(0)) {
      const Expr *c = m->args[0];
      if (c->isOp(Fn::XOrI) && c->args[1]->isConst(1)) {
        if (failed(addKeep(s, c->args[0])))
          return failure();
        continue;
      }
      if (takeDocument(s, matchDocumentMasked(c, scoreDims(s))))
        continue;
      if (isPositional(c)) {
        s.positionalKeeps.push_back(
            B.makeOp(Fn::XOrI, boolType, {c, B.makeConst(boolType, 1, 1)}));
        continue;
      }
      return fail("the mask keeps the positions where a data-dependent "
                  "condition is false");
    }
    if (isPositional(m)) {
      s.positionalAdds.push_back(m);
      continue;
    }
    if (failed(addTensorMask(s, m, /*isBool=*/false)))
      return failure();
  }
  return success();
}

const Expr *Matcher::conjunction(ArrayRef<const Expr *> keeps) {
  auto boolType = IntegerType::get(ctx, 1);
  const Expr *keep = keeps.front();
  for (const Expr *e : keeps.drop_front())
    keep = B.makeOp(Fn::AndI, boolType, {keep, e});
  return keep;
}

LogicalResult Matcher::resolvePositionalMasks(MatchState &s) {
  if (s.positionalKeeps.empty() && s.positionalAdds.empty())
    return success();
  auto allPositional =
      llvm::concat<const Expr *const>(s.positionalKeeps, s.positionalAdds);
  for (const Expr *e : allPositional)
    if (usesDim(e, s.eDim))
      return fail("the position mask depends on the value's head dim");
  bool usesBatch = false;
  for (unsigned d : s.batch)
    for (const Expr *e : allPositional)
      usesBatch |= usesDim(e, d);
  if (usesBatch && s.batch.size() != 2)
    return fail("the position mask depends on collapsed batch/head dims");
  // Evaluate over [Lq, Lkv] when static and not too large.
  int64_t lq = s.sj[s.qDim], lkv = s.sj[s.J];
  bool canEval = !usesBatch && !ShapedType::isDynamic(lq) &&
                 !ShapedType::isDynamic(lkv) && lq * lkv <= (int64_t(1) << 22);
  if (isPositionalBias(s, canEval))
    return addPositionalBias(s);
  return addPositionalMask(s, canEval);
}

bool Matcher::isPositionalBias(const MatchState &s, bool canEval) {
  // Additive position terms that take only the values 0 and -inf are
  // masks; any other is a score bias (ALiBi, relative positions): a
  // score_mod.
  if (s.positionalAdds.empty())
    return false;
  if (!canEval)
    return true;
  int64_t lq = s.sj[s.qDim], lkv = s.sj[s.J];
  SmallVector<int64_t> pt(s.sj.size(), 0);
  for (int64_t i = 0; i < lq; ++i)
    for (int64_t j = 0; j < lkv; ++j) {
      pt[s.qDim] = i;
      pt[s.J] = j;
      for (const Expr *e : s.positionalAdds) {
        auto v = evaluate(e, pt);
        if (!v || (!isMaskFillValue(v->f) && v->f != 0))
          return true;
      }
    }
  return false;
}

LogicalResult Matcher::addPositionalBias(MatchState &s) {
  Plan &plan = s.plan;
  if (s.tensorMask && s.batch.size() != 2)
    return fail("a tensor mask combined with a position-dependent score "
                "bias");
  const Expr *sum = s.positionalAdds.front();
  for (const Expr *e : ArrayRef(s.positionalAdds).drop_front()) {
    if (e->type != sum->type)
      return fail("position biases of different types");
    sum = B.makeOp(Fn::Add, sum->type, {sum, e});
  }
  plan.bias = sum;
  if (!s.positionalKeeps.empty())
    plan.keep = conjunction(s.positionalKeeps);
  if (!canEmitModifier(plan.bias, /*isMask=*/false, s.R, s.batch, s.qDim) ||
      (plan.keep &&
       !canEmitModifier(plan.keep, /*isMask=*/true, s.R, s.batch, s.qDim)))
    return fail("the position-dependent score bias cannot be expressed "
                "as a score_mod");
  return success();
}

LogicalResult Matcher::addPositionalMask(MatchState &s, bool canEval) {
  auto allPositional =
      llvm::concat<const Expr *const>(s.positionalKeeps, s.positionalAdds);
  int64_t lq = s.sj[s.qDim], lkv = s.sj[s.J];
  SmallVector<int64_t> pt(s.sj.size(), 0);
  bool evaluated = canEval, allKeep = true, isCausal = true;
  for (int64_t i = 0; i < lq && evaluated; ++i) {
    for (int64_t j = 0; j < lkv && evaluated; ++j) {
      pt[s.qDim] = i;
      pt[s.J] = j;
      bool keep = true;
      for (const Expr *e : allPositional) {
        auto v = evaluate(e, pt);
        if (!v) {
          evaluated = false;
          break;
        }
        keep &= isa<FloatType>(e->type) ? !isMaskFillValue(v->f) : v->i != 0;
      }
      allKeep &= keep;
      isCausal &= keep == (j <= i);
    }
  }
  if (evaluated && allKeep)
    return success(); // Nothing is masked.
  if (evaluated && isCausal) {
    s.plan.causal = true;
    return success();
  }
  // Preferably a mask_mod (the ring reasons about it); else, for one
  // constant mask tensor (a dense constant), the tensor as the mask.
  const Expr *keep = nullptr;
  // With a tensor mask too (a sliding window and an attention_mask),
  // the mask is read inside the mask_mod (4-D attention only).
  if (s.positionalAdds.empty() && (!s.tensorMask || s.batch.size() == 2)) {
    keep = conjunction(s.positionalKeeps);
    if (!canEmitModifier(keep, /*isMask=*/true, s.R, s.batch, s.qDim))
      keep = nullptr;
  }
  if (keep) {
    s.plan.keep = keep;
    return success();
  }
  if (s.positionalKeeps.size() + s.positionalAdds.size() == 1) {
    bool isBool = s.positionalAdds.empty();
    const Expr *m = isBool ? s.positionalKeeps[0] : s.positionalAdds[0];
    return addTensorMask(s, m, isBool);
  }
  if (s.tensorMask)
    return fail("a tensor mask combined with a non-causal position "
                "mask");
  return fail("the position mask is not causal and cannot be "
              "expressed as a mask_mod");
}

namespace {

/// Whether emitScalar can write `e` as the body of a mask_mod (an i1) or a
/// score_mod bias (a float): a dry run in a detached block.
bool canEmitModifier(const Expr *e, bool isMask, unsigned rank,
                     ArrayRef<unsigned> batch, unsigned qDim) {
  MLIRContext *ctx = e->type.getContext();
  Block tmp;
  auto arg = [&] {
    return tmp.addArgument(IndexType::get(ctx), UnknownLoc::get(ctx));
  };
  SmallVector<Value> dims(rank + 1);
  if (batch.size() == 2) {
    dims[batch[0]] = arg();
    dims[batch[1]] = arg();
  }
  dims[qDim] = arg();
  dims[rank] = arg();
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&tmp);
  Value v = emitScalar(b, UnknownLoc::get(ctx), e, dims);
  bool ok =
      v && (isMask ? v.getType().isInteger(1) : isa<FloatType>(v.getType()));
  // Erase in reverse order so that no op is erased while used.
  while (!tmp.empty())
    tmp.back().erase();
  return ok;
}

} // namespace

} // namespace mlir::cp::detect
