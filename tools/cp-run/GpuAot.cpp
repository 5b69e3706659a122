//===- GpuAot.cpp - cp-run's options for --backend cuda -------------------===//
//
// With --backend cuda, cp-run lowers with buildCPLowerToGPUPipeline (the
// `cp-lower-to-llvm{target=cuda}` pipeline) and writes an object with the
// device code embedded; cprt-gpu-run (runtime/src/cuda/launcher) runs it on
// the GPU machine. Kept apart from cp-run.cpp.
//
//===----------------------------------------------------------------------===//
#include "GpuAot.h"

using namespace mlir;

std::unique_ptr<cp::CPLowerToLLVMOptions>
cprun::gpuLoweringOptions(llvm::StringRef gpuLowering, std::string &err) {
  std::string opts = "target=cuda " + gpuLowering.str();
  auto parsed = cp::CPLowerToLLVMOptions::createFromString(opts);
  if (!parsed) {
    err = "cannot parse --gpu-lowering '" + gpuLowering.str() + "'";
    return nullptr;
  }
  return parsed;
}
