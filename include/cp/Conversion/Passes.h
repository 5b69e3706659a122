//===- Passes.h - cp lowering passes and pipeline ---------------*- C++ -*-===//

#ifndef CP_CONVERSION_PASSES_H
#define CP_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::cp {

#define GEN_PASS_DECL
#include "cp/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "cp/Conversion/Passes.h.inc"

/// Lowers a module (single-device or per-rank) to the LLVM dialect:
/// cp-lower-to-runtime, one-shot bufferization (identity layouts at function
/// boundaries), buffer results to out-params, loops, LLVM conversion.
///
/// The contract with runners (cp-run, AOT hosts): every public function
/// `@f(args...) -> (results...)` of the input becomes
/// `@f(args..., outs...) -> ()` taking one memref per tensor argument and
/// one out-param memref per tensor result, all with identity layout, and
/// carries `llvm.emit_c_interface` (so `_mlir_ciface_f` takes pointers to
/// memref descriptors). The functions call `cprt_*` symbols of
/// runtime/include/cprt/cprt.h and cprt_compiler.h.
void buildCPLowerToLLVMPipeline(OpPassManager &pm);

/// Options of the `cp-lower-to-llvm` pipeline: `target=cpu` (the default,
/// buildCPLowerToLLVMPipeline) or `target=cuda` (buildCPLowerToGPUPipeline).
enum class CPTarget { Cpu, Cuda };
struct CPLowerToLLVMOptions : PassPipelineOptions<CPLowerToLLVMOptions> {
  PassOptions::Option<CPTarget> target{
      *this, "target", llvm::cl::desc("Where the compiled code runs"),
      llvm::cl::init(CPTarget::Cpu),
      llvm::cl::values(
          clEnumValN(CPTarget::Cpu, "cpu", "host code, buffers in host memory"),
          clEnumValN(CPTarget::Cuda, "cuda",
                     "GPU kernels + cuBLAS + the runtime's CUDA entry "
                     "points, every buffer in device memory"))};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("target=cuda: the SM (sm_80, sm_90, ...)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("target=cuda: NVPTX features (PTX ISA version)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> gpuFormat{
      *this, "gpu-format",
      llvm::cl::desc("target=cuda: embedded device code: fatbin (ptxas + "
                     "fatbinary), bin (cubin) or isa (PTX, JIT-compiled by "
                     "the driver at load)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<std::string> cudaToolkit{
      *this, "cuda-toolkit",
      llvm::cl::desc("target=cuda: CUDA toolkit root (ptxas, libdevice); "
                     "empty: MLIR's default search"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("target=cuda: threads per block of generated kernels"),
      llvm::cl::init(256)};
};

/// The GPU form of buildCPLowerToLLVMPipeline (same calling convention; the
/// memrefs hold device pointers): cp ops become `cprt_gpu_*` runtime calls,
/// GEMMs cuBLAS calls, everything else GPU kernels embedded as a
/// gpu.binary; host code calls the `mgpu*` entry points of the runtime.
/// See lib/Conversion/LowerToGPU.cpp and docs/gpu.md.
void buildCPLowerToGPUPipeline(OpPassManager &pm,
                               const CPLowerToLLVMOptions &options);

/// Registers the `cp-lower-to-llvm` pass pipeline (and
/// `cp-gpu-lower-to-runtime`, its target=cuda runtime lowering, for tests).
void registerCPLowerToLLVMPipeline();

/// Registers `cp-gpu-lower-to-runtime`: the patterns of cp-lower-to-runtime
/// for the CUDA runtime's entry points (`cprt_gpu_*`), as the target=cuda
/// pipeline runs them.
void registerCPGPULowerToRuntimePass();

} // namespace mlir::cp

#endif // CP_CONVERSION_PASSES_H
