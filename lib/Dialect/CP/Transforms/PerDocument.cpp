//===- PerDocument.cpp - per_document_head_tail in cp-context-parallel ----===//
//
// See PerDocument.h. The runtime lays documents out from their ids
// (runtime/src/balance/LoadBalancer.cpp): cp-run and hosts shard and
// unshard the function's sequence arguments and results with the ids of
// the `cp.documents` argument, and the per-document ring
// (cprt_c_ring_docs_*) gets them whole.
//
//===----------------------------------------------------------------------===//

#include "PerDocument.h"

#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::cp;

int64_t mlir::cp::perDocumentLocalLen(int64_t seqLen, int64_t world) {
  return (seqLen + world - 1) / world;
}

/// The segment ids of attention op `op`, or a diagnostic if it has none.
static FailureOr<Value> segmentIdsOf(Operation *op) {
  Value seg;
  if (auto s = dyn_cast<SDPAOp>(op))
    seg = s.getSegmentIds();
  else if (auto b = dyn_cast<SDPABackwardOp>(op))
    seg = b.getSegmentIds();
  else
    return op->emitOpError("load-balance=per_document_head_tail: only "
                           "cp.sdpa and cp.sdpa_backward (with segment_ids) "
                           "have a per-document form");
  if (!seg)
    return op->emitOpError("load-balance=per_document_head_tail needs "
                           "document ids (segment_ids) on every attention");
  return seg;
}

/// The one function argument that every attention takes as segment ids.
static FailureOr<BlockArgument> documentArgument(func::FuncOp func) {
  BlockArgument docs;
  WalkResult r = func.walk([&](Operation *op) {
    if (!isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op))
      return WalkResult::advance();
    FailureOr<Value> seg = segmentIdsOf(op);
    if (failed(seg))
      return WalkResult::interrupt();
    auto arg = dyn_cast<BlockArgument>(*seg);
    if (!arg || arg.getOwner() != &func.getBody().front() ||
        (docs && arg != docs)) {
      op->emitOpError("load-balance=per_document_head_tail needs the "
                      "document ids of every attention to be one function "
                      "argument (the runtime lays out every rank from them)");
      return WalkResult::interrupt();
    }
    docs = arg;
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  for (OpOperand &use : docs.getUses())
    if (!isa<SDPAOp, SDPABackwardOp>(use.getOwner()))
      return use.getOwner()->emitOpError(
          "uses the document ids; with load-balance="
          "per_document_head_tail they may only be attention's "
          "segment_ids (they stay whole on every rank)");
  return docs;
}

FailureOr<BlockArgument>
mlir::cp::preparePerDocument(func::FuncOp func, SeqDimAnalysis &analysis) {
  FailureOr<BlockArgument> docs = documentArgument(func);
  if (failed(docs))
    return failure();
  // linalg.index maps through cp.global_position with the ids; tensors
  // sharded or gathered inside the function through cp.shard / cp.unshard
  // with the ids. A scan's runtime entry has no per-document layout yet.
  if (!analysis.seqScans.empty())
    return analysis.seqScans.front()->emitOpError(
        "scans along the sequence, which load-balance=per_document_head_tail "
        "(a layout decided at run time from the document ids) does not "
        "support yet (use head_tail or striped)");
  analysis.dims.erase(*docs);
  func.setArgAttr(docs->getArgNumber(), kDocumentsAttrName,
                  UnitAttr::get(func.getContext()));
  return *docs;
}
