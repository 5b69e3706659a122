//===- DetectDocuments.cpp - document masks to segment ids ----------------===//
//
// --cp-detect-attention's recognition of packed-sequence document masks
// (DetectDocuments.h): `doc[q] == doc[k]` in the scores' expression trees,
// and in cp.flex_attention's mask_mod (`tensor.extract` of a captured ids
// tensor at q_idx and kv_idx, `arith.cmpi eq`, optionally AND-ed with
// `q_idx >= kv_idx`). docs/detection.md, "Document masks".
//
//===----------------------------------------------------------------------===//

#include "DetectDocuments.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace {

/// `e` without widening integer casts (a narrowing cast could make two
/// different ids equal).
const Expr *peelWidening(const Expr *e) {
  while (e->isOp(Fn::IntCast) && e->type.isIntOrIndex() &&
         e->args[0]->type.isIntOrIndex()) {
    unsigned to = e->type.isIndex() ? 64 : e->type.getIntOrFloatBitWidth();
    Type ft = e->args[0]->type;
    unsigned from = ft.isIndex() ? 64 : ft.getIntOrFloatBitWidth();
    if (to < from)
      break;
    e = e->args[0];
  }
  return e;
}

/// The tensor reads `e` stands for: itself if a leaf, and the tensors its
/// expansion went through.
SmallVector<std::pair<Value, AffineMap>> readsOf(const Expr *e) {
  SmallVector<std::pair<Value, AffineMap>> reads(e->srcs.begin(),
                                                 e->srcs.end());
  if (e->kind == Expr::Leaf && e->map)
    reads.push_back({e->tensor, e->map});
  return reads;
}

/// How `map` reads an ids tensor `t` along the sequence dim `seqDim`:
/// std::nullopt if not at all, else whether it reads at the batch dim.
std::optional<bool> idsRead(RankedTensorType t, AffineMap map, unsigned seqDim,
                            const ScoreDims &d) {
  MLIRContext *ctx = map.getContext();
  map = simplifyWithRanges(map, d.sizes);
  if (map.getNumResults() != unsigned(t.getRank()))
    return std::nullopt;
  if (map.getResults().back() != getAffineDimExpr(seqDim, ctx))
    return std::nullopt;
  if (t.getRank() == 1)
    return false;
  AffineExpr first = map.getResult(0);
  if (auto c = dyn_cast<AffineConstantExpr>(first))
    return c.getValue() == 0 && t.getShape()[0] == 1
               ? std::optional<bool>(false)
               : std::nullopt;
  if (d.batchDim >= 0 && first == getAffineDimExpr(d.batchDim, ctx) &&
      t.getShape()[0] == d.sizes[d.batchDim])
    return true;
  return std::nullopt;
}

/// Whether `a` reads ids at the query and `b` at the key (or the other way
/// round) of the same integer [S] / [1, S] / [B, S] tensor.
std::optional<DocumentIds> sameIdsAtQueryAndKey(const Expr *a, const Expr *b,
                                                const ScoreDims &d) {
  int64_t s = d.sizes[d.qDim];
  if (ShapedType::isDynamic(s) || d.sizes[d.kDim] != s)
    return std::nullopt; // self-attention over a static sequence only
  a = peelWidening(a);
  b = peelWidening(b);
  for (auto [va, ma] : readsOf(a)) {
    auto t = dyn_cast<RankedTensorType>(va.getType());
    if (!t || !isa<IntegerType>(t.getElementType()) || t.getRank() < 1 ||
        t.getRank() > 2 || t.getShape().back() != s)
      continue;
    for (auto [vb, mb] : readsOf(b)) {
      if (vb != va)
        continue;
      for (auto [qm, km] : {std::pair(ma, mb), std::pair(mb, ma)}) {
        std::optional<bool> atQ = idsRead(t, qm, d.qDim, d);
        std::optional<bool> atK = idsRead(t, km, d.kDim, d);
        if (atQ && atK && *atQ == *atK)
          return DocumentIds{va, *atQ};
      }
    }
  }
  return std::nullopt;
}

/// `e` is `x ^ true`: returns x.
const Expr *negated(const Expr *e) {
  if (e->isOp(Fn::XOrI) && e->args[1]->isConst(1))
    return e->args[0];
  return nullptr;
}

/// Whether `e` compares its two operands with integer predicate `pred`.
bool isCmpI(const Expr *e, arith::CmpIPredicate pred) {
  return e->isOp(Fn::CmpI) &&
         static_cast<arith::CmpIPredicate>(e->pred) == pred;
}

//===----------------------------------------------------------------------===//
// flex mask_mod
//===----------------------------------------------------------------------===//

/// Looks through index casts and widening integer extensions.
Value peelScalarCasts(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
            arith::ExtUIOp>(def))
      v = def->getOperand(0);
    else
      break;
  }
  return v;
}

/// `v` as `tensor.extract %ids[(batch,)? pos]` of a tensor defined outside
/// `flex`, with `pos` the block argument `posArg` and a batch index that is
/// the constant 0 (ids [1, S]) or the batch argument (ids [B, S]).
std::optional<DocumentIds> extractAt(Value v, FlexAttentionOp flex,
                                     BlockArgument posArg, Value batchArg) {
  auto ex = peelScalarCasts(v).getDefiningOp<tensor::ExtractOp>();
  if (!ex || flex->isAncestor(ex.getTensor().getParentBlock()->getParentOp()))
    return std::nullopt;
  auto t = ex.getTensor().getType();
  if (!isa<IntegerType>(t.getElementType()) || t.getRank() < 1 ||
      t.getRank() > 2 || ex.getIndices().back() != posArg)
    return std::nullopt;
  DocumentIds d{ex.getTensor(), false};
  if (t.getRank() == 2) {
    Value first = ex.getIndices().front();
    std::optional<int64_t> c = getConstantIntValue(first);
    if (c && *c == 0 && t.getShape()[0] == 1)
      return d;
    if (first != batchArg)
      return std::nullopt;
    d.batched = true;
  }
  return d;
}

/// What one conjunct of a mask_mod is.
enum class Conjunct { Causal, Document, Other };

/// Classifies `keep`: causal (`q >= kv`, either spelling) or a document
/// mask (then `doc` is set).
Conjunct classify(Value keep, FlexAttentionOp flex, Block &body,
                  std::optional<DocumentIds> &doc) {
  auto cmp = keep.getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return Conjunct::Other;
  BlockArgument b = body.getArgument(0), q = body.getArgument(2),
                kv = body.getArgument(3);
  Value l = cmp.getLhs(), r = cmp.getRhs();
  using P = arith::CmpIPredicate;
  P p = cmp.getPredicate();
  if (((p == P::sge || p == P::uge) && l == q && r == kv) ||
      ((p == P::sle || p == P::ule) && l == kv && r == q))
    return Conjunct::Causal;
  if (p != P::eq)
    return Conjunct::Other;
  for (auto [x, y] : {std::pair(l, r), std::pair(r, l)}) {
    auto dq = extractAt(x, flex, q, b), dk = extractAt(y, flex, kv, b);
    if (dq && dk && dq->ids == dk->ids && dq->batched == dk->batched) {
      // Both sides must read the same element type before the compare.
      if (peelScalarCasts(x).getType() != peelScalarCasts(y).getType())
        return Conjunct::Other;
      doc = dq;
      return Conjunct::Document;
    }
  }
  return Conjunct::Other;
}

} // namespace

std::optional<DocumentIds>
mlir::cp::detect::matchDocumentKeep(const Expr *keep, const ScoreDims &d) {
  if (const Expr *inner = negated(keep))
    return matchDocumentMasked(inner, d);
  if (!isCmpI(keep, arith::CmpIPredicate::eq))
    return std::nullopt;
  return sameIdsAtQueryAndKey(keep->args[0], keep->args[1], d);
}

std::optional<DocumentIds>
mlir::cp::detect::matchDocumentMasked(const Expr *masked, const ScoreDims &d) {
  if (const Expr *inner = negated(masked))
    return matchDocumentKeep(inner, d);
  if (!isCmpI(masked, arith::CmpIPredicate::ne))
    return std::nullopt;
  return sameIdsAtQueryAndKey(masked->args[0], masked->args[1], d);
}

Value mlir::cp::detect::segmentIdsOperand(OpBuilder &b, Location loc,
                                          const DocumentIds &doc,
                                          int64_t queryRank) {
  auto t = cast<RankedTensorType>(doc.ids.getType());
  if (t.getRank() == 1 || doc.batched || queryRank >= 4)
    return doc.ids;
  return tensor::CollapseShapeOp::create(
             b, loc,
             RankedTensorType::get({t.getShape()[1]}, t.getElementType()),
             doc.ids, ArrayRef<ReassociationIndices>{{0, 1}})
      .getResult();
}

Value mlir::cp::detect::emitDocumentKeep(OpBuilder &b, Location loc, Value ids,
                                         Value batch, Value q, Value kv) {
  auto t = cast<RankedTensorType>(ids.getType());
  auto read = [&](Value pos) {
    SmallVector<Value> idx;
    if (t.getRank() == 2)
      idx.push_back(batch ? batch : arith::ConstantIndexOp::create(b, loc, 0));
    idx.push_back(pos);
    return tensor::ExtractOp::create(b, loc, ids, idx).getResult();
  };
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, read(q),
                               read(kv));
}

bool mlir::cp::detect::raiseDocumentFlex(FlexAttentionOp flex) {
  if (!flex.getScoreMod().empty() || flex.getMaskMod().empty())
    return false;
  Block &body = flex.getMaskMod().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  // Split the kept predicate at ands.
  SmallVector<Value> conjuncts, work{yield.getValues()[0]};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto a = v.getDefiningOp<arith::AndIOp>()) {
      work.push_back(a.getLhs());
      work.push_back(a.getRhs());
    } else {
      conjuncts.push_back(v);
    }
  }
  bool causal = false;
  std::optional<DocumentIds> doc;
  for (Value c : conjuncts) {
    std::optional<DocumentIds> d;
    switch (classify(c, flex, body, d)) {
    case Conjunct::Causal:
      causal = true;
      break;
    case Conjunct::Document:
      if (doc && doc->ids != d->ids)
        return false; // two id tensors: leave the flex
      doc = d;
      break;
    case Conjunct::Other:
      return false;
    }
  }
  auto q = cast<RankedTensorType>(flex.getQuery().getType());
  auto k = cast<RankedTensorType>(flex.getKey().getType());
  int64_t s = q.getShape()[q.getRank() - 2];
  auto ids = doc ? cast<RankedTensorType>(doc->ids.getType()) : nullptr;
  if (!doc || ShapedType::isDynamic(s) || k.getShape()[k.getRank() - 2] != s ||
      ids.getShape().back() != s ||
      (doc->batched &&
       (q.getRank() != 4 || ids.getShape()[0] != q.getShape()[0])))
    return false;
  OpBuilder b(flex);
  Location loc = flex.getLoc();
  Value seg = segmentIdsOperand(b, loc, *doc, q.getRank());
  Type lseTy = flex.getLse() ? flex.getLse().getType() : Type();
  auto sdpa =
      SDPAOp::create(b, loc, flex.getOutput().getType(), lseTy, flex.getQuery(),
                     flex.getKey(), flex.getValue(), /*mask=*/Value(), seg,
                     causal ? b.getUnitAttr() : UnitAttr(), flex.getScaleAttr(),
                     flex.getEnableGqaAttr(), FloatAttr());
  flex->replaceAllUsesWith(sdpa->getResults());
  flex.erase();
  return true;
}
