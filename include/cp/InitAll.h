//===- InitAll.h - register the cp dialect and passes -----------*- C++ -*-===//
//
// The entry points an embedding compiler calls to make cp available in its
// own tool: register the dialect (and the upstream dialects it depends on)
// and the passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef CP_INITALL_H
#define CP_INITALL_H

#include "cp/Conversion/Passes.h"
#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"
#include "cp/Dialect/TMTensor/Transforms/Passes.h"
#include "cp/Interfaces/SeqShardingExternalModels.h"

#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir::cp {

/// Registers the cp dialect and the dialects its ops depend on, and the
/// subset of torch-mlir's tm_tensor dialect that exported models use, and the
/// func inliner (cp-pipeline inlines calls first), and the sequence-sharding
/// models of the ops cp-context-parallel can shard.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<CPDialect, shard::ShardDialect, tm_tensor::TMTensorDialect>();
  func::registerInlinerExtension(registry);
  registerSeqShardingExternalModels(registry);
}

/// Registers the cp passes and pipelines with the global pass registry.
inline void registerAllPasses() {
  registerCPPasses();
  tm_tensor::registerTMTensorPasses();
  registerCPPipeline();
  registerCPConversionPasses();
  registerCPLowerToLLVMPipeline();
}

} // namespace mlir::cp

#endif // CP_INITALL_H
