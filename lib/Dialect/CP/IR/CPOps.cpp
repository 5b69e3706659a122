//===- CPOps.cpp - cp dialect operations and verifiers --------------------===//
//
// Verifier messages say what was found and what was expected; every branch
// has a case in test/Dialect/CP/invalid.mlir. The balancer arithmetic the
// verifiers share with the passes is in Balancing.cpp.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cp;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace {
/// Prints a shape as `[1, 8, ?, 64]` for diagnostics.
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}

std::optional<double> asDouble(std::optional<APFloat> f) {
  if (!f)
    return std::nullopt;
  return f->convertToDouble();
}

RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// The attention operands of every attention op in the dialect.
struct AttentionOperands {
  Value query, key, value;
  Value mask;                // optional
  bool enableGqa = false;
  std::optional<double> scale;
};

/// Checks query/key/value ranks, element types, head dims, sequence
/// lengths and head counts (GQA). Returns the expected output shape.
LogicalResult verifyQKV(Operation *op, const AttentionOperands &a,
                        SmallVectorImpl<int64_t> &outShape) {
  auto q = rtt(a.query), k = rtt(a.key), v = rtt(a.value);
  int64_t rank = q.getRank();
  if (rank < 2)
    return op->emitOpError("expected query of rank >= 2 "
                           "([batch..., heads, seq, head_dim]), got rank ")
           << rank;
  if (k.getRank() != rank || v.getRank() != rank)
    return op->emitOpError("expected query, key and value of one rank, got ")
           << rank << ", " << k.getRank() << ", " << v.getRank();
  if (!isa<FloatType>(q.getElementType()))
    return op->emitOpError("expected a floating-point query, got ")
           << q.getElementType();
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return op->emitOpError(
               "expected query, key and value to share one element type, got ")
           << q.getElementType() << ", " << k.getElementType() << ", "
           << v.getElementType();
  auto qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  if (!dimsCompatible(qs[rank - 1], ks[rank - 1]))
    return op->emitOpError("head dim mismatch: query has ")
           << qs[rank - 1] << ", key has " << ks[rank - 1];
  if (!dimsCompatible(ks[rank - 2], vs[rank - 2]))
    return op->emitOpError("key and value sequence lengths differ: ")
           << ks[rank - 2] << " vs " << vs[rank - 2];
  for (int64_t i = 0; i < rank - 3; ++i)
    if (!dimsCompatible(qs[i], ks[i]) || !dimsCompatible(qs[i], vs[i]))
      return op->emitOpError("batch dim ")
             << i << " differs between query, key and value: " << qs[i]
             << ", " << ks[i] << ", " << vs[i];
  if (rank >= 3) {
    int64_t hq = qs[rank - 3], hk = ks[rank - 3], hv = vs[rank - 3];
    if (!dimsCompatible(hk, hv))
      return op->emitOpError("key and value head counts differ: ")
             << hk << " vs " << hv;
    if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hk)) {
      if (a.enableGqa) {
        if (hk == 0 || hq % hk != 0)
          return op->emitOpError("GQA needs the query head count (")
                 << hq << ") to be a multiple of the key/value head count ("
                 << hk << ")";
      } else if (hq != hk) {
        return op->emitOpError("query has ")
               << hq << " heads but key/value have " << hk
               << "; set enable_gqa for grouped-query attention";
      }
    }
  } else if (a.enableGqa) {
    return op->emitOpError("enable_gqa needs a heads dim: expected rank >= 3, "
                           "got rank ")
           << rank;
  }
  if (a.scale && (!std::isfinite(*a.scale) || *a.scale == 0.0))
    return op->emitOpError("expected a finite, non-zero scale, got ")
           << *a.scale;
  outShape.assign(qs.begin(), qs.end());
  outShape.back() = vs[rank - 1];
  if (a.mask) {
    auto m = rtt(a.mask);
    Type et = m.getElementType();
    if (!et.isInteger(1) && !isa<FloatType>(et))
      return op->emitOpError("expected an i1 (keep) or float (additive) mask, "
                             "got element type ")
             << et;
    SmallVector<int64_t> target(qs.begin(), qs.end());
    target.back() = ks[rank - 2];
    if (m.getRank() > rank)
      return op->emitOpError("mask of shape ")
             << shapeStr(m.getShape()) << " is not broadcastable to "
             << shapeStr(target);
    for (int64_t i = 0; i < m.getRank(); ++i) {
      int64_t md = m.getShape()[m.getRank() - 1 - i];
      int64_t td = target[rank - 1 - i];
      if (md != 1 && !dimsCompatible(md, td))
        return op->emitOpError("mask of shape ")
               << shapeStr(m.getShape()) << " is not broadcastable to "
               << shapeStr(target);
    }
  }
  return success();
}

LogicalResult verifyResultType(Operation *op, StringRef what, Type got,
                               ArrayRef<int64_t> shape, Type elementType) {
  auto t = cast<RankedTensorType>(got);
  if (!shapesCompatible(t.getShape(), shape))
    return op->emitOpError("expected ")
           << what << " of shape " << shapeStr(shape) << ", got "
           << shapeStr(t.getShape());
  if (elementType && t.getElementType() != elementType)
    return op->emitOpError("expected ")
           << what << " element type " << elementType << ", got "
           << t.getElementType();
  return success();
}

/// LSE is fp32 and has the query shape without the head dim.
LogicalResult verifyLse(Operation *op, StringRef what, Type lse,
                        ArrayRef<int64_t> outShape) {
  SmallVector<int64_t> shape(outShape.drop_back());
  return verifyResultType(op, what, lse, shape,
                          Float32Type::get(op->getContext()));
}

LogicalResult verifyDropout(Operation *op, std::optional<double> p) {
  if (p && !(*p >= 0.0 && *p < 1.0))
    return op->emitOpError("expected dropout_p in [0, 1), got ") << *p;
  return success();
}

/// Same-shape check for gradients: element type may be wider (fp32
/// accumulators) but must be a float.
LogicalResult verifyGradient(Operation *op, StringRef what, Type grad,
                             Type like) {
  auto g = cast<RankedTensorType>(grad), l = cast<RankedTensorType>(like);
  if (!isa<FloatType>(g.getElementType()))
    return op->emitOpError("expected a floating-point ")
           << what << ", got " << g.getElementType();
  return verifyResultType(op, what, grad, l.getShape(), Type());
}

/// Resolves `grid` and `grid_axes`: checks the symbol names a shard.grid
/// and the axes exist; returns the ring size (kDynamic when unknown).
FailureOr<int64_t> resolveRing(Operation *op, FlatSymbolRefAttr gridSym,
                               ArrayRef<int16_t> axes,
                               SymbolTableCollection &symbols) {
  shard::GridOp grid = shard::getGridOrNull(op, gridSym, symbols);
  if (!grid)
    return op->emitOpError("expected '")
           << gridSym.getValue() << "' to name a shard.grid op";
  int64_t gridRank = grid.getRank();
  llvm::SmallSet<int16_t, 4> seen;
  for (int16_t axis : axes) {
    if (axis < 0 || axis >= gridRank)
      return op->emitOpError("grid axis ")
             << axis << " does not exist: grid '" << gridSym.getValue()
             << "' has " << gridRank << " axes";
    if (!seen.insert(axis).second)
      return op->emitOpError("grid axis ") << axis << " is listed twice";
  }
  SmallVector<int16_t> all;
  if (axes.empty())
    for (int16_t i = 0; i < gridRank; ++i)
      all.push_back(i);
  ArrayRef<int16_t> ring = axes.empty() ? ArrayRef(all) : axes;
  // A 0-sized axis leaves no rank to run on (and would divide by zero).
  for (int16_t axis : ring)
    if (grid.getShape()[axis] == 0)
      return op->emitOpError("grid '")
             << gridSym.getValue() << "' axis " << axis
             << " has size 0; a ring needs at least one rank";
  return shard::collectiveProcessGroupSize(ring, grid.getShape());
}

/// Checks that a sequence of `seqLen` positions splits over `world` ranks
/// by `balancer` into local shards of `localLen` (either may be dynamic).
LogicalResult verifySplit(Operation *op, int64_t seqLen, int64_t localLen,
                          int64_t world, LoadBalancer balancer,
                          std::optional<int64_t> blockSize, bool pad) {
  if (ShapedType::isDynamic(seqLen) || ShapedType::isDynamic(world))
    return success();
  std::optional<int64_t> expected =
      localSeqLen(seqLen, world, balancer, blockSize, pad);
  if (!expected) {
    int64_t unit = balancerGranule(balancer, blockSize) * world;
    return op->emitOpError("sequence length ")
           << seqLen << " cannot be split by " << stringifyLoadBalancer(balancer)
           << " balancing over " << world << " ranks: expected a multiple of "
           << unit << ", or set `pad` to pad with masked positions";
  }
  if (!ShapedType::isDynamic(localLen) && localLen != *expected)
    return op->emitOpError("sequence length ")
           << seqLen << " over " << world << " ranks with "
           << stringifyLoadBalancer(balancer)
           << " balancing gives local length " << *expected
           << ", but the local sequence dim is " << localLen;
  return success();
}

LogicalResult verifyBlockSize(Operation *op, std::optional<int64_t> b) {
  if (b && *b <= 0)
    return op->emitOpError("expected a positive block_size, got ") << *b;
  return success();
}

LogicalResult verifyIdVector(Operation *op, StringRef what, Value ids,
                             int64_t len, bool allowIndex) {
  auto t = rtt(ids);
  Type et = t.getElementType();
  if (!(isa<IntegerType>(et) || (allowIndex && et.isIndex())))
    return op->emitOpError("expected integer ")
           << what << ", got element type " << et;
  if (t.getRank() < 1 || t.getRank() > 2)
    return op->emitOpError("expected ")
           << what << " of rank 1 ([seq]) or 2 ([batch, seq]), got rank "
           << t.getRank();
  if (!dimsCompatible(t.getShape().back(), len))
    return op->emitOpError("expected ")
           << what << " of length " << len << ", got "
           << t.getShape().back();
  return success();
}
} // namespace

/// The forward's output and LSE, the upstream gradient and the three
/// gradients of a backward op, against the forward's output shape.
template <typename BackwardOp>
static LogicalResult verifyBackwardTypes(BackwardOp op,
                                         ArrayRef<int64_t> outShape) {
  if (failed(verifyResultType(op, "output", op.getOutput().getType(), outShape,
                              Type())) ||
      failed(verifyResultType(op, "grad_output", op.getGradOutput().getType(),
                              outShape, Type())) ||
      failed(verifyLse(op, "lse", op.getLse().getType(), outShape)) ||
      failed(verifyGradient(op, "grad_query", op.getGradQuery().getType(),
                            op.getQuery().getType())) ||
      failed(verifyGradient(op, "grad_key", op.getGradKey().getType(),
                            op.getKey().getType())) ||
      failed(verifyGradient(op, "grad_value", op.getGradValue().getType(),
                            op.getValue().getType())))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// SDPAOp
//===----------------------------------------------------------------------===//

/// `segment_ids` of cp.sdpa / cp.sdpa_backward: self-attention, integers
/// `[seq]` or `[batch, seq]` with the query's first (batch) dim or 1.
static LogicalResult verifySegmentIds(Operation *op, Value seg, Value query,
                                      Value key) {
  if (!seg)
    return success();
  auto q = rtt(query);
  int64_t rank = q.getRank();
  int64_t lq = q.getShape()[rank - 2];
  int64_t lk = rtt(key).getShape()[rtt(key).getRank() - 2];
  if (!dimsCompatible(lq, lk))
    return op->emitOpError("segment_ids need self-attention (equal query and "
                           "key lengths), got ")
           << lq << " queries and " << lk << " keys";
  if (failed(verifyIdVector(op, "segment_ids", seg, lq, /*allowIndex=*/false)))
    return failure();
  auto t = rtt(seg);
  if (t.getRank() == 2) {
    if (rank < 4)
      return op->emitOpError("segment_ids of rank 2 ([batch, seq]) need a "
                             "query with a batch dim ([batch, heads, seq, "
                             "head_dim]), got a query of rank ")
             << rank;
    int64_t b = t.getShape()[0];
    if (b != 1 && !dimsCompatible(b, q.getShape()[0]))
      return op->emitOpError("expected segment_ids with batch ")
             << q.getShape()[0] << " (the query's first dim) or 1, got " << b;
  }
  return success();
}

LogicalResult SDPAOp::verify() {
  SmallVector<int64_t> outShape;
  AttentionOperands a{getQuery(), getKey(), getValue(), getMask(),
                      getEnableGqa(), asDouble(getScale())};
  if (failed(verifyQKV(*this, a, outShape)) ||
      failed(verifyDropout(*this, asDouble(getDropoutP()))) ||
      failed(verifySegmentIds(*this, getSegmentIds(), getQuery(), getKey())) ||
      failed(verifyResultType(*this, "output", getOutput().getType(), outShape,
                              rtt(getQuery()).getElementType())))
    return failure();
  if (getLse())
    return verifyLse(*this, "lse", getLse().getType(), outShape);
  return success();
}

LogicalResult SDPABackwardOp::verify() {
  SmallVector<int64_t> outShape;
  AttentionOperands a{getQuery(), getKey(), getValue(), getMask(),
                      getEnableGqa(), asDouble(getScale())};
  if (failed(verifyQKV(*this, a, outShape)) ||
      failed(verifyDropout(*this, asDouble(getDropoutP()))) ||
      failed(verifySegmentIds(*this, getSegmentIds(), getQuery(), getKey())) ||
      failed(verifyBackwardTypes(*this, outShape)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// FlexAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult FlexAttentionOp::verify() {
  SmallVector<int64_t> outShape;
  AttentionOperands a{getQuery(), getKey(), getValue(), Value(),
                      getEnableGqa(), asDouble(getScale())};
  if (failed(verifyQKV(*this, a, outShape)) ||
      failed(verifyResultType(*this, "output", getOutput().getType(), outShape,
                              rtt(getQuery()).getElementType())))
    return failure();
  if (getLse())
    return verifyLse(*this, "lse", getLse().getType(), outShape);
  return success();
}

/// A modifier region: one block with `argTypes` arguments, yielding one
/// value of `yieldType` through cp.yield.
static LogicalResult verifyModifier(Operation *op, Region &region,
                                    StringRef name, TypeRange argTypes,
                                    StringRef argDoc, Type yieldType) {
  if (region.empty())
    return success();
  if (!region.hasOneBlock())
    return op->emitOpError() << name << " must have exactly one block";
  Block &block = region.front();
  if (block.getArgumentTypes() != argTypes)
    return op->emitOpError() << name << " expects block arguments " << argDoc;
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError() << name << " must end with cp.yield";
  if (yield.getValues().size() != 1 ||
      yield.getValues().front().getType() != yieldType)
    return op->emitOpError()
           << name << " must yield exactly one " << yieldType;
  return success();
}

LogicalResult FlexAttentionOp::verifyRegions() {
  MLIRContext *ctx = getContext();
  Type idx = IndexType::get(ctx), f32 = Float32Type::get(ctx);
  if (failed(verifyModifier(*this, getMaskMod(), "mask_mod",
                            {idx, idx, idx, idx},
                            "(b: index, h: index, q_idx: index, kv_idx: index)",
                            IntegerType::get(ctx, 1))))
    return failure();
  return verifyModifier(
      *this, getScoreMod(), "score_mod", {f32, idx, idx, idx, idx},
      "(score: f32, b: index, h: index, q_idx: index, kv_idx: index)", f32);
}

//===----------------------------------------------------------------------===//
// ShardOp / UnshardOp / GlobalPositionOp
//===----------------------------------------------------------------------===//

/// Shared by shard (global -> local) and unshard (local -> global).
static LogicalResult verifyShardingShapes(Operation *op, Value global,
                                          Value local, Value docIds,
                                          int64_t dim, LoadBalancer balancer,
                                          std::optional<int64_t> blockSize) {
  auto g = rtt(global), l = rtt(local);
  if (dim < 0 || dim >= g.getRank())
    return op->emitOpError("dim ")
           << dim << " is out of range for a tensor of rank " << g.getRank();
  if (l.getRank() != g.getRank())
    return op->emitOpError("expected local and global tensors of one rank, got ")
           << l.getRank() << " and " << g.getRank();
  if (l.getElementType() != g.getElementType())
    return op->emitOpError("expected one element type for local and global "
                           "tensors, got ")
           << l.getElementType() << " and " << g.getElementType();
  for (int64_t i = 0; i < g.getRank(); ++i)
    if (i != dim && !dimsCompatible(g.getShape()[i], l.getShape()[i]))
      return op->emitOpError("only dim ")
             << dim << " may change, but dim " << i << " is "
             << g.getShape()[i] << " globally and " << l.getShape()[i]
             << " locally";
  if (failed(verifyBlockSize(op, blockSize)))
    return failure();
  if (balancer == LoadBalancer::per_document_head_tail && !docIds)
    return op->emitOpError(
        "per_document_head_tail balancing needs `documents` (document ids)");
  if (docIds &&
      failed(verifyIdVector(op, "document ids", docIds, g.getShape()[dim],
                            /*allowIndex=*/false)))
    return failure();
  return success();
}

LogicalResult ShardOp::verify() {
  return verifyShardingShapes(*this, getInput(), getResult(), getDocumentIds(),
                              getDim(), getBalancer(), getBlockSize());
}

/// Grid, axes and the split of the global tensor into the local one.
template <typename ShardLikeOp>
static LogicalResult verifyShardSymbols(ShardLikeOp op, Value global,
                                        Value local,
                                        SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(op, op.getGridAttr(), op.getGridAxes(), symbols);
  if (failed(world))
    return failure();
  return verifySplit(op, rtt(global).getShape()[op.getDim()],
                     rtt(local).getShape()[op.getDim()], *world,
                     op.getBalancer(), op.getBlockSize(), op.getPad());
}

LogicalResult ShardOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyShardSymbols(*this, getInput(), getResult(), symbols);
}

LogicalResult UnshardOp::verify() {
  return verifyShardingShapes(*this, getResult(), getInput(), getDocumentIds(),
                              getDim(), getBalancer(), getBlockSize());
}

LogicalResult UnshardOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyShardSymbols(*this, getResult(), getInput(), symbols);
}

/// The document ids of a global_position: given exactly for
/// per_document_head_tail, integer, [seq_len] or [1, seq_len].
static LogicalResult verifyPositionDocuments(GlobalPositionOp op) {
  bool perDocument =
      op.getBalancer() == LoadBalancer::per_document_head_tail;
  Value docs = op.getDocumentIds();
  if (perDocument && !docs)
    return op.emitOpError("per_document_head_tail positions come from the "
                          "document ids at run time; expected `documents`");
  if (!docs)
    return success();
  if (!perDocument)
    return op.emitOpError("`documents` is only taken with "
                          "per_document_head_tail balancing");
  if (failed(verifyIdVector(op, "document ids", docs, op.getSeqLen(),
                            /*allowIndex=*/false)))
    return failure();
  auto t = rtt(docs);
  if (t.getRank() == 2 && !dimsCompatible(t.getShape()[0], 1))
    return op.emitOpError("expected the document ids of one sequence "
                          "([seq_len] or [1, seq_len]), got a batch of ")
           << t.getShape()[0];
  return success();
}

LogicalResult GlobalPositionOp::verify() {
  if (getBalancer() == LoadBalancer::ptrr)
    return emitOpError("the ptrr permutation depends on a block mask; "
                       "expected none, head_tail, striped or "
                       "per_document_head_tail");
  if (getSeqLen() <= 0)
    return emitOpError("expected a positive seq_len, got ") << getSeqLen();
  if (failed(verifyPositionDocuments(*this)))
    return failure();
  return verifyBlockSize(*this, getBlockSize());
}

LogicalResult GlobalPositionOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(*this, getGridAttr(), getGridAxes(), symbols);
  if (failed(world))
    return failure();
  // Per-document layouts split any length (ceil(seq_len / W) slots).
  if (getBalancer() == LoadBalancer::per_document_head_tail)
    return success();
  return verifySplit(*this, getSeqLen(), ShapedType::kDynamic, *world,
                     getBalancer(), getBlockSize(), getPad());
}

//===----------------------------------------------------------------------===//
// Ring attention
//===----------------------------------------------------------------------===//

/// The hybrid's `ulysses_size`: at least 2, query heads dividing over it,
/// key/value heads split or replicated over it, no mask or segment ids.
/// (That it divides the ring size is checked with the grid symbol.)
template <typename RingOp>
static LogicalResult verifyUlyssesSize(RingOp op, int64_t rank) {
  std::optional<int64_t> u = op.getUlyssesSize();
  if (!u)
    return success();
  if (*u < 2)
    return op.emitOpError("expected ulysses_size >= 2 (omit it for a plain "
                          "ring), got ")
           << *u;
  if (rank < 3)
    return op.emitOpError("ulysses_size needs a heads dim ([.., H, L, D])");
  int64_t hq = rtt(op.getQuery()).getShape()[rank - 3];
  int64_t hkv = rtt(op.getKey()).getShape()[rank - 3];
  if (!ShapedType::isDynamic(hq) && hq % *u != 0)
    return op.emitOpError("ulysses_size ")
           << *u << " does not divide the " << hq << " query heads";
  if (!ShapedType::isDynamic(hkv) && hkv % *u != 0 && *u % hkv != 0)
    return op.emitOpError("ulysses_size ")
           << *u << ": the " << hkv
           << " key/value heads neither divide over it nor divide it";
  if (op.getMask() || op.getSegmentIds())
    return op.emitOpError("ulysses_size (the hybrid strategy) does not "
                          "support a mask or segment_ids yet");
  return success();
}

/// Checks shared by ring attention forward and backward on local shards.
/// `world` is the ring size or kDynamic before the symbol is resolved.
template <typename RingOp>
static LogicalResult verifyRingCommon(RingOp op,
                                      SmallVectorImpl<int64_t> &outShape) {
  AttentionOperands a{op.getQuery(), op.getKey(), op.getValue(), Value(),
                      op.getEnableGqa(), asDouble(op.getScale())};
  if (failed(verifyQKV(op, a, outShape)))
    return failure();
  int64_t rank = rtt(op.getQuery()).getRank();
  int64_t lq = rtt(op.getQuery()).getShape()[rank - 2];
  int64_t lk = rtt(op.getKey()).getShape()[rank - 2];
  if (!dimsCompatible(lq, lk))
    return op.emitOpError("expected query and key shards of one local "
                          "sequence length (self-attention over one sharded "
                          "sequence), got ")
           << lq << " and " << lk;
  if (op.getSeqLen() <= 0)
    return op.emitOpError("expected a positive seq_len, got ")
           << op.getSeqLen();
  if (op.getWindow() && *op.getWindow() <= 0)
    return op.emitOpError("expected a positive window, got ")
           << *op.getWindow();
  if (failed(verifyBlockSize(op, op.getBlockSize())))
    return failure();
  if (op.getBalancer() == LoadBalancer::per_document_head_tail &&
      !op.getSegmentIds())
    return op.emitOpError(
        "per_document_head_tail balancing needs segment_ids (document ids)");
  // With per-document balancing the ids are the whole sequence's: the
  // layout is computed from them.
  bool perDocument = op.getBalancer() == LoadBalancer::per_document_head_tail;
  if (op.getSegmentIds() &&
      failed(verifyIdVector(op,
                            perDocument ? "segment_ids (the whole sequence's "
                                          "document ids)"
                                        : "segment_ids",
                            op.getSegmentIds(),
                            perDocument ? op.getSeqLen() : lq,
                            /*allowIndex=*/false)))
    return failure();
  if (failed(verifyUlyssesSize(op, rank)))
    return failure();
  if (Value mask = op.getMask()) {
    auto m = rtt(mask);
    Type et = m.getElementType();
    if (!et.isInteger(1) && !isa<FloatType>(et))
      return op.emitOpError("expected an i1 (keep) or float (additive) mask, "
                            "got element type ")
             << et;
    if (m.getRank() < 2 || m.getRank() > rank)
      return op.emitOpError("expected a mask of rank 2 to ")
             << rank << " ([..., L, W*L]), got rank " << m.getRank();
    int64_t rows = m.getShape()[m.getRank() - 2];
    if (rows != 1 && !dimsCompatible(rows, lq))
      return op.emitOpError("expected the mask to have one row per local "
                            "query (")
             << lq << ") or one row for all of them, got " << rows;
    int64_t cols = m.getShape().back();
    if (!ShapedType::isDynamic(cols) && cols != op.getSeqLen())
      return op.emitOpError("expected the mask to have one column per key "
                            "of the whole sequence in original order (seq_len "
                            "= ")
             << op.getSeqLen() << "), got " << cols;
  }
  return success();
}

template <typename RingOp>
static LogicalResult verifyRingSymbols(RingOp op,
                                       SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(op, op.getGridAttr(), op.getGridAxes(), symbols);
  if (failed(world))
    return failure();
  int64_t rank = rtt(op.getQuery()).getRank();
  int64_t lq = rtt(op.getQuery()).getShape()[rank - 2];
  if (failed(verifySplit(op, op.getSeqLen(), lq, *world, op.getBalancer(),
                         op.getBlockSize(), op.getPad())))
    return failure();
  std::optional<int64_t> u = op.getUlyssesSize();
  if (u && (*u > *world || *world % *u != 0))
    return op.emitOpError("ulysses_size ")
           << *u << " does not divide the " << *world
           << " ranks of the grid into groups";
  return success();
}

/// The optional attributes of `c` for a ring op's ODS builder.
struct RingAttrs {
  UnitAttr pad, isCausal, enableGqa;
  FloatAttr scale;
  IntegerAttr ulyssesSize;
};
static RingAttrs ringAttrs(OpBuilder &b, const RingConfig &c) {
  auto unit = [&](bool set) { return set ? b.getUnitAttr() : UnitAttr(); };
  return {unit(c.pad), unit(c.isCausal), unit(c.enableGqa),
          c.scale ? b.getF64FloatAttr(*c.scale) : FloatAttr(),
          c.ulyssesSize ? b.getI64IntegerAttr(c.ulyssesSize) : IntegerAttr()};
}

void RingAttentionOp::build(OpBuilder &b, OperationState &state,
                            TypeRange resultTypes, Value query, Value key,
                            Value value, Value mask, const RingConfig &c) {
  RingAttrs a = ringAttrs(b, c);
  build(b, state, resultTypes, query, key, value, mask,
        /*segment_ids=*/Value(), c.grid, /*grid_axes=*/DenseI16ArrayAttr(),
        c.rotate, c.balancer, b.getI64IntegerAttr(c.seqLen),
        /*block_size=*/IntegerAttr(), a.pad, a.isCausal, /*window=*/IntegerAttr(),
        a.scale, a.enableGqa, a.ulyssesSize);
}

void RingAttentionBackwardOp::build(OpBuilder &b, OperationState &state,
                                    TypeRange resultTypes, Value gradOutput,
                                    Value query, Value key, Value value,
                                    Value output, Value lse, Value mask,
                                    const RingConfig &c) {
  RingAttrs a = ringAttrs(b, c);
  build(b, state, resultTypes, gradOutput, query, key, value, output, lse,
        mask, /*segment_ids=*/Value(), c.grid,
        /*grid_axes=*/DenseI16ArrayAttr(), c.rotate, c.balancer,
        b.getI64IntegerAttr(c.seqLen), /*block_size=*/IntegerAttr(), a.pad,
        a.isCausal, /*window=*/IntegerAttr(), a.scale, a.enableGqa,
        a.ulyssesSize);
}

LogicalResult RingAttentionOp::verify() {
  SmallVector<int64_t> outShape;
  if (failed(verifyRingCommon(*this, outShape)) ||
      failed(verifyResultType(*this, "output", getOutput().getType(), outShape,
                              rtt(getQuery()).getElementType())))
    return failure();
  if (getLse())
    return verifyLse(*this, "lse", getLse().getType(), outShape);
  return success();
}

LogicalResult RingAttentionOp::verifySymbolUses(SymbolTableCollection &s) {
  return verifyRingSymbols(*this, s);
}

LogicalResult RingAttentionBackwardOp::verify() {
  SmallVector<int64_t> outShape;
  if (failed(verifyRingCommon(*this, outShape)) ||
      failed(verifyBackwardTypes(*this, outShape)))
    return failure();
  return success();
}

LogicalResult
RingAttentionBackwardOp::verifySymbolUses(SymbolTableCollection &s) {
  return verifyRingSymbols(*this, s);
}

//===----------------------------------------------------------------------===//
// Explicit schedule
//===----------------------------------------------------------------------===//

LogicalResult ShiftStartOp::verify() {
  if (getInputs().empty())
    return emitOpError("expected at least one tensor to shift");
  return success();
}

LogicalResult ShiftStartOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(*this, getGridAttr(), getGridAxes(), symbols);
  if (failed(world))
    return failure();
  if (!ShapedType::isDynamic(*world) &&
      (getOffset() <= -*world || getOffset() >= *world))
    return emitOpError("expected an offset in (-")
           << *world << ", " << *world << ") for a ring of " << *world
           << " ranks, got " << getOffset();
  return success();
}

LogicalResult ShiftWaitOp::verify() {
  auto start = getToken().getDefiningOp<ShiftStartOp>();
  if (!start)
    return success();
  if (start.getInputs().getTypes() != getResults().getTypes())
    return emitOpError("expected the types sent by the matching "
                       "cp.shift_start (")
           << start.getInputs().getTypes() << "), got "
           << getResults().getTypes();
  if (!getToken().hasOneUse())
    return emitOpError("a shift token must be waited on exactly once");
  return success();
}

/// Checks the positional/segment operands and behaviour of a block step.
template <typename BlockOp>
static LogicalResult verifyBlockCommon(BlockOp op,
                                       SmallVectorImpl<int64_t> &outShape) {
  AttentionOperands a{op.getQuery(), op.getKey(), op.getValue(), op.getMask(),
                      op.getEnableGqa(), asDouble(op.getScale())};
  if (failed(verifyQKV(op, a, outShape)))
    return failure();
  int64_t rank = rtt(op.getQuery()).getRank();
  int64_t lq = rtt(op.getQuery()).getShape()[rank - 2];
  int64_t lk = rtt(op.getKey()).getShape()[rank - 2];
  CausalBehavior behavior = op.getCausal();
  if ((behavior == CausalBehavior::causal ||
       behavior == CausalBehavior::causal_strict) &&
      !dimsCompatible(lq, lk))
    return op.emitOpError("a ")
           << stringifyCausalBehavior(behavior)
           << " block needs as many queries as keys, got " << lq << " and "
           << lk;
  if (behavior == CausalBehavior::kv_head_half && !ShapedType::isDynamic(lk) &&
      lk % 2 != 0)
    return op.emitOpError("kv_head_half needs an even key block, got ") << lk;
  if (behavior == CausalBehavior::q_tail_half && !ShapedType::isDynamic(lq) &&
      lq % 2 != 0)
    return op.emitOpError("q_tail_half needs an even query block, got ") << lq;
  if (op.getQPositions() &&
      (failed(verifyIdVector(op, "q_positions", op.getQPositions(), lq,
                             /*allowIndex=*/true)) ||
       failed(verifyIdVector(op, "kv_positions", op.getKvPositions(), lk,
                             /*allowIndex=*/true))))
    return failure();
  if (op.getQSegmentIds() &&
      (failed(verifyIdVector(op, "q_segment_ids", op.getQSegmentIds(), lq,
                             /*allowIndex=*/false)) ||
       failed(verifyIdVector(op, "kv_segment_ids", op.getKvSegmentIds(), lk,
                             /*allowIndex=*/false))))
    return failure();
  if (op.getWindow()) {
    if (*op.getWindow() <= 0)
      return op.emitOpError("expected a positive window, got ")
             << *op.getWindow();
    if (!op.getQPositions())
      return op.emitOpError("a window needs positions(q_positions, "
                            "kv_positions) to know the distance of tokens");
  }
  return success();
}

LogicalResult BlockAttentionOp::verify() {
  SmallVector<int64_t> outShape;
  if (failed(verifyBlockCommon(*this, outShape)) ||
      failed(verifyResultType(*this, "output", getOutput().getType(), outShape,
                              Type())) ||
      failed(verifyLse(*this, "lse", getLse().getType(), outShape)))
    return failure();
  return success();
}

LogicalResult BlockAttentionBackwardOp::verify() {
  SmallVector<int64_t> outShape;
  if (failed(verifyBlockCommon(*this, outShape)) ||
      failed(verifyBackwardTypes(*this, outShape)))
    return failure();
  return success();
}

LogicalResult MergePartialOp::verify() {
  auto o = rtt(getOutput()), ob = rtt(getOutputB());
  if (o.getRank() < 1)
    return emitOpError("expected partial outputs of rank >= 1");
  if (!shapesCompatible(o.getShape(), ob.getShape()))
    return emitOpError("expected partial outputs of one shape, got ")
           << shapeStr(o.getShape()) << " and " << shapeStr(ob.getShape());
  if (failed(verifyLse(*this, "lse", getLse().getType(), o.getShape())) ||
      failed(verifyLse(*this, "lse_b", getLseB().getType(), o.getShape())) ||
      failed(verifyResultType(*this, "merged output",
                              getMergedOutput().getType(), o.getShape(),
                              Type())) ||
      failed(verifyLse(*this, "merged lse", getMergedLse().getType(),
                       o.getShape())))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "cp/Dialect/CP/IR/CPOps.cpp.inc"

//===----------------------------------------------------------------------===//
// SeqScanOp
//===----------------------------------------------------------------------===//

LogicalResult SeqScanOp::verify() {
  auto t = rtt(getInput());
  if (getDim() < 0 || getDim() >= t.getRank())
    return emitOpError("dim ")
           << getDim() << " is out of range for a tensor of rank "
           << t.getRank();
  if (getBalancer() == LoadBalancer::per_document_head_tail ||
      getBalancer() == LoadBalancer::ptrr)
    return emitOpError("the ")
           << stringifyLoadBalancer(getBalancer())
           << " permutation depends on data; expected none, head_tail or "
              "striped";
  if (getSeqLen() <= 0)
    return emitOpError("expected a positive seq_len, got ") << getSeqLen();
  Type et = t.getElementType();
  if (!et.isF32() && !et.isF64() && !et.isInteger(32) && !et.isInteger(64))
    return emitOpError("scans f32, f64, i32 or i64 elements, got ") << et;
  return success();
}

LogicalResult SeqScanOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(*this, getGridAttr(), getGridAxes(), symbols);
  if (failed(world))
    return failure();
  return verifySplit(*this, getSeqLen(), rtt(getInput()).getShape()[getDim()],
                     *world, getBalancer(), std::nullopt, getPad());
}

//===----------------------------------------------------------------------===//
// SeqToHeadsOp / HeadsToSeqOp (Ulysses)
//===----------------------------------------------------------------------===//

/// Shared by seq_to_heads (seq-sharded -> head-sharded) and heads_to_seq
/// (head-sharded -> seq-sharded): dims, types and the attributes that need
/// no symbol. `seqSharded` is the tensor with all heads and the local
/// sequence, `headSharded` the one with H/W heads and the whole sequence.
template <typename UlyssesOp>
static LogicalResult verifyUlysses(UlyssesOp op, Value seqSharded,
                                   Value headSharded) {
  auto s = rtt(seqSharded), h = rtt(headSharded);
  int64_t rank = s.getRank(), hd = op.getHeadDim(), sd = op.getSeqDim();
  if (h.getRank() != rank)
    return op->emitOpError("expected input and result of one rank, got ")
           << rtt(op.getInput()).getRank() << " and "
           << rtt(op.getResult()).getRank();
  if (s.getElementType() != h.getElementType())
    return op->emitOpError("expected one element type for input and result, "
                           "got ")
           << rtt(op.getInput()).getElementType() << " and "
           << rtt(op.getResult()).getElementType();
  if (hd < 0 || hd >= rank || sd < 0 || sd >= rank)
    return op->emitOpError("head_dim ")
           << hd << " and seq_dim " << sd
           << " must be dims of a tensor of rank " << rank;
  if (hd == sd)
    return op->emitOpError("head_dim and seq_dim must differ, both are ")
           << hd;
  for (int64_t i = 0; i < rank; ++i)
    if (i != hd && i != sd && !dimsCompatible(s.getShape()[i], h.getShape()[i]))
      return op->emitOpError("only the head and sequence dims may change, but "
                             "dim ")
             << i << " is " << rtt(op.getInput()).getShape()[i]
             << " in the input and " << rtt(op.getResult()).getShape()[i]
             << " in the result";
  if (op.getBalancer() == LoadBalancer::per_document_head_tail ||
      op.getBalancer() == LoadBalancer::ptrr)
    return op->emitOpError("the ")
           << stringifyLoadBalancer(op.getBalancer())
           << " permutation depends on data; expected none, head_tail or "
              "striped";
  if (op.getSeqLen() <= 0)
    return op->emitOpError("expected a positive seq_len, got ")
           << op.getSeqLen();
  if (!dimsCompatible(h.getShape()[sd], op.getSeqLen()))
    return op->emitOpError("expected the whole sequence (seq_len = ")
           << op.getSeqLen() << ") in dim " << sd
           << " of the head-sharded tensor, got " << h.getShape()[sd];
  return success();
}

/// The split of the sequence and of the heads over the grid.
template <typename UlyssesOp>
static LogicalResult verifyUlyssesSymbols(UlyssesOp op, Value seqSharded,
                                          Value headSharded,
                                          SymbolTableCollection &symbols) {
  FailureOr<int64_t> world =
      resolveRing(op, op.getGridAttr(), op.getGridAxes(), symbols);
  if (failed(world))
    return failure();
  auto s = rtt(seqSharded), h = rtt(headSharded);
  int64_t hd = op.getHeadDim();
  if (failed(verifySplit(op, op.getSeqLen(), s.getShape()[op.getSeqDim()],
                         *world, op.getBalancer(), std::nullopt,
                         op.getPad())))
    return failure();
  int64_t heads = s.getShape()[hd], local = h.getShape()[hd];
  if (ShapedType::isDynamic(*world) || ShapedType::isDynamic(heads))
    return success();
  if (heads % *world != 0)
    return op->emitOpError("cannot split ")
           << heads << " heads over " << *world
           << " ranks: expected a multiple of the rank count";
  if (!ShapedType::isDynamic(local) && local != heads / *world)
    return op->emitOpError("expected ")
           << heads / *world << " heads per rank (" << heads << " over "
           << *world << " ranks), got " << local;
  return success();
}

LogicalResult SeqToHeadsOp::verify() {
  return verifyUlysses(*this, getInput(), getResult());
}

LogicalResult SeqToHeadsOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUlyssesSymbols(*this, getInput(), getResult(), symbols);
}

LogicalResult HeadsToSeqOp::verify() {
  return verifyUlysses(*this, getResult(), getInput());
}

LogicalResult HeadsToSeqOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUlyssesSymbols(*this, getResult(), getInput(), symbols);
}

/// seq_to_heads(heads_to_seq(x)) == x for the same layout: heads_to_seq
/// zeroes padding slots and seq_to_heads drops them again.
OpFoldResult SeqToHeadsOp::fold(FoldAdaptor) {
  auto inv = getInput().getDefiningOp<HeadsToSeqOp>();
  if (!inv || inv.getInput().getType() != getType() ||
      inv.getGridAttr() != getGridAttr() ||
      inv.getGridAxes() != getGridAxes() ||
      inv.getHeadDim() != getHeadDim() || inv.getSeqDim() != getSeqDim() ||
      inv.getBalancer() != getBalancer() || inv.getSeqLen() != getSeqLen() ||
      inv.getPad() != getPad())
    return {};
  return inv.getInput();
}
