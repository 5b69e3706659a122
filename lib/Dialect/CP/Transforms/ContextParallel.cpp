//===- ContextParallel.cpp - single-device to per-rank functions ----------===//
//
// cp-context-parallel turns a function with attention into its per-rank form.
//
// 1. A sequence-dim analysis finds every tensor that carries the attention's
//    sequence dim, and which dim it is, by walking use-def chains in both
//    directions from the attention operands through ops whose effect on that
//    dim is known (linalg ops by their indexing maps, elementwise ops,
//    reshapes that keep the dim apart, TOSA elementwise/transpose/matmul).
//    An op that mixes positions along the dim in an unknown way stops the
//    pass with a diagnostic at that op: never a silent miscompile.
// 2. The rewrite changes the sequence dim of all those tensors from S to the
//    local length L: arguments become local shards (recorded in `cp.sharding`
//    argument attributes), constants are sharded in the function with
//    cp.shard, attention becomes cp.ring_attention[_backward] (flex attention
//    attends to all-gathered keys/values with position-mapped modifiers),
//    `linalg.index` on the sequence loop becomes the original position
//    through cp.global_position, and reductions over the sequence get a
//    shard.all_reduce.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::cp {
#define GEN_PASS_DEF_CPCONTEXTPARALLEL
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

using ValueDim = std::pair<Value, int64_t>;

RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

//===----------------------------------------------------------------------===//
// Sequence-dim analysis
//===----------------------------------------------------------------------===//

class SeqDimAnalysis {
public:
  explicit SeqDimAnalysis(int64_t seqLen) : seqLen(seqLen) {}

  /// Records that `v` carries the sequence in dim `d`; diagnoses conflicts.
  LogicalResult add(Value v, int64_t d, Operation *at) {
    auto t = rankedTensor(v);
    if (!t)
      return at->emitOpError("expected a ranked tensor to carry the sequence");
    if (d < 0 || d >= t.getRank())
      return at->emitOpError("internal error: sequence dim out of range");
    auto [it, inserted] = dims.try_emplace(v, d);
    if (!inserted) {
      if (it->second != d)
        return at->emitOpError("a value carries the sequence in two dims (")
               << it->second << " and " << d
               << "); context parallelism needs one sequence dim per tensor";
      return success();
    }
    if (t.getShape()[d] != seqLen)
      return at->emitOpError("expected the sequence dim ")
             << d << " to have the attention's length " << seqLen << ", got "
             << t.getShape()[d]
             << " (sequences of different lengths cannot be sharded together)";
    worklist.push_back({v, d});
    return success();
  }

  /// Propagates until the set of sequence-carrying values is closed.
  LogicalResult run() {
    while (!worklist.empty()) {
      auto [v, d] = worklist.pop_back_val();
      if (Operation *def = v.getDefiningOp())
        if (failed(relate(def, v, d)))
          return failure();
      for (OpOperand &use : v.getUses())
        if (failed(relate(use.getOwner(), v, d)))
          return failure();
    }
    return success();
  }

  llvm::MapVector<Value, int64_t> dims;
  /// Linalg ops whose sequence loop is a reduction, with that loop.
  llvm::MapVector<Operation *, unsigned> seqReductions;
  /// Linalg ops whose sequence loop is parallel, with that loop.
  llvm::MapVector<Operation *, unsigned> seqLoops;

private:
  /// Relates the sequence dim `d` of `v` (an operand or result of `op`) to
  /// the other operands and results of `op`.
  LogicalResult relate(Operation *op, Value v, int64_t d);
  LogicalResult relateLinalg(linalg::LinalgOp op, Value v, int64_t d);
  LogicalResult relateReshape(Operation *op, Value src, Value res,
                              ArrayRef<ReassociationIndices> reassoc,
                              bool expand, Value v, int64_t d);
  LogicalResult relateAttention(Operation *op, Value v, int64_t d);

  /// A slice keeps dim `d` whole: offset 0, size `size`, stride 1.
  LogicalResult keepsWholeDim(Operation *op, ArrayRef<OpFoldResult> offsets,
                              ArrayRef<OpFoldResult> sizes,
                              ArrayRef<OpFoldResult> strides, int64_t size,
                              int64_t d) {
    std::optional<int64_t> off = getConstantIntValue(offsets[d]);
    std::optional<int64_t> sz = getConstantIntValue(sizes[d]);
    std::optional<int64_t> st = getConstantIntValue(strides[d]);
    if (off != 0 || sz != size || st != 1)
      return op->emitOpError("slices the sequence dim (positions depend on "
                             "the slice); cannot shard it");
    return success();
  }

  int64_t seqLen;
  SmallVector<ValueDim> worklist;
};

LogicalResult SeqDimAnalysis::relateLinalg(linalg::LinalgOp op, Value v,
                                           int64_t d) {
  // Find the loop that indexes dim d of v.
  std::optional<unsigned> loop;
  auto loopOf = [&](AffineMap map, int64_t dim) -> std::optional<unsigned> {
    if (auto e = dyn_cast<AffineDimExpr>(map.getResult(dim)))
      return e.getPosition();
    return std::nullopt;
  };
  for (OpOperand &operand : op->getOpOperands())
    if (operand.get() == v)
      loop = loopOf(op.getMatchingIndexingMap(&operand), d);
  for (OpResult res : op->getResults())
    if (res == v)
      loop = loopOf(op.getIndexingMapMatchingResult(res), d);
  if (!loop)
    return op->emitOpError("indexes the sequence dim with a non-trivial "
                           "affine expression; cannot shard it");
  unsigned l = *loop;
  // Every operand and result that uses loop l carries the sequence there.
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (unsigned k = 0; k < map.getNumResults(); ++k) {
      AffineExpr e = map.getResult(k);
      if (auto de = dyn_cast<AffineDimExpr>(e)) {
        if (de.getPosition() == l && failed(add(operand.get(), k, op)))
          return failure();
      } else if (e.isFunctionOfDim(l)) {
        return op->emitOpError("indexes the sequence dim with a non-trivial "
                               "affine expression; cannot shard it");
      }
    }
  }
  bool reduction =
      op.getIteratorTypesArray()[l] == utils::IteratorType::reduction;
  for (OpResult res : op->getResults()) {
    AffineMap map = op.getIndexingMapMatchingResult(res);
    for (unsigned k = 0; k < map.getNumResults(); ++k)
      if (auto de = dyn_cast<AffineDimExpr>(map.getResult(k)))
        if (de.getPosition() == l && failed(add(res, k, op)))
          return failure();
  }
  if (reduction)
    seqReductions[op] = l;
  else
    seqLoops[op] = l;
  return success();
}

LogicalResult SeqDimAnalysis::relateReshape(
    Operation *op, Value src, Value res, ArrayRef<ReassociationIndices> reassoc,
    bool expand, Value v, int64_t d) {
  // expand: src dim g <-> res dims reassoc[g]; collapse: res dim g <-> src
  // dims reassoc[g]. The sequence dim must be the only non-unit dim of its
  // group, so the reshape does not interleave positions with other dims.
  Value grouped = expand ? res : src, single = expand ? src : res;
  auto gt = rankedTensor(grouped);
  for (auto [g, group] : llvm::enumerate(reassoc)) {
    bool inGroup = (v == single && (int64_t)g == d) ||
                   (v == grouped && llvm::is_contained(group, d));
    if (!inGroup)
      continue;
    std::optional<int64_t> seqDim;
    for (int64_t i : group) {
      int64_t size = gt.getShape()[i];
      if (size == 1)
        continue;
      if (seqDim || (v == grouped && i != d && size != 1))
        return op->emitOpError("merges the sequence dim with other non-unit "
                               "dims; cannot shard it");
      seqDim = i;
    }
    if (!seqDim)
      return op->emitOpError("internal error: sequence dim vanished");
    if (failed(add(single, g, op)) || failed(add(grouped, *seqDim, op)))
      return failure();
    return success();
  }
  return op->emitOpError("internal error: sequence dim not in a group");
}

LogicalResult SeqDimAnalysis::relateAttention(Operation *op, Value v,
                                              int64_t d) {
  // q, k, v, out, grad tensors: [..., S, D] -> dim rank-2; lse: dim rank-1;
  // mask: only its query dim (rank-2) is sharded, its key dim stays whole.
  auto seqDimOf = [&](Value x) -> int64_t {
    auto t = rankedTensor(x);
    return t.getRank() - 2;
  };
  SmallVector<Value> tensors, lses;
  Value mask;
  if (auto sdpa = dyn_cast<SDPAOp>(op)) {
    tensors = {sdpa.getQuery(), sdpa.getKey(), sdpa.getValue(),
               sdpa.getOutput()};
    if (sdpa.getLse())
      lses.push_back(sdpa.getLse());
    mask = sdpa.getMask();
  } else if (auto bw = dyn_cast<SDPABackwardOp>(op)) {
    tensors = {bw.getGradOutput(), bw.getQuery(),     bw.getKey(),
               bw.getValue(),      bw.getOutput(),    bw.getGradQuery(),
               bw.getGradKey(),    bw.getGradValue()};
    lses.push_back(bw.getLse());
    mask = bw.getMask();
  } else if (auto flex = dyn_cast<FlexAttentionOp>(op)) {
    tensors = {flex.getQuery(), flex.getKey(), flex.getValue(),
               flex.getOutput()};
    if (flex.getLse())
      lses.push_back(flex.getLse());
  }
  bool known = llvm::is_contained(tensors, v) && d == seqDimOf(v);
  known |= llvm::is_contained(lses, v) && d == rankedTensor(v).getRank() - 1;
  known |= v == mask && d == rankedTensor(v).getRank() - 2;
  if (!known)
    return op->emitOpError("the sequence reaches this attention op through a "
                           "dim that is not its sequence dim (dim ")
           << d << "); cannot shard it";
  for (Value t : tensors)
    if (failed(add(t, seqDimOf(t), op)))
      return failure();
  for (Value l : lses)
    if (failed(add(l, rankedTensor(l).getRank() - 1, op)))
      return failure();
  if (mask && rankedTensor(mask).getShape()[seqDimOf(mask)] != 1)
    if (failed(add(mask, seqDimOf(mask), op)))
      return failure();
  return success();
}

LogicalResult SeqDimAnalysis::relate(Operation *op, Value v, int64_t d) {
  if (isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
    return relateAttention(op, v, d);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return relateLinalg(linalgOp, v, d);
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(op)) {
    if ((int64_t)softmax.getDimension() == d)
      return op->emitOpError("normalises over the sequence dim outside "
                             "attention; cannot shard it");
    Value related[] = {softmax.getInput(), softmax.getOutput(),
                       softmax.getResult()[0]};
    for (Value x : related)
      if (failed(add(x, d, op)))
        return failure();
    return success();
  }
  if (isa<tensor::EmptyOp, arith::ConstantOp, func::ReturnOp>(op)) {
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      if (empty.getType().isDynamicDim(d))
        return op->emitOpError("has a dynamic sequence dim; expected static");
    return success();
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return relateReshape(op, expand.getSrc(), expand.getResult(),
                         expand.getReassociationIndices(), /*expand=*/true, v,
                         d);
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return relateReshape(op, collapse.getSrc(), collapse.getResult(),
                         collapse.getReassociationIndices(), /*expand=*/false,
                         v, d);
  if (isa<tensor::CastOp>(op) ||
      (op->hasTrait<OpTrait::Elementwise>() &&
       op->hasTrait<OpTrait::SameOperandsAndResultShape>()) ||
      (op->getDialect() &&
       op->getDialect()->getNamespace() == "tosa" &&
       op->hasTrait<OpTrait::SameOperandsAndResultRank>() &&
       op->getNumResults() == 1)) {
    // Elementwise (with TOSA's size-1 broadcasting): the same dim everywhere.
    for (Value x : llvm::concat<Value>(op->getOperands(), op->getResults())) {
      auto t = rankedTensor(x);
      if (!t || t.getRank() != rankedTensor(v).getRank())
        continue;
      if (t.getShape()[d] == 1 && seqLen != 1)
        continue; // broadcast along the sequence
      if (failed(add(x, d, op)))
        return failure();
    }
    return success();
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    // Slices that keep the whole sequence (offset 0, full size, stride 1)
    // commute with the split; rank-reducing slices drop other dims.
    if (slice.getSourceType().getRank() != slice.getType().getRank())
      return op->emitOpError("rank-reducing slice of a sequence tensor; "
                             "cannot shard it");
    if (failed(keepsWholeDim(op, slice.getMixedOffsets(),
                             slice.getMixedSizes(), slice.getMixedStrides(),
                             slice.getSourceType().getShape()[d], d)))
      return failure();
    return failure(failed(add(slice.getSource(), d, op)) ||
                   failed(add(slice.getResult(), d, op)));
  }
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
    if (insert.getSourceType().getRank() != insert.getType().getRank())
      return op->emitOpError("rank-changing insert into a sequence tensor; "
                             "cannot shard it");
    if (failed(keepsWholeDim(op, insert.getMixedOffsets(),
                             insert.getMixedSizes(), insert.getMixedStrides(),
                             insert.getType().getShape()[d], d)))
      return failure();
    return failure(failed(add(insert.getSource(), d, op)) ||
                   failed(add(insert.getDest(), d, op)) ||
                   failed(add(insert.getResult(), d, op)));
  }
  if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
    if ((int64_t)concat.getDim() == d)
      return op->emitOpError("concatenates along the sequence dim; cannot "
                             "shard it");
    for (Value x : concat.getInputs())
      if (failed(add(x, d, op)))
        return failure();
    return add(concat.getResult(), d, op);
  }
  if (auto transpose = dyn_cast<tosa::TransposeOp>(op)) {
    ArrayRef<int32_t> perms = transpose.getPerms();
    if (v == transpose.getInput1()) {
      auto it = llvm::find(perms, d);
      return add(transpose.getResult(), it - perms.begin(), op);
    }
    if (failed(add(transpose.getInput1(), perms[d], op)))
      return failure();
    return success();
  }
  if (auto matmul = dyn_cast<tosa::MatMulOp>(op)) {
    // [N, H, C] x [N, C, W] -> [N, H, W]: rows of A are rows of the result.
    if ((v == matmul.getA() || v == matmul.getResult()) && d == 1)
      return failure(failed(add(matmul.getA(), 1, op)) ||
                     failed(add(matmul.getResult(), 1, op)));
    return op->emitOpError("contracts or batches over the sequence dim "
                           "outside attention; cannot shard it");
  }
  return op->emitOpError("cannot make '")
         << op->getName()
         << "' context-parallel: unknown how it maps the sequence dim";
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ContextParallelPass
    : cp::impl::CPContextParallelBase<ContextParallelPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult runOnFunction(func::FuncOp func, shard::GridOp grid);
  shard::GridOp getOrCreateGrid();
};

shard::GridOp ContextParallelPass::getOrCreateGrid() {
  ModuleOp module = getOperation();
  if (auto grid = module.lookupSymbol<shard::GridOp>(gridName))
    return grid;
  if (gridSize < 1) {
    module.emitError("grid-size must be >= 1, got ") << gridSize;
    return nullptr;
  }
  OpBuilder b(module.getBodyRegion());
  return shard::GridOp::create(b, module.getLoc(), gridName,
                               ArrayRef<int64_t>{gridSize});
}

void ContextParallelPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<func::FuncOp> funcs;
  module.walk([&](func::FuncOp f) {
    if (!f.isExternal() &&
        f.walk([](Operation *op) {
           return isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op)
                      ? WalkResult::interrupt()
                      : WalkResult::advance();
         }).wasInterrupted())
      funcs.push_back(f);
  });
  if (funcs.empty())
    return;
  shard::GridOp grid = getOrCreateGrid();
  if (!grid)
    return signalPassFailure();
  for (func::FuncOp f : funcs)
    if (failed(runOnFunction(f, grid)))
      return signalPassFailure();
}

/// The attention ops' common sequence length, or a diagnostic.
static FailureOr<int64_t> attentionSeqLen(func::FuncOp func) {
  std::optional<int64_t> seqLen;
  WalkResult r = func.walk([&](Operation *op) {
    Value q, k;
    double dropout = 0.0;
    if (auto s = dyn_cast<SDPAOp>(op)) {
      q = s.getQuery(), k = s.getKey();
      if (s.getDropoutP())
        dropout = s.getDropoutP()->convertToDouble();
    } else if (auto b = dyn_cast<SDPABackwardOp>(op)) {
      q = b.getQuery(), k = b.getKey();
      if (b.getDropoutP())
        dropout = b.getDropoutP()->convertToDouble();
    } else if (auto f = dyn_cast<FlexAttentionOp>(op)) {
      q = f.getQuery(), k = f.getKey();
    } else {
      return WalkResult::advance();
    }
    auto qt = rankedTensor(q), kt = rankedTensor(k);
    int64_t lq = qt.getShape()[qt.getRank() - 2];
    int64_t lk = kt.getShape()[kt.getRank() - 2];
    if (ShapedType::isDynamic(lq) || ShapedType::isDynamic(lk)) {
      op->emitOpError("has a dynamic sequence length; context parallelism "
                      "needs static shapes");
      return WalkResult::interrupt();
    }
    if (lq != lk) {
      op->emitOpError("attends ")
          << lq << " queries to " << lk
          << " keys; context parallelism shards self-attention over one "
             "sequence (equal query and key lengths)";
      return WalkResult::interrupt();
    }
    if (dropout != 0.0) {
      op->emitOpError("has dropout_p = ")
          << dropout << "; dropout under context parallelism is not supported";
      return WalkResult::interrupt();
    }
    if (seqLen && *seqLen != lq) {
      op->emitOpError("has sequence length ")
          << lq << " but another attention op in this function has "
          << *seqLen << "; expected one sequence length per function";
      return WalkResult::interrupt();
    }
    seqLen = lq;
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  return *seqLen;
}

/// Replaces `linalg.index` of the sequence loop by the original position.
static void rewriteIndexOps(linalg::LinalgOp op, unsigned loop,
                            llvm::function_ref<Value()> getRank,
                            shard::GridOp grid, LoadBalancer balancer,
                            int64_t seqLen, bool pad) {
  SmallVector<linalg::IndexOp> indices;
  op->walk([&](linalg::IndexOp idx) {
    if (idx.getDim() == loop)
      indices.push_back(idx);
  });
  if (indices.empty())
    return;
  Value rank = getRank();
  for (linalg::IndexOp idx : indices) {
    OpBuilder b(idx->getContext());
    b.setInsertionPointAfter(idx);
    auto pos = GlobalPositionOp::create(
        b, idx.getLoc(), b.getIndexType(), idx.getResult(), rank,
        FlatSymbolRefAttr::get(grid.getSymNameAttr()),
        b.getDenseI16ArrayAttr({}), LoadBalancerAttr::get(b.getContext(), balancer),
        b.getI64IntegerAttr(seqLen), IntegerAttr(),
        pad ? b.getUnitAttr() : UnitAttr());
    idx.getResult().replaceAllUsesExcept(pos, pos);
  }
}

/// The shard.all_reduce kind for a linalg op reducing over the sequence, if
/// its combiner is a plain sum/max/min whose init is that kind's identity.
static FailureOr<shard::ReductionKind> reductionKind(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1)
    return failure();
  SmallVector<Operation *> combiners;
  Value red = matchReduction(op.getRegionOutputArgs(), 0, combiners);
  if (!red || combiners.size() != 1)
    return failure();
  Operation *c = combiners.front();
  shard::ReductionKind kind;
  if (isa<arith::AddFOp, arith::AddIOp>(c))
    kind = shard::ReductionKind::Sum;
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp>(c))
    kind = shard::ReductionKind::Max;
  else if (isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp>(c))
    kind = shard::ReductionKind::Min;
  else
    return failure();
  // The init must not be counted once per rank: require a fill with the
  // identity (0 for sums; for max/min any value is idempotent).
  if (kind == shard::ReductionKind::Sum) {
    Value init = op.getDpsInits()[0];
    auto fill = init.getDefiningOp<linalg::FillOp>();
    if (!fill || !(matchPattern(fill.getInputs()[0], m_AnyZeroFloat()) ||
                   matchPattern(fill.getInputs()[0], m_Zero())))
      return failure();
  }
  return kind;
}

LogicalResult ContextParallelPass::runOnFunction(func::FuncOp func,
                                                 shard::GridOp grid) {
  FailureOr<int64_t> seqLenOr = attentionSeqLen(func);
  if (failed(seqLenOr))
    return failure();
  int64_t seqLen = *seqLenOr;
  int64_t world = shard::collectiveProcessGroupSize(
      ArrayRef<int16_t>{0}, grid.getShape());
  if (grid.getRank() != 1)
    return func.emitOpError("expected a 1-D grid for the ring, got rank ")
           << grid.getRank();
  if (ShapedType::isDynamic(world))
    return func.emitOpError("expected a grid of static size");
  LoadBalancer balancer = loadBalance;
  if (balancer == LoadBalancer::per_document_head_tail ||
      balancer == LoadBalancer::ptrr)
    return func.emitOpError("load-balance=")
           << stringifyLoadBalancer(balancer)
           << " needs document ids or a block mask at run time; the pass "
              "supports none, head_tail and striped";
  std::optional<int64_t> localLen =
      localSeqLen(seqLen, world, balancer, std::nullopt, pad);
  if (!localLen)
    return func.emitOpError("sequence length ")
           << seqLen << " cannot be split by " << stringifyLoadBalancer(balancer)
           << " balancing over " << world << " ranks: expected a multiple of "
           << balancerGranule(balancer, std::nullopt) * world
           << "; pass pad=true to pad with masked positions";

  // 1. Analysis, seeded by the attention ops.
  SeqDimAnalysis analysis(seqLen);
  WalkResult seeded = func.walk([&](Operation *op) {
    Value q;
    if (auto s = dyn_cast<SDPAOp>(op))
      q = s.getQuery();
    else if (auto b = dyn_cast<SDPABackwardOp>(op))
      q = b.getQuery();
    else if (auto f = dyn_cast<FlexAttentionOp>(op))
      q = f.getQuery();
    else
      return WalkResult::advance();
    if (failed(analysis.add(q, rankedTensor(q).getRank() - 2, op)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (seeded.wasInterrupted() || failed(analysis.run()))
    return failure();

  // Pad with garbage is only sound where padded positions never mix into
  // real ones: attention masks them, reductions would not.
  if (pad && *localLen * world != seqLen && !analysis.seqReductions.empty())
    return analysis.seqReductions.front().first->emitOpError(
        "reduces over the sequence, which padding would change; choose a "
        "sequence length that splits evenly");

  // seq-args, when given, must name exactly the arguments found.
  if (!seqArgs.empty()) {
    for (BlockArgument arg : func.getArguments()) {
      bool found = analysis.dims.contains(arg);
      bool listed = llvm::is_contained(seqArgs, arg.getArgNumber());
      if (found && !listed)
        return func.emitOpError("argument ")
               << arg.getArgNumber()
               << " carries the sequence into attention but is not listed in "
                  "seq-args";
      if (listed && !found)
        return func.emitOpError("argument ")
               << arg.getArgNumber()
               << " is listed in seq-args but no attention op depends on its "
                  "sequence dim";
    }
    for (unsigned i : seqArgs)
      if (i >= func.getNumArguments())
        return func.emitOpError("seq-args names argument ")
               << i << " but the function has " << func.getNumArguments();
  }

  MLIRContext *ctx = func.getContext();
  OpBuilder b(ctx);
  auto gridRef = FlatSymbolRefAttr::get(grid.getSymNameAttr());
  auto balancerAttr = LoadBalancerAttr::get(ctx, balancer);
  auto localType = [&](Value v, int64_t d) {
    auto t = rankedTensor(v);
    SmallVector<int64_t> shape(t.getShape());
    shape[d] = *localLen;
    return RankedTensorType::get(shape, t.getElementType(), t.getEncoding());
  };
  auto shardingAttr = [&](int64_t d) {
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("grid", gridRef), b.getNamedAttr("dim", b.getI64IntegerAttr(d)),
        b.getNamedAttr("balancer", balancerAttr),
        b.getNamedAttr("seq_len", b.getI64IntegerAttr(seqLen))};
    if (pad)
      attrs.push_back(b.getNamedAttr("pad", b.getUnitAttr()));
    return b.getDictionaryAttr(attrs);
  };

  // 2. Rewrite. Results first: the values they name are replaced below.
  Block &entry = func.getBody().front();
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  SmallVector<std::optional<int64_t>> resultDims;
  for (Value v : ret.getOperands()) {
    auto it = analysis.dims.find(v);
    resultDims.push_back(it == analysis.dims.end()
                             ? std::nullopt
                             : std::optional<int64_t>(it->second));
  }
  // Rank index for position-dependent code, at function entry.
  b.setInsertionPointToStart(&entry);
  Value rank;
  auto getRank = [&]() {
    if (!rank) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&entry);
      rank = shard::ProcessLinearIndexOp::create(b, func.getLoc(), gridRef)
                 .getResult();
    }
    return rank;
  };

  // Arguments.
  for (BlockArgument arg : func.getArguments()) {
    auto it = analysis.dims.find(arg);
    if (it == analysis.dims.end())
      continue;
    arg.setType(localType(arg, it->second));
    func.setArgAttr(arg.getArgNumber(), "cp.sharding",
                    shardingAttr(it->second));
  }

  // Ops, in order; collect attention ops to replace afterwards.
  SmallVector<Operation *> attentionOps;
  for (auto &[v, d] : analysis.dims) {
    if (isa<BlockArgument>(v))
      continue;
    Operation *def = v.getDefiningOp();
    if (auto cst = dyn_cast<arith::ConstantOp>(def)) {
      auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
      b.setInsertionPointAfter(cst);
      if (dense && dense.isSplat()) {
        auto t = localType(v, d);
        auto local = arith::ConstantOp::create(
            b, cst.getLoc(), t, DenseElementsAttr::get(t, dense.getSplatValue<Attribute>()));
        v.replaceAllUsesWith(local.getResult());
        continue;
      }
      // A non-splat constant along the sequence (iota, causal mask, RoPE
      // table): every rank keeps its shard.
      auto shard = ShardOp::create(
          b, cst.getLoc(), localType(v, d), v, Value(), gridRef,
          b.getDenseI16ArrayAttr({}), b.getI64IntegerAttr(d), balancerAttr,
          IntegerAttr(), pad ? b.getUnitAttr() : UnitAttr());
      v.replaceAllUsesExcept(shard.getResult(), shard);
      continue;
    }
    if (auto empty = dyn_cast<tensor::EmptyOp>(def)) {
      b.setInsertionPoint(empty);
      auto local = tensor::EmptyOp::create(b, empty.getLoc(), localType(v, d),
                                           empty.getDynamicSizes());
      v.replaceAllUsesWith(local.getResult());
      continue;
    }
    if (isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(def)) {
      v.setType(localType(v, d));
      if (!llvm::is_contained(attentionOps, def))
        attentionOps.push_back(def);
      continue;
    }
    v.setType(localType(v, d));
    auto localSizes = [&](ArrayRef<int64_t> sizes) {
      SmallVector<int64_t> s(sizes);
      s[d] = *localLen;
      return b.getDenseI64ArrayAttr(s);
    };
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def))
      slice.setStaticSizesAttr(localSizes(slice.getStaticSizes()));
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(def))
      insert.setStaticSizesAttr(localSizes(insert.getStaticSizes()));
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def))
      expand.setStaticOutputShapeAttr(
          b.getDenseI64ArrayAttr(rankedTensor(v).getShape()));
  }
  // Erase the now-unused global tensor.empty / constants.
  for (auto &[v, d] : analysis.dims)
    if (Operation *def = v.getDefiningOp())
      if (isa<tensor::EmptyOp, arith::ConstantOp>(def) && def->use_empty())
        def->erase();

  // Position-dependent code and reductions over the sequence.
  for (auto &[op, loop] : analysis.seqLoops)
    rewriteIndexOps(cast<linalg::LinalgOp>(op), loop, getRank, grid,
                    balancer, seqLen, pad);
  for (auto &[op, loop] : analysis.seqReductions) {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    bool usesIndex = false;
    op->walk([&](linalg::IndexOp idx) { usesIndex |= idx.getDim() == loop; });
    FailureOr<shard::ReductionKind> kind = reductionKind(linalgOp);
    if (failed(kind) || usesIndex)
      return op->emitOpError(
          "reduces over the sequence dim with a combiner or init that has no "
          "collective form (expected a sum from a zero fill, or a max/min)");
    b.setInsertionPointAfter(op);
    for (OpResult res : op->getResults()) {
      auto reduced = shard::AllReduceOp::create(
          b, op->getLoc(), res.getType(), gridRef, b.getDenseI16ArrayAttr({0}),
          res, shard::ReductionKindAttr::get(ctx, *kind));
      res.replaceAllUsesExcept(reduced.getResult(), reduced);
    }
  }

  // Attention ops become ring attention.
  for (Operation *op : attentionOps) {
    b.setInsertionPoint(op);
    auto common = [&](OperationState &state, bool causal,
                      std::optional<APFloat> scale, bool gqa) {
      state.addAttribute("grid", gridRef);
      state.addAttribute("rotate", RotateMethodAttr::get(ctx, rotate));
      state.addAttribute("balancer", balancerAttr);
      state.addAttribute("seq_len", b.getI64IntegerAttr(seqLen));
      if (pad)
        state.addAttribute("pad", b.getUnitAttr());
      if (causal)
        state.addAttribute("is_causal", b.getUnitAttr());
      if (scale)
        state.addAttribute("scale", b.getF64FloatAttr(scale->convertToDouble()));
      if (gqa)
        state.addAttribute("enable_gqa", b.getUnitAttr());
    };
    if (auto sdpa = dyn_cast<SDPAOp>(op)) {
      OperationState state(op->getLoc(), RingAttentionOp::getOperationName());
      SmallVector<Value> operands = {sdpa.getQuery(), sdpa.getKey(),
                                     sdpa.getValue()};
      if (sdpa.getMask())
        operands.push_back(sdpa.getMask());
      state.addOperands(operands);
      state.addAttribute("operandSegmentSizes",
                         b.getDenseI32ArrayAttr(
                             {1, 1, 1, sdpa.getMask() ? 1 : 0, 0}));
      common(state, sdpa.getIsCausal(), sdpa.getScale(), sdpa.getEnableGqa());
      state.addTypes(sdpa->getResultTypes());
      Operation *ring = b.create(state);
      op->replaceAllUsesWith(ring->getResults());
      op->erase();
      continue;
    }
    if (auto bw = dyn_cast<SDPABackwardOp>(op)) {
      OperationState state(op->getLoc(),
                           RingAttentionBackwardOp::getOperationName());
      SmallVector<Value> operands = {bw.getGradOutput(), bw.getQuery(),
                                     bw.getKey(),        bw.getValue(),
                                     bw.getOutput(),     bw.getLse()};
      if (bw.getMask())
        operands.push_back(bw.getMask());
      state.addOperands(operands);
      state.addAttribute("operandSegmentSizes",
                         b.getDenseI32ArrayAttr(
                             {1, 1, 1, 1, 1, 1, bw.getMask() ? 1 : 0, 0}));
      common(state, bw.getIsCausal(), bw.getScale(), bw.getEnableGqa());
      state.addTypes(bw->getResultTypes());
      Operation *ring = b.create(state);
      op->replaceAllUsesWith(ring->getResults());
      op->erase();
      continue;
    }
    // Flex attention: local queries attend to all-gathered keys/values (in
    // rank order, i.e. the balancer's order); the modifiers see original
    // positions through cp.global_position.
    auto flex = cast<FlexAttentionOp>(op);
    if (balancer == LoadBalancer::per_document_head_tail ||
        balancer == LoadBalancer::ptrr)
      return op->emitOpError("flex attention supports none, head_tail and "
                             "striped balancing");
    auto gather = [&](Value x) {
      auto t = rankedTensor(x);
      SmallVector<int64_t> shape(t.getShape());
      shape[t.getRank() - 2] *= world;
      return shard::AllGatherOp::create(
                 b, op->getLoc(), RankedTensorType::get(shape, t.getElementType()),
                 gridRef, b.getDenseI16ArrayAttr({0}), x,
                 b.getIndexAttr(t.getRank() - 2))
          .getResult();
    };
    Value kAll = gather(flex.getKey()), vAll = gather(flex.getValue());
    flex->setOperand(1, kAll);
    flex->setOperand(2, vAll);
    Value r = getRank();
    Location loc = op->getLoc();
    auto mapPositions = [&](Region &region, unsigned qArg, unsigned kvArg,
                            bool addPadMask) -> Value {
      Block &body = region.front();
      OpBuilder rb = OpBuilder::atBlockBegin(&body);
      Value cL = arith::ConstantIndexOp::create(rb, loc, *localLen);
      auto pos = [&](Value local, Value owner) {
        return GlobalPositionOp::create(
                   rb, loc, rb.getIndexType(), local, owner, gridRef,
                   rb.getDenseI16ArrayAttr({}), balancerAttr,
                   rb.getI64IntegerAttr(seqLen), IntegerAttr(),
                   pad ? rb.getUnitAttr() : UnitAttr())
            .getResult();
      };
      BlockArgument qIdx = body.getArgument(qArg);
      BlockArgument kvIdx = body.getArgument(kvArg);
      Value qPos = pos(qIdx, r);
      Value src = arith::DivUIOp::create(rb, loc, kvIdx, cL);
      Value local = arith::RemUIOp::create(rb, loc, kvIdx, cL);
      Value kvPos = pos(local, src);
      qIdx.replaceAllUsesExcept(qPos, qPos.getDefiningOp());
      kvIdx.replaceUsesWithIf(kvPos, [&](OpOperand &use) {
        return use.getOwner() != src.getDefiningOp() &&
               use.getOwner() != local.getDefiningOp();
      });
      if (!addPadMask)
        return Value();
      Value cS = arith::ConstantIndexOp::create(rb, loc, seqLen);
      return arith::CmpIOp::create(rb, loc, arith::CmpIPredicate::ult, kvPos,
                                   cS);
    };
    bool padded = *localLen * world != seqLen;
    if (flex.getMaskMod().empty() && padded) {
      Block *block = new Block();
      flex.getMaskMod().push_back(block);
      for (int i = 0; i < 4; ++i)
        block->addArgument(b.getIndexType(), loc);
      OpBuilder rb = OpBuilder::atBlockEnd(block);
      Value t = arith::ConstantIntOp::create(rb, loc, 1, 1);
      YieldOp::create(rb, loc, ValueRange{t});
    }
    if (!flex.getMaskMod().empty()) {
      Value valid = mapPositions(flex.getMaskMod(), 2, 3, padded);
      if (valid) {
        auto yield = cast<YieldOp>(flex.getMaskMod().front().getTerminator());
        OpBuilder rb(yield);
        Value keep = arith::AndIOp::create(rb, loc, yield.getValues()[0], valid);
        yield->setOperand(0, keep);
      }
    }
    if (!flex.getScoreMod().empty())
      mapPositions(flex.getScoreMod(), 3, 4, false);
  }

  // Results: record how each returned tensor is sharded.
  for (auto [i, d] : llvm::enumerate(resultDims))
    if (d)
      func.setResultAttr(i, "cp.sharding", shardingAttr(*d));
  func.setType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                 ret.getOperandTypes()));
  func->setAttr("cp.context_parallel",
                b.getDictionaryAttr({b.getNamedAttr("grid", gridRef),
                                     b.getNamedAttr("world_size",
                                                    b.getI64IntegerAttr(world)),
                                     b.getNamedAttr("rotate",
                                                    RotateMethodAttr::get(ctx, rotate)),
                                     b.getNamedAttr("balancer", balancerAttr)}));
  return success();
}

} // namespace
