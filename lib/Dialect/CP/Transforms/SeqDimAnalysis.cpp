//===- SeqDimAnalysis.cpp - which tensors carry the sequence --------------===//
//
// A worklist over use-def chains in both directions from the attention
// operands: each value that carries the sequence is related, through
// SeqShardingOpInterface, to its defining op and every user. An op that
// mixes positions along the sequence in an unknown way (or that has no
// model) stops the pass with a diagnostic at that op: never a silent
// miscompile.
//
//===----------------------------------------------------------------------===//

#include "SeqDimAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-context-parallel"

using namespace mlir;
using namespace mlir::cp;

static RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

bool mlir::cp::isDataFree(Value v) {
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

Value mlir::cp::cloneDataFree(OpBuilder &b, Value v, RankedTensorType t) {
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

LogicalResult SeqDimAnalysis::addUses(llvm::MapVector<OpOperand *, int64_t> &uses,
                                      Value v, int64_t d, Operation *at) {
  for (OpOperand &use : v.getUses())
    if (use.getOwner() == at) {
      auto [it, inserted] = uses.try_emplace(&use, d);
      if (!inserted && it->second != d)
        return at->emitOpError("uses one value with the sequence in two "
                               "dims");
    }
  return success();
}

LogicalResult SeqDimAnalysis::add(Value v, int64_t d, Operation *at,
                                  std::optional<int64_t> innerFactorOf) {
  int64_t inner = innerFactorOf.value_or(innerFactor);
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
    LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << at->getName()
                            << " reads a whole-computed value in dim " << d
                            << ": its local shard\n");
    return addUses(shardAtUse, v, d, at);
  }
  // Values without data (empty, splat, fills of those) are often shared
  // by CSE between unrelated users: relate them per use, and give each
  // use its own local copy.
  if (isDataFree(v) && v.getDefiningOp() != at)
    return addUses(perUse, v, d, at);
  auto [it, inserted] = dims.try_emplace(v, d);
  if (!inserted) {
    if (it->second != d || innerOf.lookup(v) != inner)
      return at->emitOpError("a value carries the sequence in two dims (")
             << it->second << " and " << d
             << "); context parallelism needs one sequence dim per tensor";
    return success();
  }
  LLVM_DEBUG({
    llvm::dbgs() << "[cp-context-parallel] " << at->getName()
                 << ": sequence in dim " << d;
    if (inner != 1)
      llvm::dbgs() << " (merged, inner factor " << inner << ")";
    llvm::dbgs() << " of " << v.getType() << "\n";
  });
  innerOf[v] = inner;
  worklist.push_back({v, d});
  return success();
}

LogicalResult SeqDimAnalysis::relate(Operation *op, Value v, int64_t d) {
  if (auto iface = dyn_cast<SeqShardingOpInterface>(op)) {
    related.insert(op);
    return iface.relateSeqDim(v, d, *this);
  }
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << op->getName()
                          << " has no sequence-sharding model: rejected\n");
  if (isa<CallOpInterface>(op))
    return op->emitOpError("passes a tensor that carries the sequence to a "
                           "call; context parallelism is not "
                           "interprocedural: inline the callee first (e.g. "
                           "--inline)");
  if (isa<RegionBranchOpInterface>(op))
    return op->emitOpError("carries the sequence through its regions; "
                           "context parallelism does not shard control flow "
                           "(scf.for, scf.if, scf.while): unroll or convert "
                           "it to dataflow first");
  return op->emitOpError("does not implement the sequence-sharding "
                         "interface; cannot make it context-parallel");
}

LogicalResult SeqDimAnalysis::run() {
  while (!worklist.empty()) {
    auto [v, d] = worklist.pop_back_val();
    innerFactor = innerOf.lookup(v);
    if (Operation *def = v.getDefiningOp())
      if (failed(relate(def, v, d)))
        return failure();
    for (OpOperand &use : v.getUses())
      if (failed(relate(use.getOwner(), v, d)))
        return failure();
  }
  return success();
}

bool SeqDimAnalysis::isPlain(Value v) const {
  auto it = dims.find(v);
  return it != dims.end() &&
         rankedTensor(v).getShape()[it->second] == seqLen;
}
