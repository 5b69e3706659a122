//===- Compile.h - cp-run: parse, cp pipeline, lowering, JIT ----*- C++ -*-===//
//
// Reads the input (and reference) module, applies the cp pipeline, describes
// the entry's tensors and how they are sharded, lowers to the LLVM dialect
// and JIT-compiles the entry.
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_COMPILE_H
#define CP_RUN_COMPILE_H

#include "Npy.h"
#include "Options.h"

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cprun {

/// One tensor of the entry: its local (per-rank) type and, when it is
/// sharded along the sequence (a `#cp.sharding` attribute), its whole shape
/// and layout.
struct TensorSig {
  std::string name; // "argument #0", "result #1"
  ElemKind kind = ElemKind::F32;
  std::string typeStr;
  std::vector<int64_t> localShape, globalShape;
  bool sharded = false;
  int32_t dim = -1;
  int32_t balancer = 0; // cprt_balancer == cp::LoadBalancer
  int64_t seqLen = 0;
  bool pad = false;
  mlir::cp::ShardingAttr sharding; // null when replicated

  int64_t localElems() const;
  int64_t globalElems() const;
};

struct EntrySig {
  std::vector<TensorSig> args, results;
  /// The argument marked `cp.documents` (the document ids that
  /// per_document_head_tail shardings are laid out by), or -1.
  int documentsArg = -1;
  int64_t gridSize = 0; // 0: no sharding in the module
  std::string gridName;
};

/// The balancer's name as the cp dialect spells it ("?" when out of range).
const char *balancerName(int32_t b);

/// Describes the arguments and results of `f`; `err` says what cp-run cannot
/// pass.
mlir::FailureOr<EntrySig> describeEntry(mlir::func::FuncOp f, std::string &err);

/// The context, the modules and their diagnostics. Diagnostic handlers are
/// installed as the modules are parsed (input first, then the reference).
struct Session {
  Session();
  mlir::MLIRContext ctx;
  llvm::SourceMgr sm, refSm;
  std::optional<mlir::SourceMgrDiagnosticHandler> diag, refDiag;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The single-device module to compare against (--compare-single-device).
  mlir::OwningOpRef<mlir::ModuleOp> reference;
};

/// Parses the input module (and the reference with
/// --compare-single-device), applies --pipeline for `ranks` ranks and
/// describes the entry into `sig`; returns kOk or the exit code after the
/// error.
int loadAndTransform(const RunOptions &opts, Session &s, int ranks,
                     EntrySig &sig);

/// The entry function `entry` (--entry) of `module`; null after an error
/// naming `path` and the module's public functions.
mlir::func::FuncOp findEntry(mlir::ModuleOp module, llvm::StringRef entry,
                             llvm::StringRef path);

/// Lowers `module` to the LLVM dialect (CPU or --backend cuda) and checks the
/// entry's calling convention against `sig`.
mlir::LogicalResult lowerAndCheck(const RunOptions &opts, mlir::ModuleOp module,
                                  const EntrySig &sig, std::string &err);

/// A target machine for this host (CPU name and features), for LLVM's
/// optimizer and for object files.
std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string &err);

struct Compiled {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*fn)(void **) = nullptr;
};

/// JIT-compiles the lowered `module` and looks up the packed entry.
mlir::LogicalResult jitCompile(mlir::ModuleOp module, llvm::StringRef entry,
                               Compiled &out, std::string &err);

} // namespace cprun

#endif // CP_RUN_COMPILE_H
