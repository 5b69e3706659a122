//===- DetectAttentionPlan.h - attention matcher and plan -----------------===//
//
// The structs shared by --cp-detect-attention's files: the Plan the
// Matcher reads back from an attention's output (DetectAttentionMatch.cpp,
// DetectAttentionOperands.cpp, DetectAttentionMasks.cpp) and
// buildReplacement turns into cp.sdpa or cp.flex_attention
// (DetectAttentionBuild.cpp); the pass driver is DetectAttention.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_DETECTATTENTIONPLAN_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_DETECTATTENTIONPLAN_H

#include "DetectDocuments.h"
#include "DetectExpr.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <limits>
#include <optional>
#include <string>

namespace mlir::cp::detect {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// The most negative finite fill that still counts as "masked". Real code
/// masks with a large finite negative (Hugging Face's `finfo(dtype).min`,
/// older models' -1e4 or -1e9) rather than -inf: exp(fill + s - max)
/// underflows to exactly 0 in fp32 wherever the row keeps at least one key,
/// so the result equals a -inf mask there. A row that keeps no key differs:
/// the producer averages every value (all scores equal the fill), cp's
/// runtime gives 0 (docs/detection.md, "Masked fills").
constexpr double kMaskFillLimit = -1e4;

/// Whether `v` (a score added or selected at masked positions) masks.
bool isMaskFillValue(double v);

/// Whether `e` is a constant mask fill: -inf or a large finite negative.
bool isMaskFill(const Expr *e);

/// A matmul-like op read at a leaf: out[...] = sum_k lhs · rhs, both
/// operands expanded in the leaf's space plus the contracted dim (last).
struct Contraction {
  const Expr *lhs = nullptr, *rhs = nullptr;
  Sizes sizes; // the space with the contracted dim
};

/// An attention operand: `base` read in canonical order through `perm`
/// (canonical dim t is dim perm[t] of base); with `rep` > 1 its heads are
/// repeated (GQA); `narrow` when an extf was peeled off.
struct Operand {
  Value base;
  /// Dims of base collapsed first (empty: none), e.g. RoPE's [.., D/2, 2].
  SmallVector<ReassociationIndices> collapse;
  SmallVector<int64_t> perm;
  int64_t rep = 1;
  bool narrow = false;
  /// Set when the tensor must be widened (arith.extf) to this element type.
  Type widenTo;
};

/// Everything needed to build the replacement.
struct Plan {
  Value root;
  Operand q, k, v;
  double scale = 1.0;
  bool causal = false;
  Value mask;
  /// Document ids of a `doc[q] == doc[k]` mask (cp.sdpa's segment_ids).
  std::optional<DocumentIds> doc;
  const Expr *keep = nullptr; // flex mask_mod predicate
  const Expr *bias = nullptr; // flex score_mod: score + bias
  /// Logit soft-capping (Gemma2): score_mod tanh(score / c) · c, before the
  /// bias and the masks; 0 when absent.
  double softcap = 0;
  /// With keep/bias/softcap: the tensor mask is read inside the flex
  /// modifiers (a bool mask in mask_mod, an additive one in score_mod) at
  /// `maskMap` (mask dims in terms of the scores' dims, 0 where broadcast).
  AffineMap maskMap;
  bool maskIsBool = false;
  unsigned rank = 0;
  /// Output dims: batch dims in order, the query dim, the value head dim.
  SmallVector<unsigned> batch;
  unsigned qDim = 0, eDim = 0;
};

/// Whether `v` is produced by a matmul-like contraction (tosa.matmul, or a
/// linalg contraction with one reduction loop).
bool isContractionProducer(Value v);

/// What Matcher::match has read back from the output so far, threaded
/// through its steps.
struct MatchState {
  Plan plan;
  RankedTensorType rootTy;
  /// Output rank; J (= R) the key dim of P·V; Dd (= R + 1) q·kᵀ's head dim.
  unsigned R = 0, J = 0, Dd = 0;
  /// A truncf was peeled off the output (widened operands).
  bool truncated = false;
  /// The output's space plus J; plus J and Dd.
  Sizes sj, sjd;
  /// The softmax (P) and value operands of P·V.
  const Expr *pExpr = nullptr, *vExpr = nullptr;
  /// The softmax input and the dim it normalises over.
  const Expr *scores = nullptr;
  unsigned softmaxDim = 0;
  /// Output dims: batch dims in order, the query dim, the value head dim.
  SmallVector<unsigned> batch;
  unsigned qDim = 0, eDim = 0;
  /// Keep predicates of masked_fill selects; the non-q·kᵀ score terms.
  SmallVector<const Expr *> keeps, maskTerms;
  /// The q·kᵀ leaf; q and k with scales peeled (sq, sk) and unpeeled.
  const Expr *qk = nullptr;
  const Expr *qE = nullptr, *kE = nullptr;
  const Expr *qUnscaled = nullptr, *kUnscaled = nullptr;
  double sq = 1.0, sk = 1.0;
  unsigned headPos = ~0u;
  /// Position-dependent keep predicates and additive terms; the data mask.
  SmallVector<const Expr *> positionalKeeps, positionalAdds;
  Value tensorMask;
};

class Matcher {
public:
  explicit Matcher(ExprBuilder &b) : B(b), ctx(b.getContext()) {}

  FailureOr<Plan> match(Value root);
  std::string why;

private:
  LogicalResult fail(const Twine &msg) {
    if (why.empty())
      why = msg.str();
    return failure();
  }
  FailureOr<Contraction> contractionAt(const Expr *leaf,
                                       ArrayRef<int64_t> sizes);
  struct Softmax {
    const Expr *scores;
    unsigned dim;
  };
  FailureOr<Softmax> softmaxOf(const Expr *p, ArrayRef<int64_t> sizes);
  std::optional<unsigned> reducedDim(const Expr *reduce, const Expr *like,
                                     ArrayRef<int64_t> sizes, bool allowExt);
  bool sameSource(const Expr *body, const Expr *like, ArrayRef<AffineExpr> sub,
                  ArrayRef<int64_t> sizes);
  FailureOr<Operand> operandOf(const Expr *e, ArrayRef<AffineExpr> want,
                               ArrayRef<int64_t> sizes, unsigned headPos,
                               bool allowGqa, bool narrow, StringRef what);
  FailureOr<Operand> readAlong(Value base, AffineMap map,
                               ArrayRef<AffineExpr> want,
                               ArrayRef<int64_t> sizes, unsigned headPos,
                               bool allowGqa, StringRef what);
  /// Expands the output and finds the P·V contraction producing it.
  FailureOr<Contraction> findValueContraction(MatchState &s);
  /// Finds which operand of P·V is the softmax; the other is V.
  LogicalResult findSoftmax(MatchState &s, const Contraction &pv);
  /// Gives the output dims their roles; checks the softmax dim is P·V's.
  LogicalResult assignOutputDims(MatchState &s);
  /// Peels masked_fill selects off the scores, collecting their keeps.
  FailureOr<const Expr *> peelMaskFills(MatchState &s);
  /// Splits the scores into the (capped, scaled) q·kᵀ and mask terms.
  LogicalResult splitScoreTerms(MatchState &s, const Expr *x);
  /// Finds the q·kᵀ contraction, its query and key, and peels their scales.
  LogicalResult findScoreContraction(MatchState &s);
  /// The dims [batch..., seqDim, lastDim] in the space of `sz`.
  SmallVector<AffineExpr> canon(const MatchState &s, unsigned seqDim,
                                unsigned lastDim, ArrayRef<int64_t> sz);
  /// Resolves q or k, peeled of its scale or else with it.
  FailureOr<Operand> operandOrScaled(MatchState &s, const Expr *&e,
                                     const Expr *unscaled, double &peeled,
                                     ArrayRef<AffineExpr> want,
                                     ArrayRef<int64_t> sizes, bool gqa,
                                     StringRef what);
  /// Resolves q, k and v into the plan, GQA grouping allowed with `gqa`.
  LogicalResult resolveOperands(MatchState &s, bool gqa);
  /// Resolves q, k and v and checks their element types.
  LogicalResult resolveQKV(MatchState &s);
  /// Takes `d` as the plan's document ids when set and not conflicting.
  bool takeDocument(MatchState &s, std::optional<DocumentIds> d);
  /// The dims document ids are read along in the scores' space.
  ScoreDims scoreDims(const MatchState &s) const {
    return {s.qDim, s.J, s.batch.empty() ? -1 : int(s.batch[0]), s.sj};
  }
  /// Takes `m` as the one data mask tensor (a bool keep or additive).
  LogicalResult addTensorMask(MatchState &s, const Expr *m, bool isBool);
  /// Adds the keep predicate `p`, split at ands, positional or data.
  LogicalResult addKeep(MatchState &s, const Expr *p);
  /// Sorts keeps and mask terms into positional ones and the tensor mask.
  LogicalResult collectMasks(MatchState &s);
  /// The and of `keeps` (not empty).
  const Expr *conjunction(ArrayRef<const Expr *> keeps);
  /// Turns the positional masks into a bias, causal, mask_mod or tensor.
  LogicalResult resolvePositionalMasks(MatchState &s);
  /// Whether the additive positional terms are a bias, not 0/-inf masks.
  bool isPositionalBias(const MatchState &s, bool canEval);
  /// Sets the plan's score_mod bias (and mask_mod keep) from positions.
  LogicalResult addPositionalBias(MatchState &s);
  /// Sets causal, a mask_mod or a mask tensor from the positional masks.
  LogicalResult addPositionalMask(MatchState &s, bool canEval);
  AffineExpr dimOrZero(unsigned d, ArrayRef<int64_t> sizes) {
    return simplifyWithRanges(getAffineDimExpr(d, ctx), sizes);
  }

  ExprBuilder &B;
  MLIRContext *ctx;
};

/// Builds the replacement of `plan.root`; nullptr if the mask_mod could not
/// be emitted.
Value buildReplacement(OpBuilder &b, const Plan &plan);

} // namespace mlir::cp::detect

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_DETECTATTENTIONPLAN_H
