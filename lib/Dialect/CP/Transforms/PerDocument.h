//===- PerDocument.h - per-document balancing in the pass ----*- C++ -*-===//
//
// load-balance=per_document_head_tail: head-tail balancing inside every
// document of the attention's segment ids, a permutation the runtime
// computes from the ids at run time. The pass keeps the ids whole (the
// function argument marked `cp.documents`), gives the ring the whole ids,
// and maps local indices to original positions through them at run time
// (cp.global_position with `documents`).
//
//===----------------------------------------------------------------------===//

#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_PERDOCUMENT_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_PERDOCUMENT_H

#include "SeqDimAnalysis.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::cp {

/// The name of the unit argument attribute that marks the document ids.
inline constexpr llvm::StringLiteral kDocumentsAttrName = "cp.documents";

/// The local length of per-document balancing of `seqLen` tokens over
/// `world` ranks: every document is split head-tail over the ranks with the
/// leftover tokens dealt to the least loaded ranks, so loads differ by at
/// most one and the most loaded rank (the runtime pads every rank to it)
/// holds ceil(seqLen / world).
int64_t perDocumentLocalLen(int64_t seqLen, int64_t world);

/// Prepares `func` (analysed in `analysis`) for per-document balancing:
/// every attention must be cp.sdpa / cp.sdpa_backward with segment ids
/// that are one function argument used by nothing else; it stays whole
/// (removed from the analysis, marked `cp.documents`) and is returned: the
/// rewrite gives it to cp.global_position, which maps `linalg.index` along
/// the sequence to original positions at run time, and to cp.shard /
/// cp.unshard of tensors sharded or gathered inside the function. Refuses
/// (with a diagnostic) scans.
FailureOr<BlockArgument> preparePerDocument(func::FuncOp func,
                                            SeqDimAnalysis &analysis);

} // namespace mlir::cp

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_PERDOCUMENT_H
