//===- consumer.cpp - an external tool that embeds the cp passes ----------===//
//
// What an ML compiler does to use cp: register the dialect and passes in its
// own context and pass registry, and add the context-parallel pipeline to
// its pass manager with one call. Prints the per-rank function.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

static const char *kModule = R"mlir(
func.func @attn(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>,
                %v: tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = cp.sdpa %q, %k, %v {is_causal}
      : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>)
      -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}
)mlir";

int main() {
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect>();
  mlir::cp::registerAllDialects(registry);
  mlir::cp::registerAllPasses();
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kModule, &context);
  if (!module)
    return 1;

  // One call adds detection, context parallelism and the ring expansion.
  auto options = mlir::cp::CPPipelineOptions::createFromString(
      "grid-size=4 rotate=ring load-balance=head_tail");
  if (!options)
    return 1;
  mlir::PassManager pm(&context);
  mlir::cp::buildCPPipeline(pm, *options);
  if (mlir::failed(pm.run(*module)))
    return 1;

  // The passes and the pipeline are registered by name too (textual
  // pipelines, --help of the embedding tool).
  if (!mlir::PassPipelineInfo::lookup("cp-pipeline") ||
      !mlir::PassInfo::lookup("cp-context-parallel")) {
    llvm::errs() << "cp-pipeline is not registered\n";
    return 1;
  }

  module->print(llvm::outs());
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  bool ok = text.find("cp.sharding") != std::string::npos &&
            text.find("tensor<1x4x16x16xf32>") != std::string::npos;
  llvm::outs() << (ok ? "cp-consumer: ok\n" : "cp-consumer: FAIL\n");
  return ok ? 0 : 1;
}
