//===- Emit.h - cp-run: --emit-mlir and the AOT outputs ---------*- C++ -*-===//
//
// Writes the per-rank module (--emit-mlir) and, ahead of time, the lowered
// module as LLVM IR (--emit-llvm), an object file (--emit-object) and a C
// header declaring the entry and its tensors' sharding (--emit-header).
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_EMIT_H
#define CP_RUN_EMIT_H

#include "Compile.h"

#include "mlir/IR/BuiltinOps.h"

namespace cprun {

/// --emit-mlir: writes the per-rank module (after --pipeline, before
/// lowering); returns kOk or the exit code after the error.
int emitMLIRFile(const RunOptions &opts, mlir::ModuleOp module);

/// AOT: writes --emit-llvm, --emit-object and --emit-header for the lowered
/// `module`; returns kOk or the exit code after the error.
int emitAot(const RunOptions &opts, mlir::ModuleOp module, const EntrySig &sig);

} // namespace cprun

#endif // CP_RUN_EMIT_H
