//===- GpuAot.cpp - cp-run's options for --backend cuda -------------------===//
//
// With --backend cuda, cp-run lowers with buildCPLowerToGPUPipeline (the
// `cp-lower-to-llvm{target=cuda}` pipeline) and writes an object with the
// device code embedded; cprt-gpu-run (runtime/src/cuda/launcher) runs it on
// the GPU machine. Kept apart from cp-run.cpp.
//
//===----------------------------------------------------------------------===//
#include "GpuAot.h"

#include "llvm/Support/CommandLine.h"

using namespace mlir;

namespace {
llvm::cl::opt<std::string> gpuLowering(
    "gpu-lowering",
    llvm::cl::desc("--backend cuda: options of cp-lower-to-llvm's GPU target "
                   "(chip=sm_90 gpu-format=fatbin|bin|isa block-size=256 "
                   "cuda-toolkit=PATH)"),
    llvm::cl::init(""));
} // namespace

std::unique_ptr<cp::CPLowerToLLVMOptions>
cprun::gpuLoweringOptions(std::string &err) {
  std::string opts = "target=cuda " + gpuLowering.getValue();
  auto parsed = cp::CPLowerToLLVMOptions::createFromString(opts);
  if (!parsed) {
    err = "cannot parse --gpu-lowering '" + gpuLowering.getValue() + "'";
    return nullptr;
  }
  return parsed;
}
