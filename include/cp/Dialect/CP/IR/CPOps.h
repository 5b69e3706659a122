//===- CPOps.h - cp dialect operations --------------------------*- C++ -*-===//

#ifndef CP_DIALECT_CP_IR_CPOPS_H
#define CP_DIALECT_CP_IR_CPOPS_H

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::cp {
/// The attributes of a ring attention op (forward or backward) that the
/// context-parallel pass sets: its builders take them as one.
struct RingConfig {
  FlatSymbolRefAttr grid;
  RotateMethodAttr rotate;
  LoadBalancerAttr balancer;
  int64_t seqLen = 0;
  bool pad = false, isCausal = false, enableGqa = false;
  std::optional<double> scale;
  /// The hybrid strategy's Ulysses group size; 0: plain ring.
  int64_t ulyssesSize = 0;
};
} // namespace mlir::cp

#define GET_OP_CLASSES
#include "cp/Dialect/CP/IR/CPOps.h.inc"

namespace mlir::cp {

/// How many tokens a balancer keeps together per rank split: the sequence
/// must be a multiple of `granule * W` unless padding is requested.
int64_t balancerGranule(LoadBalancer balancer, std::optional<int64_t> blockSize);

/// Local shard length of a sequence of `seqLen` positions over `worldSize`
/// ranks; with `pad`, rounds up to the next multiple of `granule * W`.
/// Returns std::nullopt when the length does not split and `pad` is unset,
/// or when `worldSize` < 1.
std::optional<int64_t> localSeqLen(int64_t seqLen, int64_t worldSize,
                                   LoadBalancer balancer,
                                   std::optional<int64_t> blockSize, bool pad);

/// Original position of local index `local` on rank `rank` (static
/// balancers only), with the runtime's placement of padding (spread over
/// the chunks, see runtime/src/balance/LoadBalancer.cpp; a unit test checks
/// both agree). Padding slots map to seqLen + slot index (>= seqLen).
int64_t globalPosition(int64_t local, int64_t rank, int64_t seqLen,
                       int64_t worldSize, LoadBalancer balancer,
                       std::optional<int64_t> blockSize, bool pad);

} // namespace mlir::cp

#endif // CP_DIALECT_CP_IR_CPOPS_H
