//===- Pipeline.cpp - the cp-pipeline pass pipeline -----------------------===//

#include "cp/Dialect/CP/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::cp::buildCPPipeline(OpPassManager &pm,
                               const CPPipelineOptions &options) {
  // cp-context-parallel rewrites whole functions and refuses called ones:
  // inline calls first. No simplification pipeline inside the inliner, so
  // detection sees the IR as written (canonicalization can fold patterns).
  pm.addPass(createInlinerPass({}, [](OpPassManager &) {}));
  pm.addPass(createCPDetectAttention());
  // Drop what detection left dead (e.g. a causal mask built from positions
  // that became is_causal) before the sequence-dim analysis sees it.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // TOSA cumsums (pad + slice shifts of the sequence) become scans.
  pm.addPass(createCPRaiseTosaScan());
  CPContextParallelOptions cpOptions;
  cpOptions.gridSize = options.gridSize;
  cpOptions.gridName = options.gridName;
  cpOptions.rotate = options.rotate;
  cpOptions.loadBalance = options.loadBalance;
  cpOptions.seqArgs = llvm::to_vector(options.seqArgs);
  cpOptions.pad = options.pad;
  cpOptions.strategy = options.strategy;
  cpOptions.ulyssesSize = options.ulyssesSize;
  cpOptions.topology = options.topology;
  pm.addPass(createCPContextParallel(cpOptions));
  if (options.expand)
    pm.addPass(createCPExpandRing());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::cp::registerCPPipeline() {
  PassPipelineRegistration<CPPipelineOptions>(
      "cp-pipeline",
      "Detect attention, make functions context-parallel and expand the ring "
      "schedule (options as cp-context-parallel, plus expand=false to keep "
      "cp.ring_attention)",
      buildCPPipeline);
}
