//===- Compile.cpp - cp-run: parse, cp pipeline, lowering, JIT ------------===//

#include "Compile.h"
#include "GpuAot.h"
#include "Options.h"
#include "RuntimeSymbols.h"

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/InitAll.h"
#ifdef CP_RUN_HAVE_LOWERING
#include "cp/Conversion/Passes.h"
#endif

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace cprun {

int64_t TensorSig::localElems() const {
  int64_t n = 1;
  for (int64_t d : localShape)
    n *= d;
  return n;
}

int64_t TensorSig::globalElems() const {
  int64_t n = 1;
  for (int64_t d : globalShape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// The entry's tensors and how they are sharded
//===----------------------------------------------------------------------===//

namespace {

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

/// Records how `sig` is sharded (read through #cp.sharding's accessors):
/// its whole shape has `seq_len` positions along `dim`.
LogicalResult describeSharding(cp::ShardingAttr sh, TensorSig &sig,
                               std::string &err) {
  sig.sharded = true;
  sig.sharding = sh;
  sig.dim = int32_t(sh.getDim());
  sig.seqLen = sh.getSeqLen();
  sig.balancer = int32_t(sh.getBalancer());
  sig.pad = sh.getPad();
  if (sh.getDim() >= int64_t(sig.localShape.size())) {
    err = sig.name + ": cp.sharding dim " + std::to_string(sh.getDim()) +
          " is out of range for " + sig.typeStr;
    return failure();
  }
  sig.globalShape[sig.dim] = sig.seqLen;
  return success();
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
  Attribute attr = attrs.get(cp::CPDialect::getShardingAttrName());
  if (!attr)
    return success();
  auto sh = dyn_cast<cp::ShardingAttr>(attr);
  if (!sh) {
    err = name + ": malformed cp.sharding (not a #cp.sharding attribute)";
    return failure();
  }
  return describeSharding(sh, sig, err);
}

} // namespace

const char *balancerName(int32_t b) {
  if (b < 0)
    return "?";
  auto balancer = cp::symbolizeLoadBalancer(uint32_t(b));
  // The enum's names are string literals: null-terminated.
  return balancer ? cp::stringifyLoadBalancer(*balancer).data() : "?";
}

/// The argument marked `cp.documents`: whole 1-D ([S] or [1, S]) integer
/// document ids that per_document_head_tail shardings need (cp-run passes
/// them to cprt_layout / cprt_shard / cprt_unshard).
static LogicalResult findDocuments(func::FuncOp f, EntrySig &sig,
                                   std::string &err) {
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    if (!f.getArgAttr(i, "cp.documents"))
      continue;
    const TensorSig &a = sig.args[i];
    int64_t n = 1;
    for (int64_t d : a.globalShape)
      n *= d;
    bool intKind = a.kind == ElemKind::I32 || a.kind == ElemKind::I64;
    if (sig.documentsArg >= 0 || a.sharded || !intKind ||
        a.globalShape.empty() || n != a.globalShape.back()) {
      err = a.name + " is marked cp.documents but is not the one whole "
                     "[S] (or [1, S]) i32/i64 tensor of document ids";
      return failure();
    }
    sig.documentsArg = int(i);
  }
  for (auto *list : {&sig.args, &sig.results})
    for (const TensorSig &t : *list)
      if (t.sharded &&
          t.balancer == int32_t(cp::LoadBalancer::per_document_head_tail) &&
          sig.documentsArg < 0) {
        err = t.name + " is sharded per_document_head_tail, which needs the "
                       "document ids: no argument is marked cp.documents";
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
  if (failed(findDocuments(f, sig, err)))
    return failure();
  // The grid the shardings name: its size is the number of ranks the module
  // was built for.
  for (auto *list : {&sig.args, &sig.results}) {
    for (const TensorSig &t : *list) {
      if (!t.sharded)
        continue;
      FlatSymbolRefAttr gridRef = t.sharding.getGrid();
      auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
          f, gridRef.getAttr());
      if (!grid)
        continue;
      int64_t n = 1;
      for (int64_t d : grid.getShape())
        n *= d;
      sig.gridSize = n;
      sig.gridName = gridRef.getValue().str();
    }
  }
  return sig;
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

namespace {

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

LogicalResult lowerToLLVM(const RunOptions &opts, ModuleOp module,
                          std::string &err) {
  // The shardings were recorded (describeEntry); LLVM IR has no place for
  // them.
  for (auto f : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < f.getNumArguments(); ++i)
      f.removeArgAttr(i, cp::CPDialect::getShardingAttrName());
    for (unsigned i = 0; i < f.getNumResults(); ++i)
      f.removeResultAttr(i, cp::CPDialect::getShardingAttrName());
  }
  PassManager pm(module.getContext());
#ifdef CP_RUN_HAVE_LOWERING
  if (opts.backend == Backend::Cuda) {
    auto gpu = cprun::gpuLoweringOptions(opts.gpuLowering, err);
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

} // namespace

LogicalResult lowerAndCheck(const RunOptions &opts, ModuleOp module,
                            const EntrySig &sig, std::string &err) {
  if (failed(lowerToLLVM(opts, module, err)))
    return failure();
  return checkLowered(module, opts.entry, sig, err);
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

func::FuncOp findEntry(ModuleOp module, llvm::StringRef entry,
                       llvm::StringRef path) {
  auto f = module.lookupSymbol<func::FuncOp>(entry);
  if (f && !f.isDeclaration())
    return f;
  std::string names;
  for (auto g : module.getOps<func::FuncOp>())
    if (!g.isDeclaration() && g.isPublic())
      names += (names.empty() ? "@" : ", @") + g.getName().str();
  error(kUsage, path + ": no function @" + entry +
                    (names.empty() ? std::string(" (the module has no public "
                                                 "functions)")
                                   : " (functions: " + names + ")"));
  return nullptr;
}

static DialectRegistry makeRegistry() {
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
  return registry;
}

Session::Session() : ctx(makeRegistry()) { ctx.loadAllAvailableDialects(); }

namespace {

/// Parses the input module and, with --compare-single-device, the reference
/// (--reference, or a copy of the input before --pipeline).
int parseModules(const RunOptions &opts, Session &s) {
  auto t0 = Clock::now();
  s.diag.emplace(s.sm, &s.ctx);
  s.module = parseFile(s.ctx, opts.inputFile, s.sm);
  if (!s.module)
    return error(kCompile, "cannot parse " + opts.inputFile);
  if (!findEntry(*s.module, opts.entry, opts.inputFile))
    return kUsage;
  phase("parse", msSince(t0), opts.inputFile);

  s.refDiag.emplace(s.refSm, &s.ctx);
  if (!opts.compareSingle)
    return kOk;
  if (opts.reference.empty()) {
    s.reference = s.module->clone();
    return kOk;
  }
  s.reference = parseFile(s.ctx, opts.reference, s.refSm);
  if (!s.reference)
    return error(kCompile, "cannot parse " + opts.reference);
  if (!findEntry(*s.reference, opts.entry, opts.reference))
    return kUsage;
  return kOk;
}

/// Applies --pipeline (grid-size defaults to `ranks`) and checks that some
/// attention was made context-parallel (or --allow-replicated).
int applyPipeline(const RunOptions &opts, ModuleOp module, int ranks) {
  std::string pipeOpts = opts.pipeline.value_or("");
  if (pipeOpts == "default")
    pipeOpts.clear();
  std::string err;
  auto t1 = Clock::now();
  if (failed(runCPPipeline(module, pipeOpts, ranks, err)))
    return error(kCompile, err);
  phase("cp pipeline", msSince(t1),
        pipeOpts.empty() ? "(defaults)" : llvm::StringRef(pipeOpts));
  if (madeContextParallel(module))
    return kOk;
  std::string msg =
      "no attention was made context-parallel in " + opts.inputFile +
      ": every rank would run the whole module (run `cp-opt " + opts.inputFile +
      " --cp-detect-attention=report-misses=true` to see why attention "
      "was not detected)";
  if (!opts.allowReplicated)
    return error(kCompile, msg + "; pass --allow-replicated to run it "
                                 "replicated anyway");
  llvm::errs() << "cp-run: warning: " << msg << "\n";
  return kOk;
}

} // namespace

int loadAndTransform(const RunOptions &opts, Session &s, int ranks,
                     EntrySig &sig) {
  if (int rc = parseModules(opts, s))
    return rc;
  if (opts.pipeline)
    if (int rc = applyPipeline(opts, *s.module, ranks))
      return rc;
  func::FuncOp entry = findEntry(*s.module, opts.entry, opts.inputFile);
  if (!entry)
    return kUsage;
  std::string err;
  auto sigOr = describeEntry(entry, err);
  if (failed(sigOr))
    return error(kUsage, "@" + opts.entry + ": " + err);
  sig = *sigOr;
  if (sig.gridSize > 0 && sig.gridSize != ranks && !opts.isAot())
    return error(kUsage, "@" + opts.entry + " was built for " +
                             std::to_string(sig.gridSize) +
                             " ranks (shard.grid @" + sig.gridName +
                             ") but --ranks is " + std::to_string(ranks));
  return kOk;
}

} // namespace cprun
