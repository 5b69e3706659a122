//===- RuntimeSymbols.cpp - the runtime's C ABI for the JIT ---------------===//

#include "RuntimeSymbols.h"

// Generated: #includes of the C ABI headers and CPRT_FOR_EACH_SYMBOL(X).
#include "CprtSymbols.inc"

// Upstream lowerings call into MLIR's C runner utils for what they do not
// inline (memref.copy of non-contiguous views).
#include "mlir/ExecutionEngine/CRunnerUtils.h"

using namespace cprun;

llvm::ArrayRef<RuntimeSymbol> cprun::runtimeSymbols() {
#define CPRT_SYMBOL_ENTRY(name) {#name, reinterpret_cast<void *>(&name)},
  static const RuntimeSymbol symbols[] = {
      CPRT_FOR_EACH_SYMBOL(CPRT_SYMBOL_ENTRY){
          "memrefCopy", reinterpret_cast<void *>(&memrefCopy)},
  };
#undef CPRT_SYMBOL_ENTRY
  return symbols;
}
