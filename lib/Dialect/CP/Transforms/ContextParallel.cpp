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
//    shard.all_reduce. Scans along the sequence (torch-mlir's
//    tm_tensor.scan for cumsum) become cp.seq_scan.
//
//===----------------------------------------------------------------------===//

#include "StrategyChoice.h"
#include "Ulysses.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Dialect/TMTensor/IR/TMTensorOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

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

/// TOSA ops that act element by element (with size-1 broadcasting);
/// operands of another rank (tosa.mul's shift) are not tensors of the data.
bool isTosaElementwise(Operation *op) {
  static const llvm::StringSet<> names = {
      "tosa.add",       "tosa.sub",         "tosa.mul",
      "tosa.pow",       "tosa.maximum",     "tosa.minimum",
      "tosa.exp",       "tosa.log",         "tosa.reciprocal",
      "tosa.rsqrt",     "tosa.negate",      "tosa.abs",
      "tosa.cast",      "tosa.select",      "tosa.greater",
      "tosa.greater_equal", "tosa.equal",   "tosa.logical_and",
      "tosa.logical_or", "tosa.logical_not", "tosa.clamp",
      "tosa.sigmoid",   "tosa.tanh",        "tosa.erf",
      "tosa.sin",       "tosa.cos",         "tosa.ceil",
      "tosa.floor",     "tosa.int_div",     "tosa.bitwise_and"};
  return op->getNumResults() == 1 &&
         names.contains(op->getName().getStringRef());
}

/// A tensor whose value does not depend on data: tensor.empty, a splat
/// constant, or a linalg.fill of a scalar into one of those.
bool isDataFree(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (isa<tensor::EmptyOp>(def))
    return true;
  if (auto cst = dyn_cast<arith::ConstantOp>(def))
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
      return dense.isSplat();
  if (auto cst = dyn_cast<tosa::ConstOp>(def))
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValues()))
      return dense.isSplat();
  if (auto fill = dyn_cast<linalg::FillOp>(def))
    return fill.getNumDpsInits() == 1 && fill->getNumResults() == 1 &&
           isDataFree(fill.getDpsInits()[0]);
  return false;
}

/// Re-creates the data-free `v` with type `t` at `b`.
Value cloneDataFree(OpBuilder &b, Value v, RankedTensorType t) {
  Operation *def = v.getDefiningOp();
  Location loc = def->getLoc();
  if (isa<tensor::EmptyOp>(def))
    return tensor::EmptyOp::create(b, loc, t.getShape(), t.getElementType());
  if (auto cst = dyn_cast<arith::ConstantOp>(def))
    return arith::ConstantOp::create(
        b, loc, t,
        DenseElementsAttr::get(
            t, cast<DenseElementsAttr>(cst.getValue()).getSplatValue<Attribute>()));
  if (auto cst = dyn_cast<tosa::ConstOp>(def))
    return tosa::ConstOp::create(
        b, loc, t,
        DenseElementsAttr::get(
            t, cast<DenseElementsAttr>(cst.getValues()).getSplatValue<Attribute>()));
  auto fill = cast<linalg::FillOp>(def);
  Value init = cloneDataFree(b, fill.getDpsInits()[0], t);
  return linalg::FillOp::create(b, loc, fill.getInputs()[0], init).getResult(0);
}

/// The values of `func` that depend on none of its arguments (positions,
/// masks and tables built from constants and iotas): every rank can compute
/// them whole.
llvm::DenseSet<Value> argumentFreeValues(func::FuncOp func) {
  llvm::DenseSet<Value> free;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == func.getOperation())
      return WalkResult::advance();
    if (op->getParentOp() != func.getOperation())
      return WalkResult::skip(); // nested ops: judged with their parent
    if (op->getNumResults() == 0 || !isMemoryEffectFree(op) ||
        isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
      return WalkResult::skip();
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    auto isFree = [&](Value x) { return free.contains(x); };
    if (llvm::all_of(op->getOperands(), isFree) &&
        llvm::all_of(captured, isFree))
      for (Value r : op->getResults())
        free.insert(r);
    return WalkResult::skip();
  });
  return free;
}

class SeqDimAnalysis {
public:
  explicit SeqDimAnalysis(int64_t seqLen,
                          const llvm::DenseSet<Value> *whole = nullptr)
      : seqLen(seqLen), whole(whole) {}

  /// Records that `v` carries the sequence in dim `d`; diagnoses conflicts.
  /// The dim may hold the sequence as one factor of a merged dim: its size
  /// is outer * S * inner, with `inner` (default: that of the value being
  /// related) the product of the merged dims inside the sequence.
  LogicalResult add(Value v, int64_t d, Operation *at,
                    std::optional<int64_t> innerFactor = std::nullopt) {
    int64_t inner = innerFactor.value_or(curInner);
    auto t = rankedTensor(v);
    if (!t)
      return at->emitOpError("expected a ranked tensor to carry the sequence");
    if (d < 0 || d >= t.getRank())
      return at->emitOpError("internal error: sequence dim out of range");
    int64_t size = t.getShape()[d];
    if (ShapedType::isDynamic(size) || size % (seqLen * inner) != 0)
      return at->emitOpError("expected the sequence dim ")
             << d << " to hold the attention's length " << seqLen
             << (inner != 1 ? " (times the dims merged inside it)" : "")
             << ", got " << size
             << " (sequences of different lengths cannot be sharded together)";
    // Argument-free values that are computed whole (second attempt, see
    // runOnFunction): each user reads its local shard (cp.shard).
    if (whole && whole->contains(v) && !isDataFree(v) &&
        v.getDefiningOp() != at) {
      if (inner != 1)
        return at->emitOpError("reads a sequence-independent tensor with "
                               "the sequence merged into other dims; cannot "
                               "shard it");
      for (OpOperand &use : v.getUses())
        if (use.getOwner() == at) {
          auto [it, inserted] = shardAtUse.try_emplace(&use, d);
          if (!inserted && it->second != d)
            return at->emitOpError("uses one value with the sequence in two "
                                   "dims");
        }
      return success();
    }
    // Values without data (empty, splat, fills of those) are often shared
    // by CSE between unrelated users: relate them per use, and give each
    // use its own local copy.
    if (isDataFree(v) && v.getDefiningOp() != at) {
      for (OpOperand &use : v.getUses())
        if (use.getOwner() == at) {
          auto [it, inserted] = perUse.try_emplace(&use, d);
          if (!inserted && it->second != d)
            return at->emitOpError("uses one value with the sequence in two "
                                   "dims");
        }
      return success();
    }
    auto [it, inserted] = dims.try_emplace(v, d);
    if (!inserted) {
      if (it->second != d || innerOf.lookup(v) != inner)
        return at->emitOpError("a value carries the sequence in two dims (")
               << it->second << " and " << d
               << "); context parallelism needs one sequence dim per tensor";
      return success();
    }
    innerOf[v] = inner;
    worklist.push_back({v, d});
    return success();
  }

  /// Propagates until the set of sequence-carrying values is closed.
  LogicalResult run() {
    while (!worklist.empty()) {
      auto [v, d] = worklist.pop_back_val();
      curInner = innerOf.lookup(v);
      if (Operation *def = v.getDefiningOp())
        if (failed(relate(def, v, d)))
          return failure();
      for (OpOperand &use : v.getUses())
        if (failed(relate(use.getOwner(), v, d)))
          return failure();
    }
    return success();
  }

  /// True when `v` holds the sequence as a plain dim of length S.
  bool isPlain(Value v) const {
    auto it = dims.find(v);
    return it != dims.end() &&
           rankedTensor(v).getShape()[it->second] == seqLen;
  }

  llvm::MapVector<Value, int64_t> dims;
  /// Product of the dims merged inside the sequence (1: a plain dim).
  DenseMap<Value, int64_t> innerOf;
  /// Uses of data-free values that need a local copy, with the dim.
  llvm::MapVector<OpOperand *, int64_t> perUse;
  /// Linalg ops whose sequence loop is a reduction, with that loop.
  llvm::MapVector<Operation *, unsigned> seqReductions;
  /// Linalg ops whose sequence loop is parallel, with that loop.
  llvm::MapVector<Operation *, unsigned> seqLoops;
  /// tm_tensor.scan ops that scan along the sequence, with the scan kind.
  llvm::MapVector<Operation *, ScanKind> seqScans;
  /// Operands that read a sequence-carrying tensor whole, in original order
  /// (cp.unshard): reads at data-dependent places (tensor.extract,
  /// tosa.gather's table), whose indices are the original program's, and
  /// attention masks that carry the sequence in their key dim only (a
  /// key-padding mask [.., 1, S] from an attention_mask argument).
  llvm::SetVector<OpOperand *> wholeReads;
  /// Uses of argument-free values computed whole, with the dim their user
  /// shards (second attempt only).
  llvm::MapVector<OpOperand *, int64_t> shardAtUse;

private:
  /// Relates the sequence dim `d` of `v` (an operand or result of `op`) to
  /// the other operands and results of `op`.
  LogicalResult relate(Operation *op, Value v, int64_t d);
  LogicalResult relateLinalg(linalg::LinalgOp op, Value v, int64_t d);
  LogicalResult relateReshape(Operation *op, Value src, Value res,
                              ArrayRef<ReassociationIndices> reassoc,
                              bool expand, Value v, int64_t d);
  LogicalResult relateAttention(Operation *op, Value v, int64_t d);
  LogicalResult relateGeneralReshape(Operation *op, Value a, Value b, Value v,
                                     int64_t d);
  LogicalResult relateScan(tm_tensor::ScanOp op, Value v, int64_t d);
  LogicalResult relateTosaDataMovement(Operation *op, Value v, int64_t d);

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
  /// Argument-free values to compute whole instead of sharding (or null).
  const llvm::DenseSet<Value> *whole;
  int64_t curInner = 1;
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
  // dims reassoc[g]. The sequence (with the dims merged inside it) must stay
  // one contiguous factor: in the grouped side it is one dim k, and the
  // single dim holds it with inner factor inner_k * prod(sizes after k).
  Value grouped = expand ? res : src, single = expand ? src : res;
  auto gt = rankedTensor(grouped);
  int64_t inner = curInner;
  for (auto [g, group] : llvm::enumerate(reassoc)) {
    bool inGroup = (v == single && (int64_t)g == d) ||
                   (v == grouped && llvm::is_contained(group, d));
    if (!inGroup)
      continue;
    auto suffix = [&](unsigned pos) {
      int64_t p = 1;
      for (unsigned i = pos + 1; i < group.size(); ++i)
        p *= gt.getShape()[group[i]];
      return p;
    };
    if (v == grouped) {
      unsigned pos = llvm::find(group, d) - group.begin();
      return failure(failed(add(grouped, d, op, inner)) ||
                     failed(add(single, g, op, inner * suffix(pos))));
    }
    // From the single dim: find the grouped dim that holds the sequence.
    for (int pos = group.size() - 1; pos >= 0; --pos) {
      int64_t p = suffix(pos), size = gt.getShape()[group[pos]];
      if (inner % p != 0)
        continue;
      int64_t f = inner / p;
      if (size % (seqLen * f) == 0)
        return failure(failed(add(single, g, op, inner)) ||
                       failed(add(grouped, group[pos], op, f)));
    }
    return op->emitOpError("splits the sequence dim across several dims; "
                           "cannot shard it");
  }
  return op->emitOpError("internal error: sequence dim not in a group");
}

LogicalResult SeqDimAnalysis::relateGeneralReshape(Operation *op, Value a,
                                                   Value b, Value v,
                                                   int64_t d) {
  // Row-major reshape: view both shapes as one flat index. The sequence of
  // `v` spans flat strides [inner, inner * S) of the flat range of dim d;
  // on the other side it must lie inside one dim whose own stride divides
  // it.
  Value other = v == a ? b : a;
  ArrayRef<int64_t> from = rankedTensor(v).getShape(),
                    to = rankedTensor(other).getShape();
  auto stride = [](ArrayRef<int64_t> shape, int64_t dim) {
    int64_t p = 1;
    for (int64_t i = dim + 1; i < (int64_t)shape.size(); ++i)
      p *= shape[i];
    return p;
  };
  int64_t lo = stride(from, d) * curInner; // flat stride of one position
  int64_t hi = lo * seqLen;                // flat stride of the whole sequence
  for (int64_t m = 0; m < (int64_t)to.size(); ++m) {
    int64_t st = stride(to, m);
    if (lo % st != 0 || hi > st * to[m] || (st * to[m]) % hi != 0)
      continue;
    return failure(failed(add(v, d, op)) ||
                   failed(add(other, m, op, lo / st)));
  }
  return op->emitOpError("reshapes the sequence across several dims; cannot "
                         "shard it");
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
  if (curInner != 1)
    return op->emitOpError("the sequence reaches this attention op merged "
                           "with other dims; cannot shard it");
  bool known = llvm::is_contained(tensors, v) && d == seqDimOf(v);
  known |= llvm::is_contained(lses, v) && d == rankedTensor(v).getRank() - 1;
  known |= v == mask && d == rankedTensor(v).getRank() - 2;
  // A mask along the keys only (its query dim broadcast): every rank needs
  // all of it, gathered in original order (wholeReads).
  if (v == mask && d == rankedTensor(v).getRank() - 1) {
    if (rankedTensor(v).getShape()[seqDimOf(v)] != 1)
      return op->emitOpError("the mask carries the sequence in its key dim "
                             "but not in its query dim; cannot shard it");
    if (auto sdpa = dyn_cast<SDPAOp>(op))
      wholeReads.insert(&sdpa.getMaskMutable()[0]);
    else
      wholeReads.insert(&cast<SDPABackwardOp>(op).getMaskMutable()[0]);
    known = true;
  }
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

/// The cp.seq_scan kind of a scan region that is one sum or product.
static std::optional<ScanKind> scanKindOf(tm_tensor::ScanOp scan) {
  Operation *c = scan.getCombiner();
  if (isa_and_nonnull<arith::AddFOp, arith::AddIOp>(c))
    return ScanKind::sum;
  if (isa_and_nonnull<arith::MulFOp, arith::MulIOp>(c))
    return ScanKind::prod;
  return std::nullopt;
}

LogicalResult SeqDimAnalysis::relateScan(tm_tensor::ScanOp op, Value v,
                                         int64_t d) {
  // input, output and result share all dims; the accumulator (and its
  // result) lacks the scanned one.
  int64_t scanDim = op.getDimension();
  bool full = v == op.getInput() || v == op.getOutput() || v == op.getResult();
  int64_t fullDim = full ? d : d + (d >= scanDim ? 1 : 0);
  Value fulls[] = {op.getInput(), op.getOutput(), op.getResult()};
  if (fullDim != scanDim) {
    // A scan over another dim: every sequence position scans on its own.
    int64_t accDim = fullDim - (fullDim > scanDim ? 1 : 0);
    for (Value x : fulls)
      if (failed(add(x, fullDim, op)))
        return failure();
    return failure(failed(add(op.getAccumulator(), accDim, op)) ||
                   failed(add(op.getAccumulatorResult(), accDim, op)));
  }
  // A scan along the sequence: becomes cp.seq_scan in the rewrite.
  if (curInner != 1)
    return op.emitOpError("scans along the sequence merged with other dims; "
                          "cannot shard it");
  if (!op.getInclusive())
    return op.emitOpError("is an exclusive scan along the sequence dim; only "
                          "inclusive scans (torch.cumsum, torch.cumprod) can "
                          "be made context-parallel");
  std::optional<ScanKind> kind = scanKindOf(op);
  if (!kind)
    return op.emitOpError("scans along the sequence dim with a combiner that "
                          "has no collective form (expected one arith.add or "
                          "arith.mul of the two block arguments)");
  if (!op.getAccumulatorResult().use_empty())
    return op.emitOpError("uses the accumulator result of a scan along the "
                          "sequence dim (the value at the last position); "
                          "cannot shard it");
  Type et = op.getInput().getType().getElementType();
  if (!et.isF32() && !et.isF64() && !et.isInteger(32) && !et.isInteger(64))
    return op.emitOpError("scans along the sequence dim over ")
           << et << " elements; context-parallel scans take f32, f64, i32 or i64";
  seqScans[op] = *kind;
  for (Value x : fulls)
    if (failed(add(x, d, op)))
      return failure();
  return success();
}

/// Constant values of a !tosa.shape operand, or std::nullopt.
static std::optional<SmallVector<int64_t>> constShape(Value shape) {
  auto cst = shape.getDefiningOp<tosa::ConstShapeOp>();
  if (!cst)
    return std::nullopt;
  return llvm::to_vector(
      cast<DenseIntElementsAttr>(cst.getValues()).getValues<int64_t>());
}

LogicalResult SeqDimAnalysis::relateTosaDataMovement(Operation *op, Value v,
                                                     int64_t d) {
  // Each of these ops keeps the dims of its first operand in place; they
  // commute with the split where they leave the sequence dim whole.
  Value in = op->getOperand(0), out = op->getResult(0);
  if (v != in && v != out)
    return op->emitOpError("the sequence reaches a shape operand; cannot "
                           "shard it");
  int64_t size = rankedTensor(in).getShape()[d];
  if (auto slice = dyn_cast<tosa::SliceOp>(op)) {
    std::optional<SmallVector<int64_t>> start = constShape(slice.getStart()),
                                        sizes = constShape(slice.getSize());
    if (!start || !sizes)
      return op->emitOpError("slices with a start or size that is not a "
                             "tosa.const_shape; cannot shard it");
    int64_t sz = (*sizes)[d] == -1 ? size - (*start)[d] : (*sizes)[d];
    if ((*start)[d] != 0 || sz != size)
      return op->emitOpError("slices the sequence dim ")
             << d << " (start " << (*start)[d] << ", size " << (*sizes)[d]
             << " of " << size
             << "); positions depend on the slice, cannot shard it";
  } else if (auto pad = dyn_cast<tosa::PadOp>(op)) {
    std::optional<SmallVector<int64_t>> padding = constShape(pad.getPadding());
    if (!padding)
      return op->emitOpError("pads by a tosa.shape that is not constant; "
                             "cannot shard it");
    if ((*padding)[2 * d] != 0 || (*padding)[2 * d + 1] != 0)
      return op->emitOpError("pads the sequence dim ")
             << d << " (by " << (*padding)[2 * d] << " before and "
             << (*padding)[2 * d + 1]
             << " after; torch-mlir's TOSA cumsum shifts the sequence this "
                "way); cannot shard it";
  } else if (auto reverse = dyn_cast<tosa::ReverseOp>(op)) {
    if (reverse.getAxis() == d)
      return op->emitOpError("reverses the sequence dim; cannot shard it");
  }
  return failure(failed(add(in, d, op)) || failed(add(out, d, op)));
}

LogicalResult SeqDimAnalysis::relate(Operation *op, Value v, int64_t d) {
  if (isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
    return relateAttention(op, v, d);
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return relateLinalg(linalgOp, v, d);
  if (auto scan = dyn_cast<tm_tensor::ScanOp>(op))
    return relateScan(scan, v, d);
  if (isa<tosa::SliceOp, tosa::PadOp, tosa::ReverseOp, tosa::IdentityOp>(op))
    return relateTosaDataMovement(op, v, d);
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
      isTosaElementwise(op)) {
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
  if (isa<tosa::ReduceSumOp, tosa::ReduceMaxOp, tosa::ReduceMinOp,
          tosa::ReduceProductOp, tosa::ReduceAllOp, tosa::ReduceAnyOp,
          tosa::ArgMaxOp>(op)) {
    auto axis = op->getAttrOfType<IntegerAttr>("axis");
    if (!axis || axis.getInt() == d)
      return op->emitOpError("reduces over the sequence dim outside "
                             "attention; cannot shard it");
    if (isa<tosa::ArgMaxOp>(op) && d > axis.getInt())
      return failure(failed(add(op->getOperand(0), d, op)) ||
                     failed(add(op->getResult(0), d - 1, op)));
    return failure(failed(add(op->getOperand(0), d, op)) ||
                   failed(add(op->getResult(0), d, op)));
  }
  if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
    // An element at data-dependent indices (transformers' packed-sequence
    // mask gathers document ids by position): read the whole tensor.
    if (v != extract.getTensor() || curInner != 1 ||
        rankedTensor(v).getShape()[d] != seqLen)
      return op->emitOpError("reads the sequence at data-dependent places "
                             "from a tensor that merges it with other dims; "
                             "cannot shard it");
    wholeReads.insert(&extract.getTensorMutable());
    return success();
  }
  if (auto gather = dyn_cast<tosa::GatherOp>(op)) {
    // values [N, K, C], indices [N, W] -> out [N, W, C]. N is a batch dim;
    // W only selects (indices are data, the table is read whole); K is
    // read at data-dependent places: a table along the sequence is read
    // whole (wholeReads).
    Value values = gather.getValues(), indices = gather.getIndices(),
          out = gather.getOutput();
    if (v == values && d == 1) {
      if (curInner != 1 || rankedTensor(values).getShape()[1] != seqLen)
        return op->emitOpError("gathers along the sequence dim merged with "
                               "other dims; cannot shard it");
      wholeReads.insert(&gather.getValuesMutable());
      return success();
    }
    if (d == 0)
      return failure(failed(add(values, 0, op)) || failed(add(indices, 0, op)) ||
                     failed(add(out, 0, op)));
    if (d == 1 && (v == indices || v == out))
      return failure(failed(add(indices, 1, op)) || failed(add(out, 1, op)));
    return op->emitOpError("internal error: unexpected gather dim");
  }
  if (auto tile = dyn_cast<tosa::TileOp>(op)) {
    auto in = rankedTensor(tile.getInput1());
    if (in.getShape()[d] == 1 && v == tile.getOutput())
      return success(); // replicated along the sequence: only the output carries it
    auto shape = tile.getMultiples().getDefiningOp<tosa::ConstShapeOp>();
    if (!shape || cast<DenseIntElementsAttr>(shape.getValues())
                          .getValues<int64_t>()[d] != 1)
      return op->emitOpError("tiles along the sequence dim; cannot shard it");
    return failure(failed(add(tile.getInput1(), d, op)) ||
                   failed(add(tile.getOutput(), d, op)));
  }
  if (isa<tosa::ConstOp>(op))
    return success();
  if (auto concat = dyn_cast<tosa::ConcatOp>(op)) {
    if (concat.getAxis() == d)
      return op->emitOpError("concatenates along the sequence dim; cannot "
                             "shard it");
    for (Value x : concat.getInput1())
      if (failed(add(x, d, op)))
        return failure();
    return add(concat.getOutput(), d, op);
  }
  if (auto reshape = dyn_cast<tosa::ReshapeOp>(op)) {
    if (!reshape.getShape().getDefiningOp<tosa::ConstShapeOp>())
      return op->emitOpError("reshapes the sequence to a shape that is not "
                             "constant; cannot shard it");
    return relateGeneralReshape(op, reshape.getInput1(), reshape.getResult(),
                                v, d);
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
  shard::GridOp getOrCreateGrid(Operation *symbolTableOp);
};

/// Checks that `grid` can carry the ring: one static axis of at least one
/// rank. A 0-sized axis would otherwise divide by zero in the layout.
static LogicalResult verifyRingGrid(shard::GridOp grid) {
  if (grid.getRank() != 1)
    return grid.emitOpError("expected a 1-D grid for the ring, got rank ")
           << grid.getRank();
  int64_t size = grid.getShape()[0];
  if (ShapedType::isDynamic(size))
    return grid.emitOpError("expected a grid of static size for the ring");
  if (size < 1)
    return grid.emitOpError("expected at least one rank for the ring, got a "
                            "grid of size ")
           << size;
  return success();
}

/// The grid named `gridName` in `symbolTableOp` (the nearest symbol table of
/// the functions that use it, so nested modules resolve it), created there
/// if absent; null after a diagnostic.
shard::GridOp ContextParallelPass::getOrCreateGrid(Operation *symbolTableOp) {
  Operation *existing = SymbolTable::lookupSymbolIn(symbolTableOp, gridName);
  if (existing) {
    auto grid = dyn_cast<shard::GridOp>(existing);
    if (!grid) {
      existing->emitOpError("is named '")
          << gridName << "', the grid the pass would create; rename it or "
          << "choose another grid name (grid=...)";
      return nullptr;
    }
    return succeeded(verifyRingGrid(grid)) ? grid : nullptr;
  }
  if (gridSize < 1) {
    symbolTableOp->emitError("grid-size must be >= 1, got ") << gridSize;
    return nullptr;
  }
  OpBuilder b(&symbolTableOp->getRegion(0).front(),
              symbolTableOp->getRegion(0).front().begin());
  return shard::GridOp::create(b, symbolTableOp->getLoc(), gridName,
                               ArrayRef<int64_t>{gridSize});
}

/// The pass changes a function's signature (whole tensors become local
/// shards) and its call sites would not follow: refuses calls to `funcs`
/// until context parallelism is interprocedural (--cp-pipeline inlines).
static LogicalResult checkNotCalled(ModuleOp module,
                                    ArrayRef<func::FuncOp> funcs) {
  llvm::SmallPtrSet<Operation *, 8> targets;
  for (func::FuncOp f : funcs)
    targets.insert(f);
  SymbolTableCollection symbols;
  WalkResult r = module.walk([&](CallOpInterface call) {
    Operation *callee = call.resolveCallableInTable(&symbols);
    if (!callee || !targets.contains(callee))
      return WalkResult::advance();
    InFlightDiagnostic diag =
        call->emitOpError("calls @")
        << cast<func::FuncOp>(callee).getName()
        << ", which has attention: cannot make a called function "
           "context-parallel; inline it first (e.g. --inline)";
    diag.attachNote(callee->getLoc()) << "the called function";
    return WalkResult::interrupt();
  });
  return failure(r.wasInterrupted());
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
  if (failed(checkNotCalled(module, funcs)))
    return signalPassFailure();
  DenseMap<Operation *, shard::GridOp> grids;
  for (func::FuncOp f : funcs) {
    Operation *table = SymbolTable::getNearestSymbolTable(f->getParentOp());
    shard::GridOp &grid = grids[table];
    if (!grid)
      grid = getOrCreateGrid(table);
    if (!grid || failed(runOnFunction(f, grid)))
      return signalPassFailure();
  }
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

/// Rewrites a tosa.slice whose result got the local sequence length: its
/// size operand keeps the whole (local) sequence dim.
static void rewriteTosaSliceSize(OpBuilder &b, tosa::SliceOp slice) {
  b.setInsertionPoint(slice);
  auto t = rankedTensor(slice.getOutput());
  auto shapeType = RankedTensorType::get({t.getRank()}, b.getIndexType());
  auto size = tosa::ConstShapeOp::create(
      b, slice.getLoc(), slice.getSize().getType(),
      DenseIntElementsAttr::get(shapeType, t.getShape()));
  slice.getSizeMutable().assign(size);
}

/// Erases `v`'s defining fill / empty chain once nothing uses it.
static void eraseDeadInit(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !def->use_empty() || !isa<linalg::FillOp, tensor::EmptyOp>(def))
    return;
  SmallVector<Value> operands(def->getOperands());
  def->erase();
  for (Value x : operands)
    eraseDeadInit(x);
}

/// Scans along the sequence become cp.seq_scan of the local shard (a local
/// scan plus an exclusive scan of chunk totals across ranks, in original
/// order); the analysis checked they are inclusive sums or products whose
/// accumulator result is unused.
static void rewriteSeqScans(OpBuilder &b, const SeqDimAnalysis &analysis,
                            FlatSymbolRefAttr gridRef,
                            LoadBalancerAttr balancerAttr, int64_t seqLen,
                            bool pad) {
  for (auto &[op, kind] : analysis.seqScans) {
    auto scan = cast<tm_tensor::ScanOp>(op);
    b.setInsertionPoint(scan);
    Value input = scan.getInput();
    auto seqScan = SeqScanOp::create(b, scan.getLoc(), input.getType(), input,
                                     gridRef, b.getDenseI16ArrayAttr({}),
                                     b.getI64IntegerAttr(scan.getDimension()),
                                     balancerAttr, b.getI64IntegerAttr(seqLen),
                                     ScanKindAttr::get(b.getContext(), kind),
                                     pad ? b.getUnitAttr() : UnitAttr());
    scan.getResult().replaceAllUsesWith(seqScan.getResult());
    Value out = scan.getOutput(), acc = scan.getAccumulator();
    scan.erase();
    eraseDeadInit(out);
    eraseDeadInit(acc);
  }
}

LogicalResult ContextParallelPass::runOnFunction(func::FuncOp func,
                                                 shard::GridOp grid) {
  FailureOr<int64_t> seqLenOr = attentionSeqLen(func);
  if (failed(seqLenOr))
    return failure();
  int64_t seqLen = *seqLenOr;
  int64_t world = grid.getShape()[0]; // checked by verifyRingGrid
  // Each rank must hold at least one real token (pad=true would accept any
  // number of ranks; each one costs a ring step).
  if (world > seqLen)
    return func.emitOpError("sequence length ")
           << seqLen << " over " << world
           << " ranks would leave ranks without a token; expected at most "
           << seqLen << " ranks";
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

  // Which attention ops use Ulysses (strategy=auto: StrategyChoice.cpp).
  auto plan = chooseStrategies(func, world, strategy, topology, rotate, balancer);
  if (failed(plan))
    return failure();
  // Ulysses distributes heads: check every attention before rewriting.
  {
    WalkResult r = func.walk([&](Operation *op) {
      if (plan->lookup(op) == CPStrategy::ulysses &&
          failed(checkUlysses(op, world)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return failure();
  }

  // 1. Analysis, seeded by the attention ops. First everything along the
  // sequence is sharded; if that fails, once more with the values that
  // depend on no argument (transformers' packed-sequence document ids,
  // computed from an iota with a shift, a scan and gathers) computed whole
  // on every rank and sharded where they meet sharded data. The first
  // attempt's diagnostics are reported if both fail.
  auto analyse = [&](SeqDimAnalysis &a) -> LogicalResult {
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
      if (failed(a.add(q, rankedTensor(q).getRank() - 2, op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return failure(seeded.wasInterrupted() || failed(a.run()));
  };
  llvm::DenseSet<Value> argumentFree = argumentFreeValues(func);
  std::optional<SeqDimAnalysis> sharded(std::in_place, seqLen);
  SmallVector<Diagnostic> firstErrors;
  LogicalResult firstTry = success();
  {
    ScopedDiagnosticHandler collect(func.getContext(), [&](Diagnostic &diag) {
      firstErrors.push_back(std::move(diag));
      return success();
    });
    firstTry = analyse(*sharded);
  }
  if (failed(firstTry)) {
    sharded.emplace(seqLen, &argumentFree);
    LogicalResult secondTry = success();
    {
      ScopedDiagnosticHandler drop(func.getContext(),
                                   [](Diagnostic &) { return success(); });
      secondTry = analyse(*sharded);
    }
    if (failed(secondTry)) {
      DiagnosticEngine &engine = func.getContext()->getDiagEngine();
      for (Diagnostic &diag : firstErrors)
        engine.emit(std::move(diag));
      return failure();
    }
  }
  SeqDimAnalysis &analysis = *sharded;

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
  UnitAttr padAttr = pad ? b.getUnitAttr() : UnitAttr();
  auto localType = [&](Value v, int64_t d) {
    auto t = rankedTensor(v);
    SmallVector<int64_t> shape(t.getShape());
    shape[d] = shape[d] / seqLen * *localLen; // outer * L * inner
    return RankedTensorType::get(shape, t.getElementType(), t.getEncoding());
  };
  auto shardingAttr = [&](int64_t d) {
    return ShardingAttr::get(ctx, gridRef, d, seqLen, balancer, pad);
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

  // Tensors crossing the function boundary, constants and position-
  // dependent code need the sequence as a plain dim.
  for (auto &[v, d] : analysis.dims) {
    if (analysis.isPlain(v))
      continue;
    bool boundary = isa<BlockArgument>(v) ||
                    llvm::is_contained(ret.getOperands(), v) ||
                    isa_and_nonnull<arith::ConstantOp, tosa::ConstOp>(
                        v.getDefiningOp());
    if (boundary)
      return (v.getDefiningOp() ? v.getDefiningOp() : func.getOperation())
                 ->emitOpError("a function argument, result or constant "
                               "holds the sequence merged with other dims "
                               "(dim ")
             << d << "); cannot shard it";
  }
  for (auto &[op, loop] : analysis.seqLoops) {
    bool usesIndex = false;
    op->walk([&, loop = loop](linalg::IndexOp idx) {
      usesIndex |= idx.getDim() == loop;
    });
    bool plain = llvm::all_of(op->getResults(), [&](Value r) {
      return !analysis.dims.contains(r) || analysis.isPlain(r);
    });
    if (usesIndex && !plain)
      return op->emitOpError("uses the index of a loop over the sequence "
                             "merged with other dims; cannot rewrite it to "
                             "original positions");
  }

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
    // Splat constants and empties are data-free: handled per use below.
    // Other constants along the sequence (iota, causal mask, RoPE table):
    // every rank keeps its shard.
    if (isa<arith::ConstantOp, tosa::ConstOp>(def)) {
      b.setInsertionPointAfter(def);
      auto shard = ShardOp::create(
          b, def->getLoc(), localType(v, d), v, Value(), gridRef,
          b.getDenseI16ArrayAttr({}), b.getI64IntegerAttr(d), balancerAttr,
          IntegerAttr(), padAttr);
      v.replaceAllUsesExcept(shard.getResult(), shard);
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
    if (auto tile = dyn_cast<tosa::TileOp>(def)) {
      b.setInsertionPoint(tile);
      auto in = rankedTensor(tile.getInput1());
      auto old = tile.getMultiples().getDefiningOp<tosa::ConstShapeOp>();
      SmallVector<int64_t> multiples(
          cast<DenseIntElementsAttr>(old.getValues()).getValues<int64_t>());
      // Along the sequence: replicated (input size 1) to the local length,
      // or carried by the input (multiple 1, unchanged).
      if (in.getShape()[d] == 1)
        multiples[d] = rankedTensor(v).getShape()[d];
      auto shapeType = RankedTensorType::get({in.getRank()}, b.getIndexType());
      auto shape = tosa::ConstShapeOp::create(
          b, tile.getLoc(), tile.getMultiples().getType(),
          DenseIntElementsAttr::get(shapeType, multiples));
      tile.getMultiplesMutable().assign(shape);
    }
    if (auto reshape = dyn_cast<tosa::ReshapeOp>(def)) {
      b.setInsertionPoint(reshape);
      auto shapeType = RankedTensorType::get(
          {rankedTensor(v).getRank()}, b.getIndexType());
      auto shape = tosa::ConstShapeOp::create(
          b, reshape.getLoc(), reshape.getShape().getType(),
          DenseIntElementsAttr::get(shapeType, rankedTensor(v).getShape()));
      reshape.getShapeMutable().assign(shape);
    }
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def))
      expand.setStaticOutputShapeAttr(
          b.getDenseI64ArrayAttr(rankedTensor(v).getShape()));
    if (auto slice = dyn_cast<tosa::SliceOp>(def))
      rewriteTosaSliceSize(b, slice);
  }
  // Each use of a shared data-free value gets its own local copy.
  for (auto &[use, d] : analysis.perUse) {
    b.setInsertionPoint(use->getOwner());
    use->set(cloneDataFree(b, use->get(), localType(use->get(), d)));
  }
  // Erase the now-unused global tensor.empty / constants.
  for (auto &[v, d] : analysis.dims)
    if (Operation *def = v.getDefiningOp())
      if (isa<tensor::EmptyOp, arith::ConstantOp, tosa::ConstOp>(def) &&
          def->use_empty())
        def->erase();

  // Argument-free values computed whole: one local shard per value and dim,
  // right after its definition, for the users that need it.
  DenseMap<std::pair<Value, int64_t>, Value> shardOf;
  for (auto &[use, d] : analysis.shardAtUse) {
    Value whole = use->get();
    Value &local = shardOf[{whole, d}];
    if (!local) {
      b.setInsertionPointAfterValue(whole);
      local = ShardOp::create(b, whole.getLoc(), localType(whole, d), whole,
                              Value(), gridRef, b.getDenseI16ArrayAttr({}),
                              b.getI64IntegerAttr(d), balancerAttr,
                              IntegerAttr(), padAttr)
                  .getResult();
    }
    use->set(local);
  }

  // Whole reads (data-dependent places, key-dim masks) see the tensor in
  // original order: one gather per tensor, right after its definition.
  DenseMap<Value, Value> wholeOf;
  for (OpOperand *use : analysis.wholeReads) {
    Value local = use->get();
    Value &whole = wholeOf[local];
    if (!whole && local.getDefiningOp<ShardOp>()) {
      whole = local.getDefiningOp<ShardOp>().getInput(); // a constant's shard
    } else if (!whole) {
      auto t = rankedTensor(local);
      int64_t d = analysis.dims.lookup(local);
      SmallVector<int64_t> shape(t.getShape());
      shape[d] = seqLen;
      b.setInsertionPointAfterValue(local);
      whole = UnshardOp::create(b, local.getLoc(), t.clone(shape), local,
                                Value(), gridRef, b.getDenseI16ArrayAttr({}),
                                b.getI64IntegerAttr(d), balancerAttr,
                                IntegerAttr(), padAttr)
                  .getResult();
    }
    use->set(whole);
  }

  rewriteSeqScans(b, analysis, gridRef, balancerAttr, seqLen, pad);

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

  // Attention ops become ring attention (or, with strategy=ulysses,
  // all-to-alls around local attention: Ulysses.cpp).
  // Sharded: along the analysis, or a local shard of a value computed whole.
  auto isSharded = [&](Value v) {
    return analysis.dims.contains(v) || v.getDefiningOp<ShardOp>();
  };
  UlyssesOptions ulysses{gridRef, world, balancer, seqLen, pad, getRank,
                         isSharded};
  for (Operation *op : attentionOps) {
    if (plan->lookup(op) == CPStrategy::ulysses) {
      if (failed(rewriteUlysses(op, ulysses)))
        return failure();
      continue;
    }
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
  SmallVector<NamedAttribute> cpAttrs = {
      b.getNamedAttr("grid", gridRef),
      b.getNamedAttr("world_size", b.getI64IntegerAttr(world)),
      b.getNamedAttr("rotate", RotateMethodAttr::get(ctx, rotate)),
      b.getNamedAttr("balancer", balancerAttr)};
  if (auto summary = strategySummary(*plan))
    cpAttrs.push_back(b.getNamedAttr("strategy", b.getStringAttr(*summary)));
  func->setAttr("cp.context_parallel", b.getDictionaryAttr(cpAttrs));
  return success();
}

} // namespace
