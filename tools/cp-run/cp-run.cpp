//===- cp-run.cpp - run a module on N ranks, or compile it ahead of time --===//
//
// cp-run takes a single-device or per-rank MLIR module, (optionally) applies
// the cp pipeline, lowers it to LLVM with buildCPLowerToLLVMPipeline, and
// either JIT-runs its entry on N ranks (threads of this process or MPI
// processes) on whole tensors from .npy files, or writes an object file and
// a C header for a host program. See docs/cp-run.md.
//
// Exit codes: 0 success, 1 usage or input error, 2 compilation error,
// 3 run-time error (a rank failed), 4 outputs beyond tolerance.
//
//===----------------------------------------------------------------------===//

#include "GpuAot.h"
#include "Npy.h"
#include "RuntimeSymbols.h"
#include "cprt/cprt_compiler.h"

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/InitAll.h"
#ifdef CP_RUN_HAVE_LOWERING
#include "cp/Conversion/Passes.h"
#endif

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#ifdef CPRT_HAVE_MPI
#include <mpi.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

using namespace mlir;
using namespace cprun;
namespace cl = llvm::cl;

namespace {

enum ExitCode {
  kOk = 0,
  kUsage = 1,
  kCompile = 2,
  kRuntime = 3,
  kMismatch = 4,
};

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

cl::OptionCategory cat("cp-run options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .mlir>"),
                               cl::cat(cat));
cl::opt<std::string> entryName("entry", cl::desc("Function to run"),
                               cl::value_desc("name"), cl::cat(cat));
cl::opt<int> numRanks("ranks",
                      cl::desc("Number of ranks (MPI: defaults to the world "
                               "size and must equal it)"),
                      cl::init(0), cl::cat(cat));
enum class Comm { Threads, Mpi };
cl::opt<Comm> comm("comm", cl::desc("Communicator"), cl::init(Comm::Threads),
                   cl::values(clEnumValN(Comm::Threads, "threads",
                                         "ranks as threads of this process"),
                              clEnumValN(Comm::Mpi, "mpi",
                                         "one rank per MPI process (mpirun)")),
                   cl::cat(cat));
enum class Backend { Cpu, Cuda };
cl::opt<Backend> backend("backend", cl::desc("Kernel backend"),
                         cl::init(Backend::Cpu),
                         cl::values(clEnumValN(Backend::Cpu, "cpu", "CPU"),
                                    clEnumValN(Backend::Cuda, "cuda", "CUDA")),
                         cl::cat(cat));
cl::opt<std::string> pipelineOpts(
    "pipeline",
    cl::desc("Apply the cp pipeline to a single-device module first; the "
             "value is --cp-pipeline's option string (grid-size defaults to "
             "--ranks); \"\" or \"default\" for the defaults"),
    cl::value_desc("options"), cl::cat(cat));
cl::list<std::string> inputPaths("inputs",
                                 cl::desc("Whole (global) input tensors, one "
                                          ".npy per argument"),
                                 cl::CommaSeparated,
                                 cl::value_desc("a.npy,..."), cl::cat(cat));
cl::list<std::string> outputPaths("outputs",
                                  cl::desc("Where to write the whole (global) "
                                           "results, one .npy per result"),
                                  cl::CommaSeparated,
                                  cl::value_desc("o.npy,..."), cl::cat(cat));
cl::opt<bool> randomInputs("random-inputs",
                           cl::desc("Draw fresh inputs: normal(0,1) floats, "
                                    "integers in [0,4), random booleans"),
                           cl::cat(cat));
cl::opt<uint64_t> seed("seed", cl::desc("Seed for --random-inputs"),
                       cl::init(0), cl::cat(cat));
cl::opt<bool> compareSingle(
    "compare-single-device",
    cl::desc("Also run the single-device module (before --pipeline, or "
             "--reference) on one rank and compare the outputs"),
    cl::cat(cat));
cl::opt<std::string> referenceFile(
    "reference",
    cl::desc("Single-device module to compare against (default: the input "
             "module before --pipeline)"),
    cl::value_desc("file.mlir"), cl::cat(cat));
cl::opt<bool> allowReplicated(
    "allow-replicated",
    cl::desc("With --pipeline: when no attention was made context-parallel, "
             "warn and run the module replicated on every rank instead of "
             "failing"),
    cl::cat(cat));
cl::list<std::string> expectPaths(
    "expect",
    cl::desc("Expected whole outputs (.npy, one per result) to compare "
             "against, e.g. computed by PyTorch"),
    cl::CommaSeparated, cl::value_desc("e.npy,..."), cl::cat(cat));
cl::opt<double>
    rtolOpt("rtol",
            cl::desc("Relative tolerance (default 1e-4 for f32/f64, "
                     "2e-2 for bf16/f16)"),
            cl::init(-1), cl::cat(cat));
cl::opt<double>
    atolOpt("atol",
            cl::desc("Absolute tolerance (default 1e-5 for f32/f64, "
                     "2e-2 for bf16/f16)"),
            cl::init(-1), cl::cat(cat));
cl::opt<int64_t> timeoutMs("timeout-ms",
                           cl::desc("Communicator timeout in ms, >= 1 "
                                    "(default: CPRT_TIMEOUT_MS or 60000)"),
                           cl::init(0), cl::cat(cat));
cl::opt<int> repeat("repeat",
                    cl::desc("Run the entry this many times "
                             "(timings: last run)"),
                    cl::init(1), cl::cat(cat));
cl::opt<bool> allowNonFinite(
    "allow-nonfinite",
    cl::desc("Warn about NaN or Inf in an input instead of failing"),
    cl::cat(cat));
cl::opt<bool> runtimeInfo(
    "runtime-info",
    cl::desc("Print what the linked runtime supports (mpi=0/1, cuda=0/1, "
             "number of C ABI symbols) and exit"),
    cl::cat(cat));
cl::opt<bool> quiet("quiet", cl::desc("No progress or timings on stderr"),
                    cl::cat(cat));
cl::opt<std::string> emitObject("emit-object",
                                cl::desc("AOT: write the lowered module as an "
                                         "object file (no run)"),
                                cl::value_desc("out.o"), cl::cat(cat));
cl::opt<std::string> emitHeader("emit-header",
                                cl::desc("AOT: write a C header declaring the "
                                         "entry and its tensors' sharding"),
                                cl::value_desc("out.h"), cl::cat(cat));
cl::opt<std::string> emitLLVM("emit-llvm",
                              cl::desc("Write the lowered module as LLVM IR"),
                              cl::value_desc("out.ll"), cl::cat(cat));
cl::opt<std::string> emitMLIR("emit-mlir",
                              cl::desc("Write the per-rank module (after "
                                       "--pipeline, before lowering)"),
                              cl::value_desc("out.mlir"), cl::cat(cat));

//===----------------------------------------------------------------------===//
// Progress, errors
//===----------------------------------------------------------------------===//

int myRank = 0; // MPI rank of this process (0 in thread mode)

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void progress(const llvm::Twine &msg) {
  if (quiet || myRank != 0)
    return;
  llvm::errs() << "cp-run: " << msg << "\n";
}
void phase(llvm::StringRef name, double ms, llvm::StringRef extra = "") {
  if (quiet || myRank != 0)
    return;
  llvm::errs() << "cp-run: " << llvm::left_justify(name, 26)
               << llvm::format("%10.1f ms", ms);
  if (!extra.empty())
    llvm::errs() << "  " << extra;
  llvm::errs() << "\n";
}
int error(int code, const llvm::Twine &msg) {
  llvm::errs() << "cp-run: error";
  if (comm == Comm::Mpi)
    llvm::errs() << " (rank " << myRank << ")";
  llvm::errs() << ": " << msg << "\n";
  return code;
}

//===----------------------------------------------------------------------===//
// The entry's tensors and how they are sharded
//===----------------------------------------------------------------------===//

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

  int64_t localElems() const {
    int64_t n = 1;
    for (int64_t d : localShape)
      n *= d;
    return n;
  }
  int64_t globalElems() const {
    int64_t n = 1;
    for (int64_t d : globalShape)
      n *= d;
    return n;
  }
};

struct EntrySig {
  std::vector<TensorSig> args, results;
  int64_t gridSize = 0; // 0: no sharding in the module
  std::string gridName;
};

std::optional<ElemKind> kindOf(Type t) {
  if (t.isF16())
    return ElemKind::F16;
  if (t.isBF16())
    return ElemKind::BF16;
  if (t.isF32())
    return ElemKind::F32;
  if (t.isF64())
    return ElemKind::F64;
  if (auto it = dyn_cast<IntegerType>(t)) {
    switch (it.getWidth()) {
    case 1:
      return ElemKind::I1;
    case 8:
      return it.isUnsigned() ? ElemKind::U8 : ElemKind::I8;
    case 16:
      return ElemKind::I16;
    case 32:
      return ElemKind::I32;
    case 64:
      return ElemKind::I64;
    }
  }
  return std::nullopt;
}

const char *balancerName(int32_t b) {
  static const char *names[] = {"none", "head_tail", "striped",
                                "per_document_head_tail", "ptrr"};
  return b >= 0 && b < 5 ? names[b] : "?";
}

LogicalResult describeTensor(Type type, DictionaryAttr attrs,
                             const std::string &name, TensorSig &sig,
                             std::string &err) {
  sig.name = name;
  llvm::raw_string_ostream ts(sig.typeStr);
  ts << type;
  auto tt = dyn_cast<RankedTensorType>(type);
  if (!tt) {
    err = name + " has type " + sig.typeStr +
          "; cp-run passes ranked tensors only";
    return failure();
  }
  if (!tt.hasStaticShape()) {
    err = name + " has a dynamic shape (" + sig.typeStr +
          "); cp-run needs static shapes";
    return failure();
  }
  auto kind = kindOf(tt.getElementType());
  if (!kind) {
    err = name + " has element type " + sig.typeStr +
          " that cp-run cannot pass (f16, bf16, f32, f64, i1, i8, i16, i32, "
          "i64)";
    return failure();
  }
  sig.kind = *kind;
  sig.localShape.assign(tt.getShape().begin(), tt.getShape().end());
  sig.globalShape = sig.localShape;
  if (!attrs)
    return success();
  auto sh = attrs.getAs<DictionaryAttr>("cp.sharding");
  if (!sh)
    return success();
  auto dim = sh.getAs<IntegerAttr>("dim");
  auto seqLen = sh.getAs<IntegerAttr>("seq_len");
  auto bal = sh.getAs<cp::LoadBalancerAttr>("balancer");
  if (!dim || !seqLen || !bal) {
    err = name + ": malformed cp.sharding (needs dim, seq_len, balancer)";
    return failure();
  }
  sig.sharded = true;
  sig.dim = int32_t(dim.getInt());
  sig.seqLen = seqLen.getInt();
  sig.balancer = int32_t(bal.getValue());
  if (Attribute p = sh.get("pad"))
    sig.pad =
        isa<UnitAttr>(p) || (isa<BoolAttr>(p) && cast<BoolAttr>(p).getValue());
  if (sig.dim < 0 || sig.dim >= int32_t(sig.localShape.size())) {
    err = name + ": cp.sharding dim " + std::to_string(sig.dim) +
          " is out of range for " + sig.typeStr;
    return failure();
  }
  sig.globalShape[sig.dim] = sig.seqLen;
  if (sig.balancer == int32_t(cp::LoadBalancer::per_document_head_tail)) {
    err = name + " is sharded per_document_head_tail, which needs document "
                 "ids to shard and unshard; cp-run does not take them yet";
    return failure();
  }
  return success();
}

FailureOr<EntrySig> describeEntry(func::FuncOp f, std::string &err) {
  EntrySig sig;
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    TensorSig t;
    if (failed(describeTensor(f.getArgument(i).getType(), f.getArgAttrDict(i),
                              "argument #" + std::to_string(i), t, err)))
      return failure();
    sig.args.push_back(std::move(t));
  }
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    TensorSig t;
    if (failed(describeTensor(f.getResultTypes()[i], f.getResultAttrDict(i),
                              "result #" + std::to_string(i), t, err)))
      return failure();
    sig.results.push_back(std::move(t));
  }
  // The grid the shardings name: its size is the number of ranks the module
  // was built for.
  for (auto *list : {&sig.args, &sig.results}) {
    for (unsigned i = 0; i < list->size(); ++i) {
      if (!(*list)[i].sharded)
        continue;
      DictionaryAttr d =
          list == &sig.args ? f.getArgAttrDict(i) : f.getResultAttrDict(i);
      auto sh = d.getAs<DictionaryAttr>("cp.sharding");
      auto gridRef = sh.getAs<FlatSymbolRefAttr>("grid");
      if (!gridRef)
        continue;
      auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
          f, gridRef.getAttr());
      if (!grid)
        continue;
      int64_t n = 1;
      for (int64_t d2 : grid.getShape())
        n *= d2;
      sig.gridSize = n;
      sig.gridName = gridRef.getValue().str();
    }
  }
  return sig;
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

LogicalResult runCPPipeline(ModuleOp module, std::string options, int ranks,
                            std::string &err) {
  llvm::Regex hasGrid("(^|[ {])grid-size=");
  if (!hasGrid.match(options))
    options +=
        (options.empty() ? "" : " ") + ("grid-size=" + std::to_string(ranks));
  auto parsed = cp::CPPipelineOptions::createFromString(options);
  if (!parsed) {
    err = "cannot parse --pipeline options '" + options + "'";
    return failure();
  }
  PassManager pm(module.getContext());
  cp::buildCPPipeline(pm, *parsed);
  if (failed(pm.run(module))) {
    err = "the cp pipeline (" + options + ") failed";
    return failure();
  }
  return success();
}

/// Whether the cp pipeline made some attention of `module` context-parallel:
/// a ring (whole or expanded into block steps), a flex attention over
/// gathered keys, or Ulysses' all-to-all to head shards. Without one every
/// rank would run the whole module.
bool madeContextParallel(ModuleOp module) {
  return module
      .walk([](Operation *op) {
        if (isa<cp::RingAttentionOp, cp::RingAttentionBackwardOp,
                cp::BlockAttentionOp, cp::BlockAttentionBackwardOp,
                cp::SeqToHeadsOp>(op))
          return WalkResult::interrupt();
        auto flex = dyn_cast<cp::FlexAttentionOp>(op);
        if (flex && flex.getKey().getDefiningOp<shard::AllGatherOp>())
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

LogicalResult lowerToLLVM(ModuleOp module, std::string &err) {
  // The shardings were recorded (describeEntry); LLVM IR has no place for
  // them.
  for (auto f : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < f.getNumArguments(); ++i)
      f.removeArgAttr(i, "cp.sharding");
    for (unsigned i = 0; i < f.getNumResults(); ++i)
      f.removeResultAttr(i,
                         StringAttr::get(module.getContext(), "cp.sharding"));
  }
  PassManager pm(module.getContext());
#ifdef CP_RUN_HAVE_LOWERING
  if (backend == Backend::Cuda) {
    auto gpu = cprun::gpuLoweringOptions(err);
    if (!gpu)
      return failure();
    cp::buildCPLowerToGPUPipeline(pm, *gpu);
  } else {
    cp::buildCPLowerToLLVMPipeline(pm);
  }
#else
  // The cp lowering is not in this build: upstream passes give the same
  // calling convention for modules without cp ops.
  for (auto f : module.getOps<func::FuncOp>())
    if (f.isPublic() && !f.isDeclaration())
      f->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                 UnitAttr::get(module.getContext()));
  std::string errs;
  llvm::raw_string_ostream es(errs);
  if (failed(parsePassPipeline(
          "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map},"
          "buffer-results-to-out-params,convert-linalg-to-loops,"
          "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
          "finalize-memref-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
          "convert-func-to-llvm,convert-arith-to-llvm,convert-cf-to-llvm,"
          "convert-to-llvm,reconcile-unrealized-casts",
          pm, es))) {
    err = "cannot build the fallback lowering: " + errs;
    return failure();
  }
#endif
  if (failed(pm.run(module))) {
    err = "lowering to the LLVM dialect failed";
    return failure();
  }
  return success();
}

/// Number of LLVM parameters the lowered entry must have: a memref descriptor
/// expands to allocated, aligned, offset, sizes[r], strides[r].
int64_t expectedParams(const EntrySig &sig) {
  int64_t n = 0;
  for (auto *list : {&sig.args, &sig.results})
    for (const TensorSig &t : *list)
      n += 3 + 2 * int64_t(t.localShape.size());
  return n;
}

LogicalResult checkLowered(ModuleOp module, llvm::StringRef entry,
                           const EntrySig &sig, std::string &err) {
  auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(entry);
  if (!f) {
    err = "the lowered module has no function @" + entry.str();
    return failure();
  }
  int64_t want = expectedParams(sig);
  if (int64_t(f.getNumArguments()) != want ||
      !isa<LLVM::LLVMVoidType>(f.getFunctionType().getReturnType())) {
    err = "the lowered @" + entry.str() + " has " +
          std::to_string(f.getNumArguments()) +
          " parameters and a non-void result or a different count than the "
          "calling convention's " +
          std::to_string(want) +
          " (args then out-params as memref descriptors, no results)";
    return failure();
  }
  return success();
}

llvm::orc::SymbolMap runtimeSymbolMap(llvm::orc::MangleAndInterner interner) {
  llvm::orc::SymbolMap map;
  for (const RuntimeSymbol &s : runtimeSymbols())
    map[interner(s.name)] = {llvm::orc::ExecutorAddr::fromPtr(s.address),
                             llvm::JITSymbolFlags::Exported};
  return map;
}

/// A target machine for this host (CPU name and features), for LLVM's
/// optimizer and for object files.
std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string &err) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string targetErr;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, targetErr);
  if (!target) {
    err = "no target for " + triple.str() + ": " + targetErr;
    return nullptr;
  }
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(),
      llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}

struct Compiled {
  std::unique_ptr<ExecutionEngine> engine;
  void (*fn)(void **) = nullptr;
};

LogicalResult jitCompile(ModuleOp module, llvm::StringRef entry, Compiled &out,
                         std::string &err) {
  ExecutionEngineOptions opts;
  // The host's target machine lets LLVM's vectorizers use its vector width
  // (without one they assume none and leave the loops scalar).
  std::unique_ptr<llvm::TargetMachine> tm = hostTargetMachine(err);
  if (!tm)
    return failure();
  auto transformer = makeOptimizingTransformer(3, 0, tm.get());
  opts.transformer = transformer;
  opts.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(module, opts);
  if (!engine) {
    err = "JIT: " + llvm::toString(engine.takeError());
    return failure();
  }
  (*engine)->registerSymbols(runtimeSymbolMap);
  (*engine)->initialize();
  auto fn = (*engine)->lookupPacked(entry);
  if (!fn) {
    err = "JIT: " + llvm::toString(fn.takeError());
    return failure();
  }
  out.engine = std::move(*engine);
  out.fn = *fn;
  return success();
}

//===----------------------------------------------------------------------===//
// Running one rank
//===----------------------------------------------------------------------===//

/// A 64-byte aligned host buffer.
struct Buffer {
  void *ptr = nullptr;
  int64_t bytes = 0;
  Buffer() = default;
  explicit Buffer(int64_t n) : bytes(n) {
    ptr = std::aligned_alloc(64,
                             size_t(std::max<int64_t>(64, (n + 63) / 64 * 64)));
    std::memset(ptr, 0, size_t(n));
  }
  Buffer(Buffer &&o) : ptr(o.ptr), bytes(o.bytes) { o.ptr = nullptr; }
  Buffer &operator=(Buffer &&o) {
    std::swap(ptr, o.ptr);
    std::swap(bytes, o.bytes);
    return *this;
  }
  ~Buffer() { std::free(ptr); }
};

/// A memref descriptor in its expanded (packed-call) form.
struct Descriptor {
  void *allocated, *aligned;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  Descriptor(void *data, const std::vector<int64_t> &shape)
      : allocated(data), aligned(data), sizes(shape), strides(shape.size()) {
    int64_t s = 1;
    for (int i = int(shape.size()) - 1; i >= 0; --i) {
      strides[i] = s;
      s *= shape[i];
    }
  }
  void pack(std::vector<void *> &args) {
    args.push_back(&allocated);
    args.push_back(&aligned);
    args.push_back(&offset);
    for (int64_t &s : sizes)
      args.push_back(&s);
    for (int64_t &s : strides)
      args.push_back(&s);
  }
};

struct RankTimes {
  double shardMs = 0, computeMs = 0, unshardMs = 0;
  double bestComputeMs = 1e300; ///< the fastest of the --repeat runs
};

std::string cprtError(const char *what) {
  const char *m = cprt_last_error();
  return std::string(what) + ": " + (m && *m ? m : "unknown runtime error");
}

/// Runs `fn` on the calling thread's current rank context: shards the global
/// inputs, calls the entry, unshards the results. `outputs` (rank 0 only)
/// receives the whole results.
bool runRank(void (*fn)(void **), const EntrySig &sig,
             const std::vector<HostTensor> &inputs,
             std::vector<HostTensor> *outputs, RankTimes &times,
             std::string &err) {
  int rank = cprt_rank();
  auto t0 = Clock::now();
  std::vector<Buffer> locals;
  for (size_t i = 0; i < sig.args.size(); ++i) {
    const TensorSig &a = sig.args[i];
    int64_t eb = elemBytes(a.kind);
    Buffer local(a.localElems() * eb);
    if (a.sharded) {
      int64_t localLen = 0;
      if (cprt_layout(cprt_balancer(a.balancer), a.seqLen, nullptr, &localLen,
                      nullptr) != CPRT_OK) {
        err = cprtError(("cprt_layout for " + a.name).c_str());
        return false;
      }
      if (localLen != a.localShape[a.dim]) {
        err = a.name + ": the runtime's " + balancerName(a.balancer) +
              " layout gives " + std::to_string(localLen) +
              " local positions of " + std::to_string(a.seqLen) + " on " +
              std::to_string(cprt_size()) + " ranks, the module expects " +
              std::to_string(a.localShape[a.dim]) +
              " (was it built for another number of ranks?)";
        return false;
      }
      if (cprt_shard(inputs[i].data.data(), local.ptr, a.globalShape.data(),
                     int32_t(a.globalShape.size()), a.dim, eb,
                     cprt_balancer(a.balancer), nullptr) != CPRT_OK) {
        err = cprtError(("cprt_shard of " + a.name).c_str());
        return false;
      }
    } else {
      // A private copy: compiled code may write into its arguments.
      std::memcpy(local.ptr, inputs[i].data.data(), size_t(local.bytes));
    }
    locals.push_back(std::move(local));
  }
  std::vector<Buffer> results;
  for (const TensorSig &r : sig.results)
    results.emplace_back(r.localElems() * elemBytes(r.kind));
  times.shardMs = msSince(t0);

  for (int it = 0; it < std::max(1, int(repeat)); ++it) {
    std::vector<Descriptor> descs;
    descs.reserve(sig.args.size() + sig.results.size());
    for (size_t i = 0; i < sig.args.size(); ++i)
      descs.emplace_back(locals[i].ptr, sig.args[i].localShape);
    for (size_t i = 0; i < sig.results.size(); ++i)
      descs.emplace_back(results[i].ptr, sig.results[i].localShape);
    std::vector<void *> packed;
    for (Descriptor &d : descs)
      d.pack(packed);
    // Every rank starts the timed run together.
    if (cprt_size() > 1)
      cprt_barrier();
    auto t1 = Clock::now();
    fn(packed.data());
    times.computeMs = msSince(t1);
    times.bestComputeMs = std::min(times.bestComputeMs, times.computeMs);
    // Runtime calls in compiled code record errors per thread (sticky).
    if (cprt_c_failed()) {
      const char *m = cprt_c_error();
      err = std::string("the entry failed in the runtime: ") +
            (m && *m ? m : "unknown error");
      cprt_c_clear_error();
      return false;
    }
    if (it + 1 < int(repeat)) {
      // Re-shard: the entry may have written into its arguments.
      for (size_t i = 0; i < sig.args.size(); ++i) {
        const TensorSig &a = sig.args[i];
        if (a.sharded)
          cprt_shard(inputs[i].data.data(), locals[i].ptr, a.globalShape.data(),
                     int32_t(a.globalShape.size()), a.dim, elemBytes(a.kind),
                     cprt_balancer(a.balancer), nullptr);
        else
          std::memcpy(locals[i].ptr, inputs[i].data.data(),
                      size_t(locals[i].bytes));
      }
    }
  }

  auto t2 = Clock::now();
  for (size_t i = 0; i < sig.results.size(); ++i) {
    const TensorSig &r = sig.results[i];
    int64_t eb = elemBytes(r.kind);
    HostTensor whole;
    whole.kind = r.kind;
    whole.shape = r.globalShape;
    whole.data.resize(size_t(r.globalElems() * eb));
    if (r.sharded) {
      if (cprt_unshard(results[i].ptr, whole.data.data(), r.globalShape.data(),
                       int32_t(r.globalShape.size()), r.dim, eb,
                       cprt_balancer(r.balancer), nullptr) != CPRT_OK) {
        err = cprtError(("cprt_unshard of " + r.name).c_str());
        return false;
      }
    } else if (rank == 0) {
      std::memcpy(whole.data.data(), results[i].ptr, whole.data.size());
    }
    if (rank == 0 && outputs)
      outputs->push_back(std::move(whole));
  }
  times.unshardMs = msSince(t2);
  return true;
}

struct ThreadRun {
  void (*fn)(void **);
  const EntrySig *sig;
  const std::vector<HostTensor> *inputs;
  std::vector<HostTensor> outputs;
  std::vector<RankTimes> times;
  std::vector<std::string> errors;
};

int threadRankMain(int rank, int size, void *user) {
  auto *run = static_cast<ThreadRun *>(user);
  std::string err;
  bool ok = runRank(run->fn, *run->sig, *run->inputs,
                    rank == 0 ? &run->outputs : nullptr, run->times[rank], err);
  if (!ok) {
    run->errors[rank] = err;
    return 1;
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// Inputs, outputs, comparison
//===----------------------------------------------------------------------===//

bool loadInputs(const EntrySig &sig, std::vector<HostTensor> &inputs,
                std::string &err) {
  if (randomInputs) {
    if (!inputPaths.empty()) {
      err = "--random-inputs and --inputs are exclusive";
      return false;
    }
    for (size_t i = 0; i < sig.args.size(); ++i) {
      const TensorSig &a = sig.args[i];
      HostTensor t;
      t.kind = a.kind;
      t.shape = a.globalShape;
      t.data.resize(size_t(a.globalElems() * elemBytes(a.kind)));
      std::mt19937_64 gen(seed * 1000003ull + i);
      std::normal_distribution<double> normal(0.0, 1.0);
      std::uniform_int_distribution<int> small(0, 3);
      for (int64_t e = 0, n = t.numElements(); e < n; ++e) {
        if (isFloat(a.kind))
          t.set(e, normal(gen));
        else if (a.kind == ElemKind::I1)
          t.set(e, small(gen) != 0);
        else
          t.set(e, small(gen));
      }
      inputs.push_back(std::move(t));
    }
    return true;
  }
  if (inputPaths.size() != sig.args.size()) {
    err = "@" + entryName + " takes " + std::to_string(sig.args.size()) +
          " argument(s), --inputs gave " + std::to_string(inputPaths.size()) +
          (sig.args.empty() ? "" : " (or use --random-inputs)");
    return false;
  }
  for (size_t i = 0; i < sig.args.size(); ++i) {
    const TensorSig &a = sig.args[i];
    auto file = readNpy(inputPaths[i]);
    if (!file) {
      err = llvm::toString(file.takeError());
      return false;
    }
    if (file->tensor.shape != a.globalShape) {
      err = inputPaths[i] + ": shape " + shapeString(file->tensor.shape) +
            " does not match " + a.name + " of @" + entryName +
            ", whose whole shape is " + shapeString(a.globalShape) +
            (a.sharded ? " (the sequence dim " + std::to_string(a.dim) +
                             " is sharded: local type " + a.typeStr + ")"
                       : " (" + a.typeStr + ")");
      return false;
    }
    auto conv =
        convertTo(file->tensor, a.kind, inputPaths[i] + " (" + a.name + ")");
    if (!conv) {
      err = llvm::toString(conv.takeError());
      return false;
    }
    if (file->tensor.kind != a.kind)
      progress(inputPaths[i] + ": converted " + file->descr + " to " +
               elemName(a.kind));
    int64_t first = 0;
    if (int64_t bad = countNonFinite(*conv, first)) {
      std::string msg = inputPaths[i] + " (" + a.name + "): " +
                        std::to_string(bad) + " of " +
                        std::to_string(conv->numElements()) +
                        " elements are NaN or Inf (first at flat index " +
                        std::to_string(first) + ": " +
                        std::to_string(conv->get(first)) + ")";
      int64_t srcFirst = 0;
      if (file->tensor.kind != a.kind &&
          countNonFinite(file->tensor, srcFirst) < bad)
        msg += " after converting " + file->descr + " to " +
               elemName(a.kind) + " (values out of " + elemName(a.kind) +
               "'s range)";
      if (!allowNonFinite) {
        err = msg + "; pass --allow-nonfinite to run anyway";
        return false;
      }
      llvm::errs() << "cp-run: warning: " << msg << "\n";
    }
    inputs.push_back(std::move(*conv));
  }
  return true;
}

struct Tolerance {
  double rtol, atol;
};
Tolerance toleranceFor(ElemKind k) {
  bool low = k == ElemKind::BF16 || k == ElemKind::F16;
  Tolerance t{low ? 2e-2 : 1e-4, low ? 2e-2 : 1e-5};
  if (rtolOpt >= 0)
    t.rtol = rtolOpt;
  if (atolOpt >= 0)
    t.atol = atolOpt;
  return t;
}

/// Compares `got` against `want`; prints one line; returns true if within
/// tolerance. Tolerance follows the coarser of the two element types.
bool compareTensors(const std::string &label, const HostTensor &got,
                    const HostTensor &want) {
  if (got.shape != want.shape) {
    llvm::errs() << "cp-run: " << label << ": shape " << shapeString(got.shape)
                 << " vs " << shapeString(want.shape) << ": FAIL\n";
    return false;
  }
  ElemKind k = (got.kind == ElemKind::BF16 || want.kind == ElemKind::BF16)
                   ? ElemKind::BF16
               : (got.kind == ElemKind::F16 || want.kind == ElemKind::F16)
                   ? ElemKind::F16
                   : got.kind;
  Tolerance tol = toleranceFor(k);
  double maxAbs = 0, maxRel = 0, worstExcess = -1;
  int64_t bad = 0, nans = 0, n = got.numElements(), worst = -1;
  for (int64_t i = 0; i < n; ++i) {
    double a = got.get(i), b = want.get(i);
    if (std::isnan(a) || std::isnan(b)) {
      if (!(std::isnan(a) && std::isnan(b)))
        ++nans;
      ++bad;
      continue;
    }
    if (std::isinf(a) || std::isinf(b)) {
      if (a != b)
        ++bad;
      continue;
    }
    double d = std::fabs(a - b);
    maxAbs = std::max(maxAbs, d);
    if (std::fabs(b) > tol.atol)
      maxRel = std::max(maxRel, d / std::fabs(b));
    double excess = d - (tol.atol + tol.rtol * std::fabs(b));
    if (excess > 0)
      ++bad;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  llvm::errs() << "cp-run: " << label << " " << elemName(got.kind)
               << shapeString(got.shape)
               << llvm::format(": max abs err %.3e, max rel err %.3e", maxAbs,
                               maxRel)
               << llvm::format(" (rtol %.1e, atol %.1e)", tol.rtol, tol.atol);
  if (bad == 0) {
    llvm::errs() << " ok\n";
    return true;
  }
  llvm::errs() << " FAIL: " << bad << " of " << n
               << " elements beyond tolerance";
  if (nans)
    llvm::errs() << " (" << nans << " NaN)";
  if (worst >= 0 && worstExcess > 0) {
    // Where it is worst, as a multi-index into the whole tensor.
    std::vector<int64_t> idx(got.shape.size());
    for (int64_t r = worst, d = int64_t(idx.size()) - 1; d >= 0; --d) {
      idx[d] = r % got.shape[d];
      r /= got.shape[d];
    }
    llvm::errs() << "; worst at " << shapeString(idx)
                 << llvm::format(": got %.6g, want %.6g", got.get(worst),
                                 want.get(worst));
  }
  llvm::errs() << "\n";
  return false;
}

//===----------------------------------------------------------------------===//
// AOT: object file and header
//===----------------------------------------------------------------------===//

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

LogicalResult writeHeader(llvm::StringRef path, llvm::StringRef entry,
                          const EntrySig &sig, std::string &err) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    err = path.str() + ": " + ec.message();
    return failure();
  }
  auto &os = out.os();
  std::string id = cIdent(entry);
  std::string guard = "CP_AOT_" + llvm::StringRef(id).upper() + "_H";
  os << "/* Generated by cp-run from " << llvm::sys::path::filename(inputFile)
     << ": entry @" << entry << ". Do not edit.\n"
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
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#ifndef CP_AOT_COMMON\n#define CP_AOT_COMMON\n"
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
  std::string up = llvm::StringRef(id).upper();
  os << "#define " << up << "_NUM_INPUTS " << sig.args.size() << "\n"
     << "#define " << up << "_NUM_OUTPUTS " << sig.results.size() << "\n"
     << "/* Ranks the module was built for (0: not context-parallel). */\n"
     << "#define " << up << "_GRID_SIZE " << sig.gridSize << "\n\n";
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

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> parseFile(MLIRContext &ctx, llvm::StringRef path,
                                llvm::SourceMgr &sm) {
  std::string msg;
  auto file = openInputFile(path, &msg);
  if (!file) {
    error(kUsage, msg);
    return nullptr;
  }
  sm.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sm, &ctx);
}

func::FuncOp findEntry(ModuleOp module, llvm::StringRef path) {
  auto f = module.lookupSymbol<func::FuncOp>(entryName);
  if (f && !f.isDeclaration())
    return f;
  std::string names;
  for (auto g : module.getOps<func::FuncOp>())
    if (!g.isDeclaration() && g.isPublic())
      names += (names.empty() ? "@" : ", @") + g.getName().str();
  error(kUsage, path + ": no function @" + entryName +
                    (names.empty() ? std::string(" (the module has no public "
                                                 "functions)")
                                   : " (functions: " + names + ")"));
  return nullptr;
}

// Thread ranks each hold a thread, a communicator and a CPU backend: past
// this many, thread creation or memory fails (30,000 ranks took 4.8 GB).
constexpr int kMaxThreadRanks = 4096;

/// Refuses values of --ranks, --repeat and --timeout-ms that cannot be
/// honoured; returns kOk or the exit code after the error.
int checkRunOptions(bool aot) {
  if (numRanks.getNumOccurrences() && numRanks < 1)
    return error(kUsage, "--ranks must be >= 1, got " +
                             std::to_string(numRanks));
  if (comm == Comm::Threads && !aot && numRanks > kMaxThreadRanks)
    return error(kUsage, "--ranks " + std::to_string(numRanks) +
                             " exceeds the limit of " +
                             std::to_string(kMaxThreadRanks) +
                             " thread ranks (--comm threads); use --comm mpi "
                             "for more");
  if (repeat < 1)
    return error(kUsage, "--repeat must be >= 1, got " +
                             std::to_string(repeat));
  if (timeoutMs.getNumOccurrences() && timeoutMs < 1)
    return error(kUsage, "--timeout-ms must be >= 1 (milliseconds), got " +
                             std::to_string(timeoutMs));
  return kOk;
}

int realMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "cp-run: run an MLIR module on N ranks with the cp runtime, or compile "
      "it ahead of time (docs/cp-run.md)\n\n"
      "  exit codes: 0 ok, 1 usage or input error, 2 compilation error,\n"
      "              3 run-time error, 4 outputs beyond tolerance\n");

  if (runtimeInfo) {
    llvm::outs() << "cprt: mpi=" << cprt_has_mpi()
                 << " cuda=0 symbols=" << runtimeSymbols().size() << "\n";
    return kOk;
  }
  if (inputFile.empty())
    return error(kUsage, "no input file (cp-run FILE.mlir --entry NAME ...)");
  bool aot = !emitObject.empty() || !emitHeader.empty() || !emitLLVM.empty();
  if (entryName.empty())
    return error(kUsage, "--entry NAME is required");
  if (backend == Backend::Cuda && !aot)
    return error(kUsage,
                 "--backend cuda compiles ahead of time only (--emit-object "
                 "/ --emit-header / --emit-llvm): run the object with "
                 "cprt-gpu-run on the GPU machine (docs/gpu.md); cp-run's JIT "
                 "has no CUDA runtime linked");

  if (int rc = checkRunOptions(aot))
    return rc;
  int ranks = numRanks;
  if (comm == Comm::Mpi && !aot) {
    if (cprt_init_mpi(&argc, &argv, timeoutMs) != CPRT_OK)
      return error(kUsage, cprtError("--comm mpi"));
    myRank = cprt_rank();
    int world = cprt_size();
    if (ranks == 0)
      ranks = world;
    if (ranks != world)
      return error(kUsage, "--ranks " + std::to_string(ranks) +
                               " but the MPI world has " +
                               std::to_string(world) +
                               " processes (start with mpirun -np " +
                               std::to_string(ranks) + ")");
  }
  if (ranks == 0) // not given: one thread rank
    ranks = 1;
  bool usePipeline = pipelineOpts.getNumOccurrences() > 0;
  std::string pipeOpts = pipelineOpts;
  if (pipeOpts == "default")
    pipeOpts.clear();
  if (compareSingle && !usePipeline && referenceFile.empty())
    return error(kUsage, "--compare-single-device needs --pipeline (the "
                         "module before it is the single-device one) or "
                         "--reference FILE");
  if (!aot && !randomInputs && inputPaths.empty()) {
    // Fine for entries without arguments; checked against the signature.
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  cp::registerAllDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  registerAllPasses();
  cp::registerAllPasses();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler diag(sm, &ctx);

  // ---- parse ----
  auto t0 = Clock::now();
  OwningOpRef<ModuleOp> module = parseFile(ctx, inputFile, sm);
  if (!module)
    return error(kCompile, "cannot parse " + inputFile);
  if (!findEntry(*module, inputFile))
    return kUsage;
  phase("parse", msSince(t0), inputFile);

  // The single-device module to compare against.
  OwningOpRef<ModuleOp> reference;
  llvm::SourceMgr refSm;
  SourceMgrDiagnosticHandler refDiag(refSm, &ctx);
  if (compareSingle) {
    if (!referenceFile.empty()) {
      reference = parseFile(ctx, referenceFile, refSm);
      if (!reference)
        return error(kCompile, "cannot parse " + referenceFile);
      if (!findEntry(*reference, referenceFile))
        return kUsage;
    } else {
      reference = module->clone();
    }
  }

  // ---- cp pipeline ----
  std::string err;
  if (usePipeline) {
    auto t1 = Clock::now();
    if (failed(runCPPipeline(*module, pipeOpts, ranks, err)))
      return error(kCompile, err);
    phase("cp pipeline", msSince(t1),
          pipeOpts.empty() ? "(defaults)" : llvm::StringRef(pipeOpts));
    if (!madeContextParallel(*module)) {
      std::string msg =
          "no attention was made context-parallel in " + inputFile +
          ": every rank would run the whole module (run `cp-opt " +
          inputFile +
          " --cp-detect-attention=report-misses=true` to see why attention "
          "was not detected)";
      if (!allowReplicated)
        return error(kCompile, msg + "; pass --allow-replicated to run it "
                                     "replicated anyway");
      llvm::errs() << "cp-run: warning: " << msg << "\n";
    }
  }
  func::FuncOp entry = findEntry(*module, inputFile);
  if (!entry)
    return kUsage;
  auto sigOr = describeEntry(entry, err);
  if (failed(sigOr))
    return error(kUsage, "@" + entryName + ": " + err);
  EntrySig sig = *sigOr;
  if (sig.gridSize > 0 && sig.gridSize != ranks && !aot)
    return error(kUsage, "@" + entryName + " was built for " +
                             std::to_string(sig.gridSize) +
                             " ranks (shard.grid @" + sig.gridName +
                             ") but --ranks is " + std::to_string(ranks));
  if (!emitMLIR.empty()) {
    std::error_code ec;
    llvm::ToolOutputFile out(emitMLIR, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return error(kUsage, emitMLIR + ": " + ec.message());
    module->print(out.os());
    out.keep();
  }

  // ---- lowering ----
  auto t2 = Clock::now();
  if (failed(lowerToLLVM(*module, err)))
    return error(kCompile, err);
  if (failed(checkLowered(*module, entryName, sig, err)))
    return error(kCompile, err);
  phase("lower to LLVM dialect", msSince(t2));

  if (aot) {
    auto t3 = Clock::now();
    if (!emitLLVM.empty() && failed(writeLLVMIR(*module, emitLLVM, err)))
      return error(kCompile, err);
    if (!emitObject.empty() && failed(writeObject(*module, emitObject, err)))
      return error(kCompile, err);
    if (!emitHeader.empty() &&
        failed(writeHeader(emitHeader, entryName, sig, err)))
      return error(kUsage, err);
    phase("emit", msSince(t3));
    return kOk;
  }

  // ---- JIT ----
  auto t4 = Clock::now();
  Compiled compiled;
  if (failed(jitCompile(*module, entryName, compiled, err)))
    return error(kCompile, err);
  phase("JIT compile", msSince(t4));

  // ---- inputs ----
  std::vector<HostTensor> inputs;
  auto t5 = Clock::now();
  if (!loadInputs(sig, inputs, err))
    return error(kUsage, err);
  phase(randomInputs ? "random inputs" : "read inputs", msSince(t5),
        randomInputs ? "seed " + std::to_string(seed) : "");
  if (!outputPaths.empty() && outputPaths.size() != sig.results.size())
    return error(kUsage, "@" + entryName + " has " +
                             std::to_string(sig.results.size()) +
                             " result(s), --outputs gave " +
                             std::to_string(outputPaths.size()));
  // An output that cannot be written is a usage error found before the run.
  if (myRank == 0)
    for (const std::string &path : outputPaths)
      if (auto e = checkWritable(path))
        return error(kUsage, llvm::toString(std::move(e)));

  // ---- run ----
  std::vector<HostTensor> outputs;
  RankTimes t;
  auto t6 = Clock::now();
  if (comm == Comm::Threads) {
    ThreadRun run{compiled.fn, &sig, &inputs, {}, {}, {}};
    run.times.resize(ranks);
    run.errors.resize(ranks);
    cprt_status st = cprt_run_threads(ranks, threadRankMain, &run, timeoutMs);
    if (st != CPRT_OK) {
      for (int r = 0; r < ranks; ++r)
        if (!run.errors[r].empty())
          return error(kRuntime,
                       "rank " + std::to_string(r) + ": " + run.errors[r]);
      return error(kRuntime, cprtError("run"));
    }
    outputs = std::move(run.outputs);
    for (const RankTimes &rt : run.times) {
      t.shardMs = std::max(t.shardMs, rt.shardMs);
      t.computeMs = std::max(t.computeMs, rt.computeMs);
      t.bestComputeMs = t.bestComputeMs == 1e300
                            ? rt.bestComputeMs
                            : std::max(t.bestComputeMs, rt.bestComputeMs);
      t.unshardMs = std::max(t.unshardMs, rt.unshardMs);
    }
  } else {
    if (!runRank(compiled.fn, sig, inputs, &outputs, t, err))
      return error(kRuntime, err);
    cprt_barrier();
  }
  double total = msSince(t6);
  std::string where = std::to_string(ranks) + " rank(s), " +
                      (comm == Comm::Threads ? "threads" : "mpi");
  phase("run: shard inputs", t.shardMs);
  phase("run: compute", t.computeMs, where);
  if (repeat > 1)
    phase("run: compute, best", t.bestComputeMs,
          "of " + std::to_string(int(repeat)) + " runs (slowest rank's best)");
  phase("run: unshard outputs", t.unshardMs);
  phase("run: total", total);

  int rc = kOk;
  if (myRank == 0) {
    // Every output goes to a temporary file first, then all are renamed:
    // a failed write leaves no partial output.
    std::vector<std::string> tmps;
    auto dropTmps = [&] {
      for (const std::string &tmp : tmps)
        llvm::sys::fs::remove(tmp);
    };
    for (size_t i = 0; i < outputs.size() && i < outputPaths.size(); ++i) {
      std::string tmp;
      if (auto e = writeNpyTemp(outputPaths[i], outputs[i], tmp)) {
        dropTmps();
        return error(kUsage, llvm::toString(std::move(e)));
      }
      tmps.push_back(tmp);
    }
    for (size_t i = 0; i < tmps.size(); ++i)
      if (auto e = commitNpy(tmps[i], outputPaths[i])) {
        tmps.erase(tmps.begin(), tmps.begin() + i + 1);
        dropTmps();
        return error(kUsage, llvm::toString(std::move(e)));
      }
    if (!outputPaths.empty())
      progress("wrote " + llvm::join(outputPaths, ", "));

    // ---- expected outputs (e.g. from PyTorch) ----
    if (!expectPaths.empty()) {
      if (expectPaths.size() != outputs.size())
        return error(kUsage, "--expect gave " +
                                 std::to_string(expectPaths.size()) +
                                 " file(s) for " +
                                 std::to_string(outputs.size()) + " result(s)");
      for (size_t i = 0; i < outputs.size(); ++i) {
        auto file = readNpy(expectPaths[i]);
        if (!file)
          return error(kUsage, llvm::toString(file.takeError()));
        if (!compareTensors("result #" + std::to_string(i) + " vs " +
                                expectPaths[i],
                            outputs[i], file->tensor))
          rc = kMismatch;
      }
    }

    // ---- single-device reference ----
    if (compareSingle) {
      auto t7 = Clock::now();
      func::FuncOp refEntry = findEntry(*reference, "the reference module");
      auto refSig = describeEntry(refEntry, err);
      if (failed(refSig))
        return error(kUsage, "reference @" + entryName + ": " + err);
      if (refSig->args.size() != sig.args.size() ||
          refSig->results.size() != sig.results.size())
        return error(kUsage, "the reference @" + entryName +
                                 " has a different number of arguments or "
                                 "results");
      for (size_t i = 0; i < sig.args.size(); ++i)
        if (refSig->args[i].globalShape != sig.args[i].globalShape ||
            refSig->args[i].kind != sig.args[i].kind)
          return error(kUsage, "reference " + refSig->args[i].name + " is " +
                                   refSig->args[i].typeStr +
                                   ", the run's whole " + sig.args[i].name +
                                   " is " + elemName(sig.args[i].kind) +
                                   shapeString(sig.args[i].globalShape));
      if (failed(lowerToLLVM(*reference, err)) ||
          failed(checkLowered(*reference, entryName, *refSig, err)))
        return error(kCompile, "reference: " + err);
      Compiled refCompiled;
      if (failed(jitCompile(*reference, entryName, refCompiled, err)))
        return error(kCompile, "reference: " + err);
      phase("reference: lower + JIT", msSince(t7));
      std::vector<HostTensor> refOutputs;
      RankTimes rt;
      bool ok = false;
      auto t8 = Clock::now();
      // Its own thread: a single-rank context that leaves this thread's
      // (MPI) context alone.
      std::thread worker([&] {
        if (cprt_init_local() != CPRT_OK) {
          err = cprtError("cprt_init_local");
          return;
        }
        ok = runRank(refCompiled.fn, *refSig, inputs, &refOutputs, rt, err);
      });
      worker.join();
      if (!ok)
        return error(kRuntime, "reference: " + err);
      phase("reference: run", msSince(t8), "1 rank");
      for (size_t i = 0; i < outputs.size(); ++i)
        if (!compareTensors("result #" + std::to_string(i) +
                                " vs single device",
                            outputs[i], refOutputs[i]))
          rc = kMismatch;
    }
  }
  if (comm == Comm::Mpi)
    cprt_finalize_mpi();
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  int rc = realMain(argc, argv);
  std::fflush(stdout);
  llvm::errs().flush();
#ifdef CPRT_HAVE_MPI
  // A rank that fails alone would leave its peers waiting: end the job.
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (rc != kOk && initialized && !finalized)
    MPI_Abort(MPI_COMM_WORLD, rc);
#endif
  return rc;
}
