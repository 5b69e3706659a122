//===- RaiseTosaScan.cpp - TOSA cumulative sums to tm_tensor.scan ---------===//
//
// torch-mlir's TOSA export has no scan op: `torch.cumsum(x, dim=d)` becomes
// a Hillis-Steele chain of shifted additions,
//
//   y_1 = x + shift(x, 1),  y_2 = y_1 + shift(y_1, 2),  ...,  y_K (2K >= n)
//
// where shift(a, k) = tosa.slice(tosa.pad(a, k zeros before dim d), 0,
// shape(a)). Along the sequence those pads and slices cannot be sharded, so
// the chain is raised to the scan it computes (tm_tensor.scan, inclusive
// sum), which cp-context-parallel makes a cp.seq_scan and
// cp-lower-tm-tensor lowers on one device. A chain whose partial sums are
// used elsewhere, or that stops before covering the dim, is left alone.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace mlir::cp {
#define GEN_PASS_DEF_CPRAISETOSASCAN
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

/// One step `next = prev + shift(prev, shift)` along `dim`.
struct ShiftStep {
  Value prev;
  tosa::AddOp add;
  int64_t shift = 0, dim = 0;
};

std::optional<SmallVector<int64_t>> constShapeOf(Value shape) {
  auto cst = shape.getDefiningOp<tosa::ConstShapeOp>();
  if (!cst)
    return std::nullopt;
  return llvm::to_vector(
      cast<DenseIntElementsAttr>(cst.getValues()).getValues<int64_t>());
}

/// A tosa.const splat of zero (the value shifted in).
bool isZeroConst(Value v) {
  auto cst = v.getDefiningOp<tosa::ConstOp>();
  auto dense = cst ? dyn_cast<DenseElementsAttr>(cst.getValues()) : nullptr;
  if (!dense || !dense.isSplat())
    return false;
  Attribute z = dense.getSplatValue<Attribute>();
  if (auto f = dyn_cast<FloatAttr>(z))
    return f.getValue().isZero();
  if (auto i = dyn_cast<IntegerAttr>(z))
    return i.getValue().isZero();
  return false;
}

/// `shifted` = slice(pad(prev, k zeros before one dim), 0, shape(prev)).
std::optional<ShiftStep> matchShift(Value prev, Value shifted) {
  auto slice = shifted.getDefiningOp<tosa::SliceOp>();
  auto pad = slice ? slice.getInput1().getDefiningOp<tosa::PadOp>() : nullptr;
  if (!pad || pad.getInput1() != prev || !isZeroConst(pad.getPadConst()))
    return std::nullopt;
  auto t = dyn_cast<RankedTensorType>(prev.getType());
  auto padding = constShapeOf(pad.getPadding());
  auto start = constShapeOf(slice.getStart());
  auto size = constShapeOf(slice.getSize());
  if (!t || !t.hasStaticShape() || !padding || !start || !size ||
      slice.getOutput().getType() != t ||
      ArrayRef<int64_t>(*size) != t.getShape() ||
      llvm::any_of(*start, [](int64_t s) { return s != 0; }))
    return std::nullopt;
  ShiftStep step;
  step.prev = prev;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    if ((*padding)[2 * d + 1] != 0)
      return std::nullopt;
    if ((*padding)[2 * d] == 0)
      continue;
    if (step.shift != 0)
      return std::nullopt; // shifts along two dims
    step.shift = (*padding)[2 * d];
    step.dim = d;
  }
  if (step.shift == 0)
    return std::nullopt;
  return step;
}

/// `add` = prev + shift(prev, k) in either operand order.
std::optional<ShiftStep> matchStep(tosa::AddOp add) {
  for (int i = 0; i < 2; ++i)
    if (auto step = matchShift(add->getOperand(i), add->getOperand(1 - i))) {
      step->add = add;
      return step;
    }
  return std::nullopt;
}

/// The whole chain starting at the shift-by-1 step `first`, or empty when
/// it is not a complete scan with private intermediates.
SmallVector<ShiftStep> collectChain(ShiftStep first) {
  SmallVector<ShiftStep> chain = {first};
  int64_t n =
      cast<RankedTensorType>(first.prev.getType()).getShape()[first.dim];
  while (2 * chain.back().shift < n) {
    Value cur = chain.back().add.getResult();
    std::optional<ShiftStep> next;
    for (Operation *user : cur.getUsers())
      if (auto add = dyn_cast<tosa::AddOp>(user))
        if (auto s = matchStep(add);
            s && s->prev == cur && s->dim == first.dim &&
            s->shift == 2 * chain.back().shift)
          next = s;
    // The partial sum feeds exactly the next pad and the next add.
    if (!next || !cur.hasNUses(2))
      return {};
    chain.push_back(*next);
  }
  for (const ShiftStep &s : chain) {
    Operation *slice = s.add->getOperand(0) == s.prev
                           ? s.add->getOperand(1).getDefiningOp()
                           : s.add->getOperand(0).getDefiningOp();
    if (!slice->hasOneUse() || !slice->getOperand(0).hasOneUse())
      return {};
  }
  return chain;
}

/// Replaces the chain by one inclusive-sum tm_tensor.scan of its input.
void raise(ArrayRef<ShiftStep> chain) {
  tosa::AddOp last = chain.back().add;
  Value x = chain.front().prev;
  auto t = cast<RankedTensorType>(x.getType());
  int64_t dim = chain.front().dim;
  OpBuilder b(last);
  Location loc = last.getLoc();
  Type et = t.getElementType();
  SmallVector<int64_t> accShape(t.getShape());
  accShape.erase(accShape.begin() + dim);
  Value zero = arith::ConstantOp::create(b, loc, et, b.getZeroAttr(et));
  Value out = tensor::EmptyOp::create(b, loc, t.getShape(), et);
  Value accInit = tensor::EmptyOp::create(b, loc, accShape, et);
  Value acc = linalg::FillOp::create(b, loc, zero, accInit).getResult(0);
  auto scan = tm_tensor::ScanOp::create(
      b, loc, TypeRange{t, acc.getType()}, b.getI64IntegerAttr(dim),
      b.getBoolAttr(true), x, out, acc);
  Block *body = b.createBlock(&scan.getRegion(), {}, {et, et}, {loc, loc});
  Value sum = isa<FloatType>(et)
                  ? arith::AddFOp::create(b, loc, body->getArgument(0),
                                          body->getArgument(1))
                        .getResult()
                  : arith::AddIOp::create(b, loc, body->getArgument(0),
                                          body->getArgument(1))
                        .getResult();
  tm_tensor::YieldOp::create(b, loc, ValueRange{sum});
  last.getResult().replaceAllUsesWith(scan.getResult());
  // Erase the chain back to front (each step uses the previous one).
  for (const ShiftStep &s : llvm::reverse(chain)) {
    Operation *slice = s.add->getOperand(0) == s.prev
                           ? s.add->getOperand(1).getDefiningOp()
                           : s.add->getOperand(0).getDefiningOp();
    Operation *pad = slice->getOperand(0).getDefiningOp();
    s.add->erase();
    slice->erase();
    pad->erase();
  }
}

struct RaiseTosaScanPass
    : cp::impl::CPRaiseTosaScanBase<RaiseTosaScanPass> {
  void runOnOperation() override {
    SmallVector<ShiftStep> firsts;
    getOperation()->walk([&](tosa::AddOp add) {
      if (auto s = matchStep(add); s && s->shift == 1)
        firsts.push_back(*s);
    });
    for (const ShiftStep &first : firsts) {
      SmallVector<ShiftStep> chain = collectChain(first);
      if (!chain.empty())
        raise(chain);
    }
  }
};

} // namespace
