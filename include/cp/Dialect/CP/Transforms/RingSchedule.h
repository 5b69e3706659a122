//===- RingSchedule.h - the causal behaviour of each ring step --*- C++ -*-===//
//
// Step i of a ring of W ranks brings rank r the key/value block of rank
// (r - i) mod W. For the static balancers (none, head_tail, striped) the
// causal behaviour of that block depends on r only through `i <= r`, so
// cp-expand-ring emits one scf.if per step on that comparison. This header
// states the rule once: ExpandRing builds its IR from it, and a unit test
// (test/Unit/RingStepTest.cpp) checks it against the runtime's table
// (cprt::stepCausalFor) for every balancer, rank and step.
//
//===----------------------------------------------------------------------===//

#ifndef CP_DIALECT_CP_TRANSFORMS_RINGSCHEDULE_H
#define CP_DIALECT_CP_TRANSFORMS_RINGSCHEDULE_H

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cstdint>
#include <optional>

namespace mlir::cp {

/// The causal behaviours of the steps of an expanded ring.
struct RingStepRule {
  /// Step 0: the rank's own (diagonal) block.
  CausalBehavior diagonal;
  /// A step `i >= 1` with `i <= rank`: the block of an earlier rank.
  CausalBehavior upToRank;
  /// A step `i > rank`: the block of a later rank (wrapped around).
  CausalBehavior pastRank;

  /// How ExpandRing compares a step index `i` with the rank (both `index`,
  /// `arith.cmpi <pred>, i, rank`): true selects `upToRank`.
  static constexpr arith::CmpIPredicate kUpToRank = arith::CmpIPredicate::ule;

  /// Whether the steps after the first depend on the rank (ExpandRing then
  /// branches on kUpToRank; otherwise every such step is `upToRank`).
  bool dependsOnRank() const { return upToRank != pastRank; }

  /// The behaviour of step `step` (>= 0) on rank `rank` (>= 0).
  CausalBehavior at(int64_t rank, int64_t step) const;
};

/// The rule ExpandRing emits for `balancer`, causal or not; std::nullopt for
/// the balancers it leaves to the runtime (per_document_head_tail, ptrr:
/// no closed form, the runtime masks by position).
std::optional<RingStepRule> ringStepRule(LoadBalancer balancer, bool causal);

/// The causal behaviour of step `step` of a ring of `world` ranks on rank
/// `rank`, as ExpandRing emits it: ringStepRule(balancer, causal)->at(rank,
/// step). std::nullopt when the balancer has no rule or rank or step is
/// outside [0, world).
std::optional<CausalBehavior> ringStepBehavior(LoadBalancer balancer,
                                               bool causal, int64_t world,
                                               int64_t rank, int64_t step);

} // namespace mlir::cp

#endif // CP_DIALECT_CP_TRANSFORMS_RINGSCHEDULE_H
