//===- GpuAot.h - cp-run's options for --backend cuda -----------*- C++ -*-===//
#ifndef CP_RUN_GPUAOT_H
#define CP_RUN_GPUAOT_H

#include "cp/Conversion/Passes.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace cprun {
/// The GPU lowering's options from `gpuLowering`, the value of
/// --gpu-lowering (target=cuda implied); null with `err` set when they do
/// not parse.
std::unique_ptr<mlir::cp::CPLowerToLLVMOptions>
gpuLoweringOptions(llvm::StringRef gpuLowering, std::string &err);
} // namespace cprun

#endif
