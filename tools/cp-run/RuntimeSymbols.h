//===- RuntimeSymbols.h - the runtime's C ABI for the JIT -------*- C++ -*-===//
//
// Every function declared in runtime/include/cprt/cprt.h and
// cprt_compiler.h, by name and address, so that the JIT resolves the cprt_*
// calls of compiled modules without relying on the executable's dynamic
// symbol table. The list is generated from the headers at build time
// (GenRuntimeSymbols.cmake): a function added to the C ABI is picked up by
// rebuilding cp-run.
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_RUNTIMESYMBOLS_H
#define CP_RUN_RUNTIMESYMBOLS_H

#include "cprt/cprt.h"

#include "llvm/ADT/ArrayRef.h"

namespace cprun {

struct RuntimeSymbol {
  const char *name;
  void *address;
};

llvm::ArrayRef<RuntimeSymbol> runtimeSymbols();

} // namespace cprun

#endif // CP_RUN_RUNTIMESYMBOLS_H
