//===- LowerTMTensor.cpp - tm_tensor.scan to scf.for + linalg -------------===//
//
// A scan along dim d of an n-element dimension carries the running value
// (a tensor of the other dims) through a loop:
//
//   first = inclusive ? in[0] : acc;     out[0] = first
//   for i = 1 .. n-1:  carry = f(carry, in[inclusive ? i : i-1]); out[i] =
//   carry
//
// `f` is the scan's region applied element by element in one linalg.generic,
// and slices are rank-reducing tensor.extract_slice / insert_slice, so
// bufferization updates the output in place and the existing CPU lowering
// handles the rest.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"
#include "cp/Dialect/TMTensor/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::cp::tm_tensor {
#define GEN_PASS_DEF_CPLOWERTMTENSOR
#include "cp/Dialect/TMTensor/Transforms/Passes.h.inc"
} // namespace mlir::cp::tm_tensor

using namespace mlir;
using namespace mlir::cp::tm_tensor;

namespace {

/// Offsets, sizes and strides of the slice at position `pos` of dim `dim`.
struct SliceAt {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  SliceAt(OpBuilder &b, RankedTensorType t, int64_t dim, OpFoldResult pos) {
    for (int64_t i = 0; i < t.getRank(); ++i) {
      offsets.push_back(i == dim ? pos : b.getIndexAttr(0));
      sizes.push_back(b.getIndexAttr(i == dim ? 1 : t.getDimSize(i)));
      strides.push_back(b.getIndexAttr(1));
    }
  }
};

/// f(carry, x) element by element, with the scan's region as the body. The
/// result is written into `carry` itself so that one-shot bufferization
/// keeps the loop-carried value in one buffer (a fresh tensor per step would
/// not be equivalent to the iteration argument).
Value applyCombiner(OpBuilder &b, Location loc, ScanOp scan, Value carry,
                    Value x) {
  auto t = cast<RankedTensorType>(carry.getType());
  AffineMap id = b.getMultiDimIdentityMap(t.getRank());
  SmallVector<utils::IteratorType> iters(t.getRank(),
                                         utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, t, ValueRange{x}, ValueRange{carry},
      SmallVector<AffineMap>(2, id), iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        // Block arguments of the scan: (previous output, input element).
        Block &body = scan.getRegion().front();
        IRMapping map;
        map.map(body.getArgument(0), args[1]);
        map.map(body.getArgument(1), args[0]);
        for (Operation &op : body.without_terminator())
          nb.clone(op, map);
        Value r = map.lookupOrDefault(
            cast<YieldOp>(body.getTerminator()).getOperands()[0]);
        linalg::YieldOp::create(nb, l, r);
      });
  return generic.getResult(0);
}

LogicalResult lowerScan(ScanOp scan) {
  auto in = scan.getInput().getType();
  auto accType = scan.getAccumulator().getType();
  if (!in.hasStaticShape())
    return scan.emitOpError("the lowering needs static shapes");
  int64_t dim = scan.getDimension(), n = in.getDimSize(dim);
  if (n == 0)
    return scan.emitOpError("the lowering needs a non-empty scan dimension");
  OpBuilder b(scan);
  Location loc = scan.getLoc();
  bool inclusive = scan.getInclusive();
  SliceAt at0(b, in, dim, b.getIndexAttr(0));
  Value first =
      inclusive
          ? tensor::ExtractSliceOp::create(b, loc, accType, scan.getInput(),
                                           at0.offsets, at0.sizes, at0.strides)
                .getResult()
          : scan.getAccumulator();
  Value out = tensor::InsertSliceOp::create(
      b, loc, first, scan.getOutput(), at0.offsets, at0.sizes, at0.strides);
  Value accResult = scan.getAccumulator();
  if (n > 1) {
    Value lb = arith::ConstantIndexOp::create(b, loc, 1);
    Value ub = arith::ConstantIndexOp::create(b, loc, n);
    auto loop = scf::ForOp::create(
        b, loc, lb, ub, lb, ValueRange{first, out},
        [&](OpBuilder &lb2, Location l, Value i, ValueRange iter) {
          Value src = i;
          if (!inclusive)
            src = arith::SubIOp::create(
                lb2, l, i, arith::ConstantIndexOp::create(lb2, l, 1));
          SliceAt from(lb2, in, dim, src), to(lb2, in, dim, i);
          Value x = tensor::ExtractSliceOp::create(
              lb2, l, accType, scan.getInput(), from.offsets, from.sizes,
              from.strides);
          Value next = applyCombiner(lb2, l, scan, iter[0], x);
          Value o = tensor::InsertSliceOp::create(
              lb2, l, next, iter[1], to.offsets, to.sizes, to.strides);
          scf::YieldOp::create(lb2, l, ValueRange{next, o});
        });
    accResult = loop.getResult(0);
    out = loop.getResult(1);
  }
  scan.getResult().replaceAllUsesWith(out);
  scan.getAccumulatorResult().replaceAllUsesWith(accResult);
  scan.erase();
  return success();
}

struct LowerTMTensorPass
    : mlir::cp::tm_tensor::impl::CPLowerTMTensorBase<LowerTMTensorPass> {
  void runOnOperation() override {
    SmallVector<ScanOp> scans;
    getOperation()->walk([&](ScanOp op) { scans.push_back(op); });
    for (ScanOp scan : scans)
      if (failed(lowerScan(scan)))
        return signalPassFailure();
  }
};

} // namespace
