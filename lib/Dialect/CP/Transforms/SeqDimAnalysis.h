//===- SeqDimAnalysis.h - which tensors carry the sequence ------*- C++ -*-===//
//
// Private to MLIRCPTransforms: the sequence-dim analysis of
// cp-context-parallel. Starting from the attention ops' queries, it finds
// every tensor that carries the sequence (and in which dim) by asking each
// op it reaches through SeqShardingOpInterface::relateSeqDim, and collects
// what the rewrite needs beyond a type change (loops, reductions and scans
// over the sequence, whole reads, per-use copies).
//
//===----------------------------------------------------------------------===//
#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_SEQDIMANALYSIS_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_SEQDIMANALYSIS_H

#include "cp/Interfaces/SeqShardingOpInterface.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::cp {

/// A tensor whose value does not depend on data: tensor.empty, a splat
/// constant, or a linalg.fill of a scalar into one of those.
bool isDataFree(Value v);

/// Re-creates the data-free `v` with type `t` at `b`.
Value cloneDataFree(OpBuilder &b, Value v, RankedTensorType t);

class SeqDimAnalysis : public SeqRelateContext {
public:
  /// `whole`: argument-free values to compute whole on every rank (and
  /// shard where they meet sharded data) instead of sharding them; null on
  /// the first attempt.
  explicit SeqDimAnalysis(int64_t seqLen,
                          const llvm::DenseSet<Value> *whole = nullptr)
      : SeqRelateContext(seqLen), whole(whole) {}

  LogicalResult add(Value v, int64_t d, Operation *at,
                    std::optional<int64_t> inner = std::nullopt) override;
  void addSeqLoop(Operation *op, unsigned loop) override {
    seqLoops[op] = loop;
  }
  void addSeqReduction(Operation *op, unsigned loop) override {
    seqReductions[op] = loop;
  }
  void addSeqScan(Operation *op) override { seqScans.insert(op); }
  void addWholeRead(OpOperand &use) override { wholeReads.insert(&use); }

  /// Propagates until the set of sequence-carrying values is closed.
  LogicalResult run();

  /// True when `v` holds the sequence as a plain dim of length S.
  bool isPlain(Value v) const;

  llvm::MapVector<Value, int64_t> dims;
  /// Product of the dims merged inside the sequence (1: a plain dim).
  DenseMap<Value, int64_t> innerOf;
  /// Uses of data-free values that need a local copy, with the dim.
  llvm::MapVector<OpOperand *, int64_t> perUse;
  /// Linalg ops whose sequence loop is a reduction, with that loop.
  llvm::MapVector<Operation *, unsigned> seqReductions;
  /// Linalg ops whose sequence loop is parallel, with that loop.
  llvm::MapVector<Operation *, unsigned> seqLoops;
  /// Ops that scan along the sequence.
  llvm::SetVector<Operation *> seqScans;
  /// Operands that read a sequence-carrying tensor whole, in original order
  /// (cp.unshard): reads at data-dependent places (tensor.extract,
  /// tosa.gather's table), whose indices are the original program's, and
  /// attention masks that carry the sequence in their key dim only (a
  /// key-padding mask [.., 1, S] from an attention_mask argument).
  llvm::SetVector<OpOperand *> wholeReads;
  /// Uses of argument-free values computed whole, with the dim their user
  /// shards (second attempt only).
  llvm::MapVector<OpOperand *, int64_t> shardAtUse;
  /// Every op that was related (asked through the interface), to be asked
  /// for its local form.
  llvm::SetVector<Operation *> related;

private:
  /// Asks `op` to relate `v`'s sequence dim `d` to its other operands and
  /// results; diagnoses ops that cannot say.
  LogicalResult relate(Operation *op, Value v, int64_t d);
  /// Records a use of `v` by `at` with the sequence in `d` in `uses`.
  LogicalResult addUses(llvm::MapVector<OpOperand *, int64_t> &uses, Value v,
                        int64_t d, Operation *at);

  const llvm::DenseSet<Value> *whole;
  SmallVector<std::pair<Value, int64_t>> worklist;
};

} // namespace mlir::cp

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_SEQDIMANALYSIS_H
