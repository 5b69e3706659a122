//===- DetectAttention.cpp - raise attention to cp.sdpa -------------------===//
//
// --cp-detect-attention finds softmax(q·kᵀ·scale + mask)·v written in
// upstream dialects and replaces it by one cp.sdpa (or cp.flex_attention
// when the mask is computed from positions but is not plain causal).
//
// Matching is rooted at every softmax-like candidate (linalg.softmax, an
// exp in a linalg op, tosa.exp): the P·V contraction it feeds is found by
// walking uses, then the whole pattern is read back from the output through
// DetectExpr's expansion, which turns linalg generics, named linalg ops and
// TOSA ops alike into one scalar expression tree over the output's dims (plus
// one dim per contraction). Every node is checked: contraction bodies and
// zero inits, reduction identities, the dims each reduction and contraction
// runs over, and that the max, the sum and the "all masked" test of a safe
// softmax read the very scores that are exponentiated. Anything else is left
// alone and, with report-misses, gets a remark that says why.
//
// docs/detection.md lists what is recognised.
//
//===----------------------------------------------------------------------===//

#include "DetectDocuments.h"
#include "DetectExpr.h"

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

namespace mlir::cp {
#define GEN_PASS_DEF_CPDETECTATTENTION
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// The most negative finite fill that still counts as "masked". Real code
/// masks with a large finite negative (Hugging Face's `finfo(dtype).min`,
/// older models' -1e4 or -1e9) rather than -inf: exp(fill + s - max)
/// underflows to exactly 0 in fp32 wherever the row keeps at least one key,
/// so the result equals a -inf mask there. A row that keeps no key differs:
/// the producer averages every value (all scores equal the fill), cp's
/// runtime gives 0 (docs/detection.md, "Masked fills").
constexpr double kMaskFillLimit = -1e4;

/// Whether `v` (a score added or selected at masked positions) masks.
bool isMaskFillValue(double v) { return v == kNegInf || v <= kMaskFillLimit; }

/// Whether `e` is a constant mask fill: -inf or a large finite negative.
bool isMaskFill(const Expr *e) {
  return e->kind == Expr::Const && isa<FloatType>(e->type) &&
         isMaskFillValue(e->fval);
}

/// A matmul-like op read at a leaf: out[...] = sum_k lhs · rhs, both
/// operands expanded in the leaf's space plus the contracted dim (last).
struct Contraction {
  const Expr *lhs = nullptr, *rhs = nullptr;
  Sizes sizes; // the space with the contracted dim
};

/// An attention operand: `base` read in canonical order through `perm`
/// (canonical dim t is dim perm[t] of base); with `rep` > 1 its heads are
/// repeated (GQA); `narrow` when an extf was peeled off.
struct Operand {
  Value base;
  /// Dims of base collapsed first (empty: none), e.g. RoPE's [.., D/2, 2].
  SmallVector<ReassociationIndices> collapse;
  SmallVector<int64_t> perm;
  int64_t rep = 1;
  bool narrow = false;
  /// Set when the tensor must be widened (arith.extf) to this element type.
  Type widenTo;
};

/// Everything needed to build the replacement.
struct Plan {
  Value root;
  Operand q, k, v;
  double scale = 1.0;
  bool causal = false;
  Value mask;
  /// Document ids of a `doc[q] == doc[k]` mask (cp.sdpa's segment_ids).
  std::optional<DocumentIds> doc;
  const Expr *keep = nullptr; // flex mask_mod predicate
  const Expr *bias = nullptr; // flex score_mod: score + bias
  /// Logit soft-capping (Gemma2): score_mod tanh(score / c) · c, before the
  /// bias and the masks; 0 when absent.
  double softcap = 0;
  /// With keep/bias/softcap: the tensor mask is read inside the flex
  /// modifiers (a bool mask in mask_mod, an additive one in score_mod) at
  /// `maskMap` (mask dims in terms of the scores' dims, 0 where broadcast).
  AffineMap maskMap;
  bool maskIsBool = false;
  unsigned rank = 0;
  /// Output dims: batch dims in order, the query dim, the value head dim.
  SmallVector<unsigned> batch;
  unsigned qDim = 0, eDim = 0;
};

bool canEmitModifier(const Expr *e, bool isMask, unsigned rank,
                     ArrayRef<unsigned> batch, unsigned qDim);

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

/// What Matcher::match has read back from the output so far, threaded
/// through its steps.
struct MatchState {
  Plan plan;
  RankedTensorType rootTy;
  /// Output rank; J (= R) the key dim of P·V; Dd (= R + 1) q·kᵀ's head dim.
  unsigned R = 0, J = 0, Dd = 0;
  /// A truncf was peeled off the output (widened operands).
  bool truncated = false;
  /// The output's space plus J; plus J and Dd.
  Sizes sj, sjd;
  /// The softmax (P) and value operands of P·V.
  const Expr *pExpr = nullptr, *vExpr = nullptr;
  /// The softmax input and the dim it normalises over.
  const Expr *scores = nullptr;
  unsigned softmaxDim = 0;
  /// Output dims: batch dims in order, the query dim, the value head dim.
  SmallVector<unsigned> batch;
  unsigned qDim = 0, eDim = 0;
  /// Keep predicates of masked_fill selects; the non-q·kᵀ score terms.
  SmallVector<const Expr *> keeps, maskTerms;
  /// The q·kᵀ leaf; q and k with scales peeled (sq, sk) and unpeeled.
  const Expr *qk = nullptr;
  const Expr *qE = nullptr, *kE = nullptr;
  const Expr *qUnscaled = nullptr, *kUnscaled = nullptr;
  double sq = 1.0, sk = 1.0;
  unsigned headPos = ~0u;
  /// Position-dependent keep predicates and additive terms; the data mask.
  SmallVector<const Expr *> positionalKeeps, positionalAdds;
  Value tensorMask;
};

class Matcher {
public:
  explicit Matcher(ExprBuilder &b) : B(b), ctx(b.getContext()) {}

  FailureOr<Plan> match(Value root);
  std::string why;

private:
  LogicalResult fail(const Twine &msg) {
    if (why.empty())
      why = msg.str();
    return failure();
  }
  FailureOr<Contraction> contractionAt(const Expr *leaf,
                                       ArrayRef<int64_t> sizes);
  struct Softmax {
    const Expr *scores;
    unsigned dim;
  };
  FailureOr<Softmax> softmaxOf(const Expr *p, ArrayRef<int64_t> sizes);
  std::optional<unsigned> reducedDim(const Expr *reduce, const Expr *like,
                                     ArrayRef<int64_t> sizes, bool allowExt);
  bool sameSource(const Expr *body, const Expr *like, ArrayRef<AffineExpr> sub,
                  ArrayRef<int64_t> sizes);
  FailureOr<Operand> operandOf(const Expr *e, ArrayRef<AffineExpr> want,
                               ArrayRef<int64_t> sizes, unsigned headPos,
                               bool allowGqa, bool narrow, StringRef what);
  FailureOr<Operand> readAlong(Value base, AffineMap map,
                               ArrayRef<AffineExpr> want,
                               ArrayRef<int64_t> sizes, unsigned headPos,
                               bool allowGqa, StringRef what);
  /// Expands the output and finds the P·V contraction producing it.
  FailureOr<Contraction> findValueContraction(MatchState &s);
  /// Finds which operand of P·V is the softmax; the other is V.
  LogicalResult findSoftmax(MatchState &s, const Contraction &pv);
  /// Gives the output dims their roles; checks the softmax dim is P·V's.
  LogicalResult assignOutputDims(MatchState &s);
  /// Peels masked_fill selects off the scores, collecting their keeps.
  FailureOr<const Expr *> peelMaskFills(MatchState &s);
  /// Splits the scores into the (capped, scaled) q·kᵀ and mask terms.
  LogicalResult splitScoreTerms(MatchState &s, const Expr *x);
  /// Finds the q·kᵀ contraction, its query and key, and peels their scales.
  LogicalResult findScoreContraction(MatchState &s);
  /// The dims [batch..., seqDim, lastDim] in the space of `sz`.
  SmallVector<AffineExpr> canon(const MatchState &s, unsigned seqDim,
                                unsigned lastDim, ArrayRef<int64_t> sz);
  /// Resolves q or k, peeled of its scale or else with it.
  FailureOr<Operand> operandOrScaled(MatchState &s, const Expr *&e,
                                     const Expr *unscaled, double &peeled,
                                     ArrayRef<AffineExpr> want,
                                     ArrayRef<int64_t> sizes, bool gqa,
                                     StringRef what);
  /// Resolves q, k and v into the plan, GQA grouping allowed with `gqa`.
  LogicalResult resolveOperands(MatchState &s, bool gqa);
  /// Resolves q, k and v and checks their element types.
  LogicalResult resolveQKV(MatchState &s);
  /// Takes `d` as the plan's document ids when set and not conflicting.
  bool takeDocument(MatchState &s, std::optional<DocumentIds> d);
  /// The dims document ids are read along in the scores' space.
  ScoreDims scoreDims(const MatchState &s) const {
    return {s.qDim, s.J, s.batch.empty() ? -1 : int(s.batch[0]), s.sj};
  }
  /// Takes `m` as the one data mask tensor (a bool keep or additive).
  LogicalResult addTensorMask(MatchState &s, const Expr *m, bool isBool);
  /// Adds the keep predicate `p`, split at ands, positional or data.
  LogicalResult addKeep(MatchState &s, const Expr *p);
  /// Sorts keeps and mask terms into positional ones and the tensor mask.
  LogicalResult collectMasks(MatchState &s);
  /// The and of `keeps` (not empty).
  const Expr *conjunction(ArrayRef<const Expr *> keeps);
  /// Turns the positional masks into a bias, causal, mask_mod or tensor.
  LogicalResult resolvePositionalMasks(MatchState &s);
  /// Whether the additive positional terms are a bias, not 0/-inf masks.
  bool isPositionalBias(const MatchState &s, bool canEval);
  /// Sets the plan's score_mod bias (and mask_mod keep) from positions.
  LogicalResult addPositionalBias(MatchState &s);
  /// Sets causal, a mask_mod or a mask tensor from the positional masks.
  LogicalResult addPositionalMask(MatchState &s, bool canEval);
  AffineExpr dimOrZero(unsigned d, ArrayRef<int64_t> sizes) {
    return simplifyWithRanges(getAffineDimExpr(d, ctx), sizes);
  }

  ExprBuilder &B;
  MLIRContext *ctx;
};

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

/// `o.base` in canonical order, widened when needed.
Value materialize(OpBuilder &b, Location loc, const Operand &o) {
  Value v = o.base;
  if (!o.collapse.empty())
    v = tensor::CollapseShapeOp::create(b, loc, v, o.collapse);
  if (o.widenTo) {
    // A linalg.generic rather than arith.extf on tensors: it bufferizes and
    // lowers like the rest of the IR.
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, v);
    Value init = tensor::EmptyOp::create(b, loc, sizes, o.widenTo);
    AffineMap id = b.getMultiDimIdentityMap(t.getRank());
    SmallVector<utils::IteratorType> iters(t.getRank(),
                                           utils::IteratorType::parallel);
    v = linalg::GenericOp::create(
            b, loc, TypeRange{init.getType()}, ValueRange{v}, ValueRange{init},
            ArrayRef<AffineMap>{id, id}, iters,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value w = arith::ExtFOp::create(nb, nl, o.widenTo, args[0]);
              linalg::YieldOp::create(nb, nl, w);
            })
            ->getResult(0);
  }
  bool identity = llvm::all_of(llvm::enumerate(o.perm), [](auto it) {
    return int64_t(it.index()) == it.value();
  });
  if (identity)
    return v;
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t p : o.perm) {
    shape.push_back(ty.getDimSize(p));
    sizes.push_back(tensor::getMixedSize(b, loc, v, p));
  }
  Value init = tensor::EmptyOp::create(b, loc, sizes, ty.getElementType());
  return linalg::TransposeOp::create(b, loc, v, init, o.perm)->getResult(0);
}

/// The order of the root's dims the attention ops compute in:
/// [batch..., query, head_dim].
SmallVector<int64_t> canonicalOrder(const Plan &plan) {
  SmallVector<int64_t> order(plan.batch.begin(), plan.batch.end());
  order.push_back(plan.qDim);
  order.push_back(plan.eDim);
  return order;
}

/// The type of the attention op's output: the root's type, canonical order.
Type canonicalOutputType(const Plan &plan) {
  auto rootTy = cast<RankedTensorType>(plan.root.getType());
  SmallVector<int64_t> canonShape;
  for (int64_t d : canonicalOrder(plan))
    canonShape.push_back(rootTy.getDimSize(d));
  return rootTy.clone(canonShape);
}

/// `out` (canonical order) transposed to the root's layout when it differs.
Value toRootLayout(OpBuilder &b, Location loc, const Plan &plan, Value out) {
  SmallVector<int64_t> order = canonicalOrder(plan);
  SmallVector<int64_t> toRoot(order.size());
  for (auto [pos, d] : llvm::enumerate(order))
    toRoot[d] = pos;
  bool identity = llvm::all_of(llvm::enumerate(order), [](auto it) {
    return int64_t(it.index()) == it.value();
  });
  if (identity)
    return out;
  Operand o;
  o.base = out;
  o.perm = toRoot;
  return materialize(b, loc, o);
}

/// A modifier block: `lead` leading arguments (the score for score_mod),
/// then (b, h, q_idx, kv_idx); `dims` maps the scores' space onto them.
Block *makeModifierBlock(Region &region, Location loc, const Plan &plan,
                         ArrayRef<Type> lead, SmallVectorImpl<Value> &dims) {
  unsigned R = plan.rank;
  Type idx = IndexType::get(loc.getContext());
  Block *block = new Block();
  region.push_back(block);
  for (Type t : lead)
    block->addArgument(t, loc);
  for (int i = 0; i < 4; ++i)
    block->addArgument(idx, loc);
  unsigned o = lead.size();
  dims.assign(R + 1, Value());
  if (plan.batch.size() == 2) {
    dims[plan.batch[0]] = block->getArgument(o);
    dims[plan.batch[1]] = block->getArgument(o + 1);
  }
  dims[plan.qDim] = block->getArgument(o + 2);
  dims[R] = block->getArgument(o + 3);
  return block;
}

/// The tensor mask read inside a modifier, at the scores' position
/// (flex has no mask operand; context parallelism then reads the mask
/// whole, at original positions); null if a dim is not available.
Value readMaskAt(OpBuilder &rb, Location loc, const Plan &plan,
                 ArrayRef<Value> dims) {
  SmallVector<Value> indices;
  for (AffineExpr r : plan.maskMap.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(r)) {
      if (d.getPosition() >= dims.size() || !dims[d.getPosition()])
        return Value();
      indices.push_back(dims[d.getPosition()]);
    } else {
      indices.push_back(arith::ConstantIndexOp::create(rb, loc, 0));
    }
  }
  return tensor::ExtractOp::create(rb, loc, plan.mask, indices);
}

/// Fills flex's mask_mod (keep, causal, a bool tensor mask); false if it
/// cannot be emitted.
bool buildMaskMod(Location loc, const Plan &plan, FlexAttentionOp flex) {
  // Soft-capped causal attention is a flex: causal becomes its mask_mod.
  bool maskInMaskMod = plan.mask && plan.maskIsBool;
  SmallVector<Value> dims;
  Block *block = makeModifierBlock(flex.getMaskMod(), loc, plan, {}, dims);
  OpBuilder rb = OpBuilder::atBlockBegin(block);
  Value keep;
  if (plan.keep) {
    keep = emitScalar(rb, loc, plan.keep, dims);
    if (!keep || !keep.getType().isInteger(1))
      return false;
  } else if (plan.causal) {
    keep = arith::CmpIOp::create(rb, loc, arith::CmpIPredicate::ule,
                                 dims[plan.rank], dims[plan.qDim]);
  }
  if (plan.doc) {
    // Document ids read inside the mask_mod (a window with documents).
    Value batch;
    if (plan.doc->batched) {
      if (plan.batch.size() != 2)
        return false;
      batch = dims[plan.batch[0]];
    }
    Value same = emitDocumentKeep(rb, loc, plan.doc->ids, batch,
                                  dims[plan.qDim], dims[plan.rank]);
    keep = keep ? arith::AndIOp::create(rb, loc, keep, same).getResult() : same;
  }
  if (maskInMaskMod) {
    Value m = readMaskAt(rb, loc, plan, dims);
    if (!m)
      return false;
    keep = keep ? arith::AndIOp::create(rb, loc, keep, m).getResult() : m;
  }
  YieldOp::create(rb, loc, ValueRange{keep});
  return true;
}

/// Fills flex's score_mod (softcap, bias, an additive tensor mask); false
/// if it cannot be emitted.
bool buildScoreMod(Location loc, const Plan &plan, FlexAttentionOp flex) {
  bool maskInScoreMod = plan.mask && !plan.maskIsBool;
  SmallVector<Value> dims;
  FloatType f32 = Float32Type::get(loc.getContext());
  Block *block =
      makeModifierBlock(flex.getScoreMod(), loc, plan, {Type(f32)}, dims);
  OpBuilder rb = OpBuilder::atBlockBegin(block);
  Value s = block->getArgument(0);
  if (plan.softcap) {
    Value c = arith::ConstantFloatOp::create(rb, loc, f32,
                                             APFloat((float)plan.softcap));
    Value t = math::TanhOp::create(
        rb, loc, arith::DivFOp::create(rb, loc, s, c).getResult());
    s = arith::MulFOp::create(rb, loc, t, c);
  }
  // score + term, the term cast to f32; false if it is not a float.
  auto addTerm = [&](Value term) {
    if (!term || !isa<FloatType>(term.getType()))
      return false;
    unsigned w = term.getType().getIntOrFloatBitWidth();
    if (w < 32)
      term = arith::ExtFOp::create(rb, loc, f32, term);
    else if (w > 32)
      term = arith::TruncFOp::create(rb, loc, f32, term);
    s = arith::AddFOp::create(rb, loc, s, term);
    return true;
  };
  if ((plan.bias && !addTerm(emitScalar(rb, loc, plan.bias, dims))) ||
      (maskInScoreMod && !addTerm(readMaskAt(rb, loc, plan, dims))))
    return false;
  YieldOp::create(rb, loc, ValueRange{s});
  return true;
}

/// Builds the replacement of `plan.root`; nullptr if the mask_mod could not
/// be emitted.
Value buildReplacement(OpBuilder &b, const Plan &plan) {
  Location loc = plan.root.getLoc();
  Value q = materialize(b, loc, plan.q), k = materialize(b, loc, plan.k),
        v = materialize(b, loc, plan.v);
  // The op computes [batch..., query, head_dim]; a root in another layout
  // gets a transpose of it.
  Type outTy = canonicalOutputType(plan);
  FloatAttr scale = b.getF64FloatAttr(plan.scale);
  UnitAttr gqa = plan.k.rep > 1 ? b.getUnitAttr() : nullptr;
  if (!plan.keep && !plan.bias && !plan.softcap) {
    Value seg =
        plan.doc ? segmentIdsOperand(b, loc, *plan.doc, plan.batch.size() + 2)
                 : Value();
    return toRootLayout(b, loc, plan,
                        SDPAOp::create(b, loc, outTy, Type(), q, k, v,
                                       plan.mask, seg,
                                       plan.causal ? b.getUnitAttr() : nullptr,
                                       scale, gqa, FloatAttr())
                            .getOutput());
  }
  auto flex =
      FlexAttentionOp::create(b, loc, outTy, Type(), q, k, v, scale, gqa);
  bool maskInMaskMod = plan.mask && plan.maskIsBool;
  bool maskInScoreMod = plan.mask && !plan.maskIsBool;
  if ((plan.keep || plan.causal || maskInMaskMod || plan.doc) &&
      !buildMaskMod(loc, plan, flex)) {
    flex.erase();
    return {};
  }
  if ((plan.bias || plan.softcap || maskInScoreMod) &&
      !buildScoreMod(loc, plan, flex)) {
    flex.erase();
    return {};
  }
  return toRootLayout(b, loc, plan, flex.getOutput());
}

bool isNormalisingReduction(Operation *op) {
  if (isa<tosa::ReduceSumOp>(op))
    return true;
  auto lop = dyn_cast<linalg::LinalgOp>(op);
  return lop && lop.getNumReductionLoops() > 0 &&
         !linalg::isaContractionOpInterface(lop);
}

/// A softmax, or an exp whose result is summed (within a few elementwise
/// hops): the candidates that report-misses explains. An exp that is never
/// summed (SiLU, GELU, ...) is not a candidate.
bool isSoftmaxCandidate(Operation *op) {
  if (isa<linalg::SoftmaxOp>(op))
    return true;
  bool isExp = isa<tosa::ExpOp>(op) ||
               (isa<math::ExpOp>(op) &&
                isa<RankedTensorType>(op->getResult(0).getType()));
  if (auto lop = dyn_cast<linalg::LinalgOp>(op)) {
    if (lop->getNumRegions() != 1 || !lop.getBlock() ||
        llvm::none_of(lop.getBlock()->getOperations(),
                      [](Operation &o) { return isa<math::ExpOp>(o); }))
      return false;
    if (isNormalisingReduction(op))
      return true;
    isExp = true;
  }
  if (!isExp)
    return false;
  SmallVector<std::pair<Operation *, unsigned>> work{{op, 0}};
  while (!work.empty()) {
    auto [cur, depth] = work.pop_back_val();
    for (Operation *user : cur->getUsers()) {
      if (isNormalisingReduction(user))
        return true;
      if (depth < 3)
        work.push_back({user, depth + 1});
    }
  }
  return false;
}

/// Ops that wrap the P·V result without changing what it is: the root of
/// the match may be any of them.
bool isOutputWrapper(Operation *op) {
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tosa::ReshapeOp,
          tosa::CastOp, arith::TruncFOp>(op))
    return true;
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1 || g.getNumResults() != 1 ||
      g.getNumReductionLoops() != 0)
    return false;
  auto &ops = g.getBlock()->getOperations();
  return ops.size() == 2 && isa<arith::TruncFOp>(ops.front());
}

struct DetectAttentionPass
    : mlir::cp::impl::CPDetectAttentionBase<DetectAttentionPass> {
  using Base::Base;

  // The rewrite may create linalg.transpose / linalg.generic (layout and
  // widening of q/k/v) also in modules that hold only TOSA.
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.insert<linalg::LinalgDialect>();
  }

  void runOnOperation() override {
    // Flex attention whose mask_mod is a document mask (and causal): cp.sdpa
    // with segment_ids, which the ring runs without a dense mask.
    SmallVector<FlexAttentionOp> flexes;
    getOperation()->walk([&](FlexAttentionOp f) { flexes.push_back(f); });
    for (FlexAttentionOp f : flexes)
      raiseDocumentFlex(f);
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (isSoftmaxCandidate(op))
        candidates.push_back(op);
    });
    llvm::DenseSet<Operation *> erased;
    for (Operation *cand : candidates) {
      if (erased.contains(cand))
        continue;
      std::string why = processCandidate(cand, erased);
      if (!why.empty() && reportMisses)
        cand->emitRemark() << "softmax not raised to cp.sdpa: " << why;
    }
  }

  /// Returns why the candidate was not raised ("" when it was).
  std::string processCandidate(Operation *cand,
                               llvm::DenseSet<Operation *> &erased) {
    // Find the contractions the softmax feeds.
    SmallVector<Operation *> contractions;
    SmallVector<std::pair<Value, unsigned>> work;
    llvm::DenseSet<Operation *> seen;
    for (Value r : cand->getResults())
      work.push_back({r, 0});
    while (!work.empty() && seen.size() < 256) {
      auto [v, depth] = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (!seen.insert(user).second)
          continue;
        if (user->getNumResults() == 1 &&
            isContractionProducer(user->getResult(0))) {
          contractions.push_back(user);
          continue;
        }
        if (depth < 16)
          for (Value r : user->getResults())
            work.push_back({r, depth + 1});
      }
    }
    if (contractions.empty())
      return "no P·V contraction consumes the softmax";
    std::string why;
    for (Operation *c : contractions) {
      SmallVector<Value> chain{c->getResult(0)};
      while (chain.back().hasOneUse()) {
        Operation *user = *chain.back().getUsers().begin();
        if (!isOutputWrapper(user))
          break;
        chain.push_back(user->getResult(0));
      }
      for (Value root : llvm::reverse(chain)) {
        ExprBuilder builder(&getContext());
        Matcher m(builder);
        FailureOr<Plan> plan = m.match(root);
        if (failed(plan)) {
          if (why.empty())
            why = m.why;
          continue;
        }
        OpBuilder b(root.getDefiningOp());
        Value repl = buildReplacement(b, *plan);
        if (!repl) {
          if (why.empty())
            why = "the position mask cannot be expressed as a mask_mod";
          continue;
        }
        root.replaceAllUsesWith(repl);
        eraseDead(builder.visited, root.getDefiningOp(), erased);
        return "";
      }
    }
    return why;
  }

  void eraseDead(const llvm::DenseSet<Operation *> &visited, Operation *rootOp,
                 llvm::DenseSet<Operation *> &erased) {
    SetVector<Operation *> todo;
    todo.insert(rootOp);
    for (Operation *op : visited)
      todo.insert(op);
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t i = 0; i < todo.size(); ++i) {
        Operation *op = todo[i];
        if (erased.contains(op) || !isOpTriviallyDead(op))
          continue;
        SmallVector<Operation *> producers;
        op->walk([&](Operation *inner) {
          for (Value o : inner->getOperands())
            if (Operation *d = o.getDefiningOp(); d && !op->isAncestor(d))
              producers.push_back(d);
        });
        erased.insert(op);
        op->erase();
        changed = true;
        // What fed it (fills, empties, constants, tensor.dim) may be dead
        // now; isOpTriviallyDead keeps anything with side effects.
        for (Operation *p : producers)
          if (!erased.contains(p))
            todo.insert(p);
      }
    }
  }
};

} // namespace
