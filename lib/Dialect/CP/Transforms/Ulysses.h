//===- Ulysses.h - the Ulysses rewrite of attention ops ---------*- C++ -*-===//
//
// Private to MLIRCPTransforms: cp-context-parallel calls this for every
// attention op when strategy=ulysses (the ring rewrite otherwise).
//
//===----------------------------------------------------------------------===//
#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_ULYSSES_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_ULYSSES_H

#include "cp/Dialect/CP/IR/CPOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::cp {

/// What the Ulysses rewrite needs from the pass.
struct UlyssesOptions {
  FlatSymbolRefAttr grid;
  int64_t world;
  LoadBalancer balancer;
  int64_t seqLen;
  bool pad;
  /// This rank's index on the grid (created on first use).
  llvm::function_ref<Value()> getRank;
  /// Whether the sequence-dim analysis sharded `v` (a mask's query rows).
  llvm::function_ref<bool(Value)> isSharded;
};

/// Checks that `op` (cp.sdpa, cp.sdpa_backward or cp.flex_attention on
/// global tensors) can be distributed by heads over `world` ranks; emits a
/// diagnostic at `op` otherwise. Runs before the function is rewritten.
LogicalResult checkUlysses(Operation *op, int64_t world);

/// Rewrites `op`, whose sequence-carrying operands and results already have
/// the local sequence length, into seq_to_heads -> local attention ->
/// heads_to_seq. `op` is erased.
LogicalResult rewriteUlysses(Operation *op, const UlyssesOptions &options);

} // namespace mlir::cp

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_ULYSSES_H
