//===- Emit.cpp - cp-run: --emit-mlir and the AOT outputs -----------------===//

#include "Emit.h"
#include "Options.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace cprun {

namespace {

LogicalResult writeObject(ModuleOp module, llvm::StringRef path,
                          std::string &err) {
  llvm::LLVMContext llvmCtx;
  auto llvmModule = translateModuleToLLVMIR(module, llvmCtx);
  if (!llvmModule) {
    err = "translation to LLVM IR failed";
    return failure();
  }
  std::unique_ptr<llvm::TargetMachine> tm = hostTargetMachine(err);
  if (!tm)
    return failure();
  ExecutionEngine::setupTargetTripleAndDataLayout(llvmModule.get(), tm.get());
  if (auto e = makeOptimizingTransformer(3, 0, tm.get())(llvmModule.get())) {
    err = "LLVM optimization failed: " + llvm::toString(std::move(e));
    return failure();
  }
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    err = path.str() + ": " + ec.message();
    return failure();
  }
  llvm::legacy::PassManager cg;
  if (tm->addPassesToEmitFile(cg, out.os(), nullptr,
                              llvm::CodeGenFileType::ObjectFile)) {
    err = "the target cannot emit object files";
    return failure();
  }
  cg.run(*llvmModule);
  out.keep();
  return success();
}

LogicalResult writeLLVMIR(ModuleOp module, llvm::StringRef path,
                          std::string &err) {
  llvm::LLVMContext llvmCtx;
  auto llvmModule = translateModuleToLLVMIR(module, llvmCtx);
  if (!llvmModule) {
    err = "translation to LLVM IR failed";
    return failure();
  }
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    err = path.str() + ": " + ec.message();
    return failure();
  }
  llvmModule->print(out.os(), nullptr);
  out.keep();
  return success();
}

std::string cIdent(llvm::StringRef s) {
  std::string r;
  for (char c : s)
    r += llvm::isAlnum(c) ? c : '_';
  return r;
}

void writeTensorTable(llvm::raw_ostream &os, llvm::StringRef name,
                      const std::vector<TensorSig> &list) {
  os << "static const cp_aot_tensor CP_AOT_UNUSED " << name << "["
     << std::max<size_t>(1, list.size()) << "] = {\n";
  if (list.empty())
    os << "  {0}\n";
  for (const TensorSig &t : list) {
    auto shape = [&](const std::vector<int64_t> &s) {
      std::string r = "{";
      for (size_t i = 0; i < s.size(); ++i)
        r += (i ? ", " : "") + std::to_string(s[i]);
      return r + (s.empty() ? "0}" : "}");
    };
    os << "  {\"" << elemName(t.kind) << "\", " << elemBytes(t.kind) << ", "
       << t.localShape.size() << ", " << shape(t.localShape) << ", "
       << shape(t.globalShape) << ", " << (t.sharded ? t.dim : -1) << ", "
       << (t.sharded ? t.balancer : 0) << ", " << (t.sharded ? t.seqLen : 0)
       << "}, /* " << t.name << ": " << t.typeStr
       << (t.sharded ? std::string(", sharded, ") + balancerName(t.balancer)
                     : std::string(", replicated"))
       << " */\n";
  }
  os << "};\n";
}

/// The definitions every generated header shares (guarded by
/// CP_AOT_COMMON): memref descriptors of rank 0 to 8 and cp_aot_tensor.
void writeCommonDefinitions(llvm::raw_ostream &os) {
  os << "#ifndef CP_AOT_COMMON\n#define CP_AOT_COMMON\n"
     << "/* A memref descriptor of rank R (MLIR's C interface). */\n"
     << "#define CP_MEMREF_DESCRIPTOR(R) \\\n"
     << "  struct {                   \\\n"
     << "    void *allocated;         \\\n"
     << "    void *aligned;           \\\n"
     << "    int64_t offset;          \\\n"
     << "    int64_t sizes[R];        \\\n"
     << "    int64_t strides[R];      \\\n"
     << "  }\n"
     << "typedef struct { void *allocated; void *aligned; int64_t offset; } "
        "cp_memref_0d;\n";
  for (int r = 1; r <= 8; ++r)
    os << "typedef CP_MEMREF_DESCRIPTOR(" << r << ") cp_memref_" << r << "d;\n";
  os << "\n/* A tensor of the entry: element type, local (per-rank) and whole\n"
     << " * shapes, and how it is sharded (shard_dim -1: replicated; balancer\n"
     << " * as cprt_balancer; seq_len: whole length of the sharded dim). */\n"
     << "typedef struct cp_aot_tensor {\n"
     << "  const char *dtype;\n  int32_t elem_bytes;\n  int32_t rank;\n"
     << "  int64_t local_shape[8];\n  int64_t global_shape[8];\n"
     << "  int32_t shard_dim;\n  int32_t balancer;\n  int64_t seq_len;\n"
     << "} cp_aot_tensor;\n"
     << "#if defined(__GNUC__)\n#define CP_AOT_UNUSED __attribute__((unused))\n"
     << "#else\n#define CP_AOT_UNUSED\n#endif\n"
     << "#endif /* CP_AOT_COMMON */\n\n";
}

/// --emit-header: writes a C header declaring the entry and its tensors'
/// sharding tables.
LogicalResult writeHeader(const RunOptions &opts, const EntrySig &sig,
                          std::string &err) {
  llvm::StringRef path = opts.emitHeader, entry = opts.entry;
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    err = path.str() + ": " + ec.message();
    return failure();
  }
  auto &os = out.os();
  std::string id = cIdent(entry);
  std::string guard = "CP_AOT_" + llvm::StringRef(id).upper() + "_H";
  os << "/* Generated by cp-run from "
     << llvm::sys::path::filename(opts.inputFile) << ": entry @" << entry
     << ". Do not edit.\n"
     << " *\n"
     << " * Call it on every rank of a cprt context (cprt_init_mpi or\n"
     << " * cprt_run_threads) with this rank's local tensors: shard whole\n"
     << " * inputs with cprt_shard(global, local, global_shape, rank, "
        "shard_dim,\n"
     << " * elem_bytes, balancer, NULL) where shard_dim >= 0 (replicated\n"
     << " * otherwise), and unshard sharded results with cprt_unshard.\n"
     << " * Link the object with the cprt runtime library. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  writeCommonDefinitions(os);
  std::string up = llvm::StringRef(id).upper();
  os << "#define " << up << "_NUM_INPUTS " << sig.args.size() << "\n"
     << "#define " << up << "_NUM_OUTPUTS " << sig.results.size() << "\n"
     << "/* Ranks the module was built for (0: not context-parallel). */\n"
     << "#define " << up << "_GRID_SIZE " << sig.gridSize << "\n\n";
  if (sig.documentsArg >= 0)
    os << "/* per_document_head_tail shardings (balancer 3) are laid out by\n"
       << " * the document ids of this input (whole, passed as it is): give\n"
       << " * them as int32 to cprt_shard / cprt_unshard instead of NULL. */\n"
       << "#define " << up << "_DOCUMENTS_INPUT " << sig.documentsArg << "\n\n";
  writeTensorTable(os, id + "_inputs", sig.args);
  writeTensorTable(os, id + "_outputs", sig.results);
  os << "\n/* Inputs, then one out-param per result (written by the call). */\n"
     << "void _mlir_ciface_" << entry << "(";
  bool first = true;
  auto param = [&](const TensorSig &t, const std::string &pname) {
    os << (first ? "" : ", ") << "cp_memref_" << t.localShape.size() << "d *"
       << pname;
    first = false;
  };
  for (size_t i = 0; i < sig.args.size(); ++i)
    param(sig.args[i], "in" + std::to_string(i));
  for (size_t i = 0; i < sig.results.size(); ++i)
    param(sig.results[i], "out" + std::to_string(i));
  if (first)
    os << "void";
  os << ");\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  out.keep();
  return success();
}

} // namespace

int emitMLIRFile(const RunOptions &opts, ModuleOp module) {
  if (opts.emitMLIR.empty())
    return kOk;
  std::error_code ec;
  llvm::ToolOutputFile out(opts.emitMLIR, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return error(kUsage, opts.emitMLIR + ": " + ec.message());
  module->print(out.os());
  out.keep();
  return kOk;
}

int emitAot(const RunOptions &opts, ModuleOp module, const EntrySig &sig) {
  std::string err;
  auto t3 = Clock::now();
  if (!opts.emitLLVM.empty() && failed(writeLLVMIR(module, opts.emitLLVM, err)))
    return error(kCompile, err);
  if (!opts.emitObject.empty() &&
      failed(writeObject(module, opts.emitObject, err)))
    return error(kCompile, err);
  if (!opts.emitHeader.empty() && failed(writeHeader(opts, sig, err)))
    return error(kUsage, err);
  phase("emit", msSince(t3));
  return kOk;
}

} // namespace cprun
