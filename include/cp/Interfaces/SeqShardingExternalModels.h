//===- SeqShardingExternalModels.h - models for upstream ops ----*- C++ -*-===//
//
// External models of SeqShardingOpInterface for the upstream ops that
// context parallelism knows: linalg (all structured ops, by their indexing
// maps, and linalg.softmax), tensor, tosa, arith and math (elementwise),
// func.return, and tm_tensor.scan.
//
//===----------------------------------------------------------------------===//

#ifndef CP_INTERFACES_SEQSHARDINGEXTERNALMODELS_H
#define CP_INTERFACES_SEQSHARDINGEXTERNALMODELS_H

namespace mlir {
class DialectRegistry;
namespace cp {

/// Registers the external models with `registry` (as dialect extensions:
/// they attach when the dialects load).
void registerSeqShardingExternalModels(DialectRegistry &registry);

} // namespace cp
} // namespace mlir

#endif // CP_INTERFACES_SEQSHARDINGEXTERNALMODELS_H
