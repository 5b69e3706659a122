//===- LinalgToBlas.cpp - CPU codegen: fusion and GEMMs through a BLAS ----===//
//
// Two passes of cp-lower-to-llvm's CPU path:
//  - cp-fuse-elementwise (tensors): generalize named linalg ops and fuse
//    elementwise producers into consumers with upstream's elementwise
//    fusion; into a contraction only pure transposes/copies are fused, so a
//    transposed weight becomes an indexing map (a BLAS transpose flag).
//  - cp-linalg-to-blas (buffers): an fp32 (batched) matrix product, named or
//    generic, becomes a call of cprt_c_matmul_f32 (OpenBLAS in the runtime).
//
//===----------------------------------------------------------------------===//

#include "cp/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-linalg-to-blas"

namespace mlir::cp {
#define GEN_PASS_DEF_CPFUSEELEMENTWISE
#define GEN_PASS_DEF_CPLINALGTOBLAS
#include "cp/Conversion/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;

namespace {

// Must match runtime/include/cprt/cprt_compiler.h.
enum MatmulFlags : int32_t {
  kTransA = 1,
  kTransB = 2,
  kAccumulate = 4,
};

//===----------------------------------------------------------------------===//
// cp-fuse-elementwise
//===----------------------------------------------------------------------===//

/// Named linalg ops (but fills, which lower to plain stores) as generics, so
/// that upstream's elementwise fusion (generic-only) sees them.
struct GeneralizeNamedOp : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (isa<linalg::GenericOp, linalg::FillOp>(op) ||
        !op.hasPureTensorSemantics())
      return failure();
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

/// A generic that only moves its single input (a copy or transpose).
bool isPermutedCopy(linalg::GenericOp g) {
  if (g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      !g.getMatchingIndexingMap(g.getDpsInputOperand(0)).isPermutation())
    return false;
  Block &body = g.getRegion().front();
  if (!llvm::hasSingleElement(body))
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body.getArgument(0);
}

bool allowFusion(OpOperand *fused) {
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!consumer || !linalg::isaContractionOpInterface(consumer))
    return true;
  auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
  return producer && isPermutedCopy(producer);
}

/// Gives every linalg op whose init is a shared linalg.fill its own fill.
/// torch-mlir reuses one zero-filled tensor as the init of several matmuls;
/// bufferization then fills one buffer and copies it per use, and the copy
/// hides the fill from cp-linalg-to-blas (which turns an adjacent zero fill
/// into beta = 0). A fill per use is written in place instead.
void unshareFills(ModuleOp module) {
  module.walk([](linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics())
      return;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto fill = init.get().getDefiningOp<linalg::FillOp>();
      if (!fill || fill->hasOneUse())
        continue;
      OpBuilder b(op);
      init.set(b.clone(*fill)->getResult(0));
    }
  });
}

struct FuseElementwisePass
    : cp::impl::CPFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    unshareFills(getOperation());
    RewritePatternSet generalize(ctx);
    generalize.add<GeneralizeNamedOp>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(generalize))))
      return signalPassFailure();
    RewritePatternSet fuse(ctx);
    linalg::populateElementwiseOpsFusionPatterns(fuse, allowFusion);
    if (failed(applyPatternsGreedily(getOperation(), std::move(fuse))))
      return signalPassFailure();
  }
};

//===----------------------------------------------------------------------===//
// cp-linalg-to-blas
//===----------------------------------------------------------------------===//

/// How one operand of a matrix product is laid out: whether its two matrix
/// dims come in the transposed order.
struct GemmShape {
  bool transA = false, transB = false;
};

/// Positions of `map`'s results as loop dims (all must be plain dims).
std::optional<SmallVector<unsigned>> dimPositions(AffineMap map) {
  SmallVector<unsigned> pos;
  for (AffineExpr e : map.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return std::nullopt;
    pos.push_back(d.getPosition());
  }
  return pos;
}

/// True when `pos` is [batch?, x, y] (transposed = false) or [batch?, y, x]
/// (transposed = true).
bool matrixOrder(ArrayRef<unsigned> pos, std::optional<unsigned> batch,
                 unsigned x, unsigned y, bool &transposed) {
  if (batch) {
    if (pos.empty() || pos.front() != *batch)
      return false;
    pos = pos.drop_front();
  }
  if (pos.size() != 2)
    return false;
  if (pos[0] == x && pos[1] == y)
    transposed = false;
  else if (pos[0] == y && pos[1] == x)
    transposed = true;
  else
    return false;
  return true;
}

/// A memref a BLAS can read: f32 with a static unit stride in its last dim.
bool blasReadable(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  if (!t || !t.getElementType().isF32() || t.getRank() < 2 || t.getRank() > 3)
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(t.getStridesAndOffset(strides, offset)))
    return false;
  return strides.back() == 1;
}

/// The transpose flags when `op` is an fp32 (batched) matrix product.
FailureOr<GemmShape> matchGemm(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return failure();
  // mulf/addf on f32 only (the interface also accepts integer bodies).
  for (Operation &inner : op.getBlock()->without_terminator())
    if (!isa<arith::MulFOp, arith::AddFOp>(inner))
      return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->batch.size() > 1 || dims->m.size() != 1 ||
      dims->n.size() != 1 || dims->k.size() != 1)
    return failure();
  std::optional<unsigned> batch;
  if (!dims->batch.empty())
    batch = dims->batch.front();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto a = dimPositions(maps[0]), b = dimPositions(maps[1]),
       c = dimPositions(maps[2]);
  GemmShape shape;
  bool cTransposed = true;
  if (!a || !b || !c ||
      !matrixOrder(*a, batch, dims->m[0], dims->k[0], shape.transA) ||
      !matrixOrder(*b, batch, dims->k[0], dims->n[0], shape.transB) ||
      !matrixOrder(*c, batch, dims->m[0], dims->n[0], cTransposed) ||
      cTransposed)
    return failure();
  for (OpOperand &operand : op->getOpOperands())
    if (!blasReadable(operand.get()))
      return failure();
  return shape;
}

/// A linalg.fill of +0.0 into `buffer` right before `op`, if any.
linalg::FillOp zeroFillBefore(Operation *op, Value buffer) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || !fill.hasPureBufferSemantics() ||
      fill.getDpsInitOperand(0)->get() != buffer)
    return nullptr;
  auto cst =
      fill.getDpsInputOperand(0)->get().getDefiningOp<arith::ConstantOp>();
  auto zero = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return zero && zero.getValue().isPosZero() ? fill : nullptr;
}

func::FuncOp declareMatmul(ModuleOp module, Location loc) {
  StringRef name = "cprt_c_matmul_f32";
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  MLIRContext *ctx = module.getContext();
  Type mr = UnrankedMemRefType::get(Float32Type::get(ctx), 0);
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(
      b, loc, name,
      FunctionType::get(ctx, {mr, mr, mr, IntegerType::get(ctx, 32)}, {}));
  fn.setPrivate();
  return fn;
}

void lowerToCall(linalg::LinalgOp op, GemmShape shape, func::FuncOp callee) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value out = op.getDpsInitOperand(0)->get();
  int32_t flags = (shape.transA ? kTransA : 0) | (shape.transB ? kTransB : 0);
  if (linalg::FillOp fill = zeroFillBefore(op, out))
    fill.erase();
  else
    flags |= kAccumulate;
  SmallVector<Value> args;
  for (OpOperand &operand : op->getOpOperands())
    args.push_back(memref::CastOp::create(
        b, loc, UnrankedMemRefType::get(b.getF32Type(), 0), operand.get()));
  args.push_back(arith::ConstantIntOp::create(b, loc, flags, 32));
  func::CallOp::create(b, loc, callee, args);
  op.erase();
}

struct LinalgToBlasPass : cp::impl::CPLinalgToBlasBase<LinalgToBlasPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<linalg::LinalgOp, GemmShape>> gemms;
    module.walk([&](linalg::LinalgOp op) {
      FailureOr<GemmShape> shape = matchGemm(op);
      LLVM_DEBUG(llvm::dbgs()
                 << (succeeded(shape) ? "BLAS: " : "loops: ") << op->getName()
                 << " at " << op.getLoc() << "\n");
      if (succeeded(shape))
        gemms.push_back({op, *shape});
    });
    if (gemms.empty())
      return;
    func::FuncOp callee = declareMatmul(module, module.getLoc());
    for (auto [op, shape] : gemms)
      lowerToCall(op, shape, callee);
  }
};

} // namespace
