//===- SeqShardingOpInterface.h - sequence sharding of ops ------*- C++ -*-===//
//
// The op interface cp-context-parallel asks (SeqShardingOpInterface.td) and
// the two context objects the pass passes to it: SeqRelateContext for the
// sequence-dim analysis, SeqRewriteContext for the rewrite to local form.
//
//===----------------------------------------------------------------------===//

#ifndef CP_INTERFACES_SEQSHARDINGOPINTERFACE_H
#define CP_INTERFACES_SEQSHARDINGOPINTERFACE_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::cp {

/// What an op's `relateSeqDim` may ask and tell the sequence-dim analysis.
class SeqRelateContext {
public:
  SeqRelateContext(int64_t seqLen) : seqLen(seqLen) {}
  virtual ~SeqRelateContext();

  /// The attention's sequence length S.
  int64_t getSeqLen() const { return seqLen; }
  /// Product of the dims merged inside the sequence in the dim being
  /// related (1: the dim is outer * S).
  int64_t getInnerFactor() const { return innerFactor; }

  /// Records that `v` carries the sequence in dim `d` (as one factor of it,
  /// `inner` being the dims merged inside, default getInnerFactor());
  /// diagnoses at `at` a dim that cannot hold the sequence or conflicts
  /// with an earlier one. Enqueues `v` to be related to its other ops.
  virtual LogicalResult add(Value v, int64_t d, Operation *at,
                            std::optional<int64_t> inner = std::nullopt) = 0;
  /// `op` (a linalg op) has a parallel loop `loop` over the sequence.
  virtual void addSeqLoop(Operation *op, unsigned loop) = 0;
  /// `op` (a linalg op) reduces over the sequence in loop `loop`.
  virtual void addSeqReduction(Operation *op, unsigned loop) = 0;
  /// `op` scans along the sequence (it becomes cp.seq_scan).
  virtual void addSeqScan(Operation *op) = 0;
  /// `use` reads its sequence-carrying tensor whole, in original order
  /// (data-dependent reads, key-only masks): the rewrite gathers it.
  virtual void addWholeRead(OpOperand &use) = 0;

protected:
  int64_t seqLen;
  int64_t innerFactor = 1;
};

/// What an op's `rewriteToLocal` may ask the pass.
class SeqRewriteContext {
public:
  struct Layout {
    FlatSymbolRefAttr grid;
    Attribute balancer; ///< #cp.balancer<...> (cp::LoadBalancerAttr)
    Attribute rotate;   ///< #cp.rotate<...> (cp::RotateMethodAttr)
    int64_t seqLen;
    int64_t localLen;
    int64_t worldSize;
    bool pad;
    /// per_document_head_tail: the whole document ids (the function
    /// argument marked `cp.documents`), else null.
    Value documents = {};
  };
  explicit SeqRewriteContext(const Layout &layout) : layout(layout) {}
  virtual ~SeqRewriteContext();

  FlatSymbolRefAttr getGrid() const { return layout.grid; }
  Attribute getBalancer() const { return layout.balancer; }
  Attribute getRotate() const { return layout.rotate; }
  int64_t getSeqLen() const { return layout.seqLen; }
  int64_t getLocalLen() const { return layout.localLen; }
  int64_t getWorldSize() const { return layout.worldSize; }
  bool isPadded() const { return layout.pad; }
  /// The whole document ids under per_document_head_tail, else null.
  Value getDocuments() const { return layout.documents; }
  /// True when the local sequences are padded (L * world > S).
  bool hasPadding() const {
    return layout.localLen * layout.worldSize != layout.seqLen;
  }

  /// This rank's linear index on the grid (created at function entry on
  /// first use).
  virtual Value getRank() = 0;
  /// The sequence dim of `v` found by the analysis.
  virtual std::optional<int64_t> getSeqDim(Value v) const = 0;
  /// True when `v` held the sequence as a plain dim of length S.
  virtual bool isPlain(Value v) const = 0;
  /// The parallel loop of `op` over the sequence, if any.
  virtual std::optional<unsigned> getSeqLoop(Operation *op) const = 0;
  /// The loop of `op` that reduces over the sequence, if any.
  virtual std::optional<unsigned> getSeqReduction(Operation *op) const = 0;
  /// True when `op` scans along the sequence.
  virtual bool isSeqScan(Operation *op) const = 0;
  /// The Ulysses group size U when the attention `op` uses the hybrid
  /// strategy (its ring op gets ulysses_size = U), else 0.
  virtual int64_t getUlyssesSize(Operation *op) const { return 0; }

private:
  Layout layout;
};

/// Relates `v`'s dim `d` to the same dim of every operand and result of
/// `op` of the same rank, except where that dim has size 1 (broadcast along
/// the sequence): elementwise ops, with TOSA's size-1 broadcasting.
LogicalResult relateElementwise(Operation *op, Value v, int64_t d,
                                SeqRelateContext &ctx);

} // namespace mlir::cp

#include "cp/Interfaces/SeqShardingOpInterface.h.inc"

#endif // CP_INTERFACES_SEQSHARDINGOPINTERFACE_H
