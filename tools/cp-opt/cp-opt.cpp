//===- cp-opt.cpp - the cp optimizer driver -------------------------------===//
//
// Like mlir-opt: the cp dialect and passes, plus every upstream dialect,
// extension and pass, so that IR from ML compilers (torch-mlir's
// linalg-on-tensors, TOSA, ...) parses and can be lowered in one tool.
//
//===----------------------------------------------------------------------===//

#include "cp/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::cp::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::cp::registerAllDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "cp optimizer: context-parallel attention passes\n",
      registry));
}
