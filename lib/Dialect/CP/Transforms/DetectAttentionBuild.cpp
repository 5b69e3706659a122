//===- DetectAttentionBuild.cpp - build cp.sdpa from a plan ---------------===//
//
// buildReplacement and its helpers: q, k and v materialised in canonical
// order (collapsed, widened, transposed), cp.sdpa or cp.flex_attention
// with its mask_mod and score_mod regions, and the transpose back to the
// root's layout.
//
//===----------------------------------------------------------------------===//

#include "DetectAttentionPlan.h"

#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::detect;

namespace mlir::cp::detect {

namespace {

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

} // namespace

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

} // namespace mlir::cp::detect
