//===- DetectDocuments.h - document masks for detection --------*- C++ -*-===//
//
// Packed sequences (several documents in one row) mask attention with
// `doc[q] == doc[k]`: a query sees only keys of its own document. These
// helpers of --cp-detect-attention recognise that mask, in the scores'
// expression trees (DetectExpr) and in cp.flex_attention's mask_mod, and
// turn it into cp.sdpa's `segment_ids` operand, which context parallelism
// hands to the ring (the runtime compares document ids per block) instead
// of a dense [S, S] mask.
//
//===----------------------------------------------------------------------===//

#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_DETECTDOCUMENTS_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_DETECTDOCUMENTS_H

#include "DetectExpr.h"

#include "cp/Dialect/CP/IR/CPOps.h"

namespace mlir::cp::detect {

/// The dims of the scores' space a document mask is read in.
struct ScoreDims {
  unsigned qDim = 0, kDim = 0;
  /// The first batch dim of the scores, or -1 when there is none.
  int batchDim = -1;
  ArrayRef<int64_t> sizes;
};

/// Document ids found in a mask: `ids` ([S], [1, S] or [B, S] integers)
/// read at the query and at the key position.
struct DocumentIds {
  Value ids;
  /// 2-D ids read at the scores' batch dim ([B, S]); false for [S] and
  /// [1, S].
  bool batched = false;
};

/// Whether `keep` (a predicate over the scores' space that keeps the
/// positions where it is true) is `ids[q] == ids[k]` (or the negation of
/// `ids[q] != ids[k]`), with integer ids read along `d`'s query and key
/// dims; widening integer casts on both sides are allowed.
std::optional<DocumentIds> matchDocumentKeep(const Expr *keep,
                                             const ScoreDims &d);

/// Whether `masked` (true where the scores are masked) is
/// `ids[q] != ids[k]`.
std::optional<DocumentIds> matchDocumentMasked(const Expr *masked,
                                               const ScoreDims &d);

/// The `segment_ids` operand for `doc` on attention whose query has rank
/// `queryRank`: the ids as they are, [1, S] collapsed to [S] when the query
/// has no batch dim (cp.sdpa takes 2-D ids on [B, H, S, D] only).
Value segmentIdsOperand(OpBuilder &b, Location loc, const DocumentIds &doc,
                        int64_t queryRank);

/// `ids[.., q] == ids[.., kv]` emitted in a flex modifier with index values
/// `batch` (null when the ids are not batched), `q` and `kv`.
Value emitDocumentKeep(OpBuilder &b, Location loc, Value ids, Value batch,
                       Value q, Value kv);

/// Raises `flex` to cp.sdpa with `segment_ids` (and `is_causal`) when it
/// has no score_mod and its mask_mod is a document mask, alone or AND-ed
/// with the causal `q_idx >= kv_idx`. Returns whether it did.
bool raiseDocumentFlex(FlexAttentionOp flex);

} // namespace mlir::cp::detect

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_DETECTDOCUMENTS_H
