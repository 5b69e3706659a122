//===- CPToRuntime.h - cp ops to runtime calls, as patterns -----*- C++ -*-===//
//
// The lowering of cp ops (and of the upstream shard collectives the
// context-parallel pass emits) to calls of the runtime's C ABI
// (runtime/include/cprt/cprt_compiler.h), as one conversion pattern per op
// family. A target (host CPU, CUDA) says which runtime entry points exist
// and how compiled code names them; the patterns are the same for every
// target. See docs/design.md, "Lowering to the runtime".
//
//===----------------------------------------------------------------------===//

#ifndef CP_CONVERSION_CPTORUNTIME_H
#define CP_CONVERSION_CPTORUNTIME_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <optional>
#include <string>

namespace mlir::cp {

/// The runtime's entry-point families: one C function per family and
/// element-type suffix (`cprt_c_sdpa_fwd_f32`, `cprt_c_shard_i64`, ...).
/// lib/Conversion/RuntimeCalls.cpp has each family's name and signature.
enum class RuntimeEntry {
  Rank,
  SdpaFwd,
  SdpaBwd,
  RingFwd,
  RingBwd,
  BlockFwd,
  BlockBwd,
  Merge,
  ShiftStart,
  ShiftWait,
  Shard,
  Unshard,
  AllGather,
  AllReduce,
  SeqToHeads,
  HeadsToSeq,
  SeqScan,
  HybridFwd,
  HybridBwd,
  RingDocsFwd,
  RingDocsBwd,
  DocumentPositions,
  ShardDocs,
  UnshardDocs,
};

/// Where the lowered code runs: which entry families the runtime provides
/// there and under which symbol prefix.
struct RuntimeTarget {
  /// Prefix of the entry points (`cprt_c_`, `cprt_gpu_`).
  std::string prefix = "cprt_c_";
  /// The families this target provides; empty: all of them.
  SmallVector<RuntimeEntry> provided;
  /// Families called on the host whatever the target (with `cprt_c_`).
  SmallVector<RuntimeEntry> hostOnly;
  /// Attention flags (CPRT_C_*) the target's entries do not take; an op that
  /// needs one is refused with `refusedFlagsMessage`.
  int32_t refusedAttentionFlags = 0;
  std::string refusedFlagsMessage;
  /// Completes "'<op>' op " when an op's family is not provided.
  std::string missingEntryMessage = "has no lowering to the runtime";
  /// Completes "runtime entry '<name>' " for a hand-written call of an entry
  /// the target does not provide.
  std::string missingCallMessage = "is not provided by the runtime";

  /// The host CPU (`cp-lower-to-runtime`): every family, `cprt_c_` names.
  static RuntimeTarget host();

  /// The symbol compiled code calls for `entry` with element-type `suffix`
  /// (`f32`, empty for suffix-less entries), or nullopt when the target does
  /// not provide the family.
  std::optional<std::string> symbol(RuntimeEntry entry, StringRef suffix) const;
  bool provides(RuntimeEntry entry) const;
};

/// Adds the patterns that lower every cp op and the shard collectives
/// (process_linear_index, all_gather, all_reduce) to calls of `target`'s
/// runtime, flex attention's decomposition into linalg, and the pattern
/// that points hand-written `cprt_c_*` calls at the target's entries.
/// `target` must outlive the patterns.
void populateCPToRuntimePatterns(RewritePatternSet &patterns,
                                 const RuntimeTarget &target);

/// Adds the decomposition of cp.flex_attention into linalg on f32 scores
/// (lib/Conversion/DecomposeFlex.cpp); part of populateCPToRuntimePatterns.
void populateDecomposeFlexPatterns(RewritePatternSet &patterns);

/// Whether `op` is something the runtime lowering must rewrite for
/// `target`: a cp op, a shard op other than the grid, or a call of a
/// runtime entry that the target names differently.
bool needsRuntimeLowering(Operation *op, const RuntimeTarget &target);

/// Applies `patterns` (populateCPToRuntimePatterns plus whatever a target
/// adds) to everything nested in `root`, in every region, as a partial
/// conversion that goes on past refused ops so that each refusal is
/// reported at its op; then drops the shard grids. Fails when an op that
/// needsRuntimeLowering is left.
LogicalResult applyCPToRuntimeLowering(Operation *root,
                                       const FrozenRewritePatternSet &patterns,
                                       const RuntimeTarget &target);

} // namespace mlir::cp

#endif // CP_CONVERSION_CPTORUNTIME_H
