//===- ContextParallel.cpp - single-device to per-rank functions ----------===//
//
// cp-context-parallel turns a function with attention into its per-rank form.
// It is a driver over SeqShardingOpInterface (docs/design.md, "Sequence-
// sharding interface"): of the ops themselves it knows only the attention
// ops (the seeds) and constants (which it shards).
//
// 1. The sequence-dim analysis (SeqDimAnalysis.cpp) finds every tensor that
//    carries the attention's sequence dim, and which dim it is, by asking
//    every op it reaches how its operands and results relate along the
//    sequence (`relateSeqDim`). An op that mixes positions along the dim in
//    an unknown way, or that has no model, stops the pass with a diagnostic
//    at that op: never a silent miscompile.
// 2. The rewrite changes the sequence dim of all those tensors from S to the
//    local length L: arguments become local shards (recorded in `cp.sharding`
//    argument attributes), constants are sharded in the function with
//    cp.shard, data-free tensors get a local copy per use, whole reads get
//    cp.unshard; then every related op is asked for its local form
//    (`rewriteToLocal`): attention becomes cp.ring_attention[_backward] (or
//    Ulysses, Ulysses.cpp), `linalg.index` on the sequence loop becomes the
//    original position, reductions over the sequence get a shard.all_reduce,
//    scans along it become cp.seq_scan, shape attributes follow, ...
//
// `-debug-only=cp-context-parallel` (in builds with assertions) explains
// each decision.
//
//===----------------------------------------------------------------------===//

#include "PerDocument.h"
#include "SeqDimAnalysis.h"
#include "StrategyChoice.h"
#include "Ulysses.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Dialect/CP/Transforms/Passes.h"
#include "cp/Interfaces/SeqShardingExternalModels.h"
#include "cp/Interfaces/SeqShardingOpInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "cp-context-parallel"

namespace mlir::cp {
#define GEN_PASS_DEF_CPCONTEXTPARALLEL
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

RankedTensorType rankedTensor(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

bool isAttention(Operation *op) {
  return isa<SDPAOp, SDPABackwardOp, FlexAttentionOp>(op);
}

/// The values of `func` that depend on none of its arguments (positions,
/// masks and tables built from constants and iotas): every rank can compute
/// them whole.
llvm::DenseSet<Value> argumentFreeValues(func::FuncOp func) {
  llvm::DenseSet<Value> free;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == func.getOperation())
      return WalkResult::advance();
    if (op->getParentOp() != func.getOperation())
      return WalkResult::skip(); // nested ops: judged with their parent
    if (op->getNumResults() == 0 || !isMemoryEffectFree(op) ||
        isAttention(op))
      return WalkResult::skip();
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    auto isFree = [&](Value x) { return free.contains(x); };
    if (llvm::all_of(op->getOperands(), isFree) &&
        llvm::all_of(captured, isFree))
      for (Value r : op->getResults())
        free.insert(r);
    return WalkResult::skip();
  });
  return free;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ContextParallelPass
    : cp::impl::CPContextParallelBase<ContextParallelPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    // The pass asks ops through SeqShardingOpInterface: make sure the
    // upstream ops' models are there even in a tool that did not register
    // them (cp::registerAllDialects does).
    registerSeqShardingExternalModels(registry);
  }
  void runOnOperation() override;

private:
  LogicalResult runOnFunction(func::FuncOp func, shard::GridOp grid);
  FailureOr<SeqRewriteContext::Layout> functionLayout(func::FuncOp func,
                                                      shard::GridOp grid);
  LogicalResult checkSeqArgs(func::FuncOp func,
                             const SeqDimAnalysis &analysis);
  shard::GridOp getOrCreateGrid(Operation *symbolTableOp);
};

/// Checks that `grid` can carry the ring: one static axis of at least one
/// rank. A 0-sized axis would otherwise divide by zero in the layout.
static LogicalResult verifyRingGrid(shard::GridOp grid) {
  if (grid.getRank() != 1)
    return grid.emitOpError("expected a 1-D grid for the ring, got rank ")
           << grid.getRank();
  int64_t size = grid.getShape()[0];
  if (ShapedType::isDynamic(size))
    return grid.emitOpError("expected a grid of static size for the ring");
  if (size < 1)
    return grid.emitOpError("expected at least one rank for the ring, got a "
                            "grid of size ")
           << size;
  return success();
}

/// The grid named `gridName` in `symbolTableOp` (the nearest symbol table of
/// the functions that use it, so nested modules resolve it), created there
/// if absent; null after a diagnostic.
shard::GridOp ContextParallelPass::getOrCreateGrid(Operation *symbolTableOp) {
  Operation *existing = SymbolTable::lookupSymbolIn(symbolTableOp, gridName);
  if (existing) {
    auto grid = dyn_cast<shard::GridOp>(existing);
    if (!grid) {
      existing->emitOpError("is named '")
          << gridName << "', the grid the pass would create; rename it or "
          << "choose another grid name (grid=...)";
      return nullptr;
    }
    return succeeded(verifyRingGrid(grid)) ? grid : nullptr;
  }
  if (gridSize < 1) {
    symbolTableOp->emitError("grid-size must be >= 1, got ") << gridSize;
    return nullptr;
  }
  OpBuilder b(&symbolTableOp->getRegion(0).front(),
              symbolTableOp->getRegion(0).front().begin());
  return shard::GridOp::create(b, symbolTableOp->getLoc(), gridName,
                               ArrayRef<int64_t>{gridSize});
}

/// The pass changes a function's signature (whole tensors become local
/// shards) and its call sites would not follow: refuses calls to `funcs`
/// until context parallelism is interprocedural (--cp-pipeline inlines).
static LogicalResult checkNotCalled(ModuleOp module,
                                    ArrayRef<func::FuncOp> funcs) {
  llvm::SmallPtrSet<Operation *, 8> targets;
  for (func::FuncOp f : funcs)
    targets.insert(f);
  SymbolTableCollection symbols;
  WalkResult r = module.walk([&](CallOpInterface call) {
    Operation *callee = call.resolveCallableInTable(&symbols);
    if (!callee || !targets.contains(callee))
      return WalkResult::advance();
    InFlightDiagnostic diag =
        call->emitOpError("calls @")
        << cast<func::FuncOp>(callee).getName()
        << ", which has attention: cannot make a called function "
           "context-parallel; inline it first (e.g. --inline)";
    diag.attachNote(callee->getLoc()) << "the called function";
    return WalkResult::interrupt();
  });
  return failure(r.wasInterrupted());
}

void ContextParallelPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<func::FuncOp> funcs;
  module.walk([&](func::FuncOp f) {
    if (!f.isExternal() &&
        f.walk([](Operation *op) {
           return isAttention(op) ? WalkResult::interrupt()
                      : WalkResult::advance();
         }).wasInterrupted())
      funcs.push_back(f);
  });
  if (failed(checkNotCalled(module, funcs)))
    return signalPassFailure();
  DenseMap<Operation *, shard::GridOp> grids;
  for (func::FuncOp f : funcs) {
    Operation *table = SymbolTable::getNearestSymbolTable(f->getParentOp());
    shard::GridOp &grid = grids[table];
    if (!grid)
      grid = getOrCreateGrid(table);
    if (!grid || failed(runOnFunction(f, grid)))
      return signalPassFailure();
  }
}

/// The attention ops' common sequence length, or a diagnostic.
static FailureOr<int64_t> attentionSeqLen(func::FuncOp func) {
  std::optional<int64_t> seqLen;
  WalkResult r = func.walk([&](Operation *op) {
    Value q, k;
    double dropout = 0.0;
    if (auto s = dyn_cast<SDPAOp>(op)) {
      q = s.getQuery(), k = s.getKey();
      if (s.getDropoutP())
        dropout = s.getDropoutP()->convertToDouble();
    } else if (auto b = dyn_cast<SDPABackwardOp>(op)) {
      q = b.getQuery(), k = b.getKey();
      if (b.getDropoutP())
        dropout = b.getDropoutP()->convertToDouble();
    } else if (auto f = dyn_cast<FlexAttentionOp>(op)) {
      q = f.getQuery(), k = f.getKey();
    } else {
      return WalkResult::advance();
    }
    auto qt = rankedTensor(q), kt = rankedTensor(k);
    int64_t lq = qt.getShape()[qt.getRank() - 2];
    int64_t lk = kt.getShape()[kt.getRank() - 2];
    if (ShapedType::isDynamic(lq) || ShapedType::isDynamic(lk)) {
      op->emitOpError("has a dynamic sequence length; context parallelism "
                      "needs static shapes");
      return WalkResult::interrupt();
    }
    if (lq != lk) {
      op->emitOpError("attends ")
          << lq << " queries to " << lk
          << " keys; context parallelism shards self-attention over one "
             "sequence (equal query and key lengths)";
      return WalkResult::interrupt();
    }
    if (dropout != 0.0) {
      op->emitOpError("has dropout_p = ")
          << dropout << "; dropout under context parallelism is not supported";
      return WalkResult::interrupt();
    }
    if (seqLen && *seqLen != lq) {
      op->emitOpError("has sequence length ")
          << lq << " but another attention op in this function has "
          << *seqLen << "; expected one sequence length per function";
      return WalkResult::interrupt();
    }
    seqLen = lq;
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  return *seqLen;
}


/// The `cp.sharding` attribute of a function argument or result that is the
/// local shard of a tensor with the sequence in dim `dim`.
ShardingAttr shardingAttr(OpBuilder &b, const SeqRewriteContext &ctx,
                          int64_t dim) {
  return ShardingAttr::get(
      b.getContext(), ctx.getGrid(), dim, ctx.getSeqLen(),
      cast<LoadBalancerAttr>(ctx.getBalancer()).getValue(), ctx.isPadded());
}

/// Checks the sequence length, world size and balancer of `func`; returns
/// the layout of its local sequences.
FailureOr<SeqRewriteContext::Layout>
ContextParallelPass::functionLayout(func::FuncOp func, shard::GridOp grid) {
  FailureOr<int64_t> seqLen = attentionSeqLen(func);
  if (failed(seqLen))
    return failure();
  int64_t world = grid.getShape()[0]; // checked by verifyRingGrid
  // Each rank must hold at least one real token (pad=true would accept any
  // number of ranks; each one costs a ring step).
  if (world > *seqLen)
    return func.emitOpError("sequence length ")
           << *seqLen << " over " << world
           << " ranks would leave ranks without a token; expected at most "
           << *seqLen << " ranks";
  LoadBalancer balancer = loadBalance;
  if (balancer == LoadBalancer::ptrr)
    return func.emitOpError("load-balance=ptrr needs a block mask at run "
                            "time; the pass supports none, head_tail, "
                            "striped and per_document_head_tail");
  bool padded = pad;
  std::optional<int64_t> localLen;
  if (balancer == LoadBalancer::per_document_head_tail) {
    // The layout comes from the document ids at run time; its local length
    // does not depend on them (PerDocument.h), padding where S % W != 0.
    localLen = perDocumentLocalLen(*seqLen, world);
    padded = *localLen * world != *seqLen;
  } else {
    localLen = localSeqLen(*seqLen, world, balancer, std::nullopt, pad);
  }
  if (!localLen)
    return func.emitOpError("sequence length ")
           << *seqLen << " cannot be split by "
           << stringifyLoadBalancer(balancer) << " balancing over " << world
           << " ranks: expected a multiple of "
           << balancerGranule(balancer, std::nullopt) * world
           << "; pass pad=true to pad with masked positions";
  MLIRContext *ctx = func.getContext();
  return SeqRewriteContext::Layout{
      FlatSymbolRefAttr::get(grid.getSymNameAttr()),
      LoadBalancerAttr::get(ctx, balancer),
      RotateMethodAttr::get(ctx, rotate),
      *seqLen,
      *localLen,
      world,
      padded};
}

/// Seeds `a` with the attention queries of `func` and runs it.
LogicalResult seedAndRun(func::FuncOp func, SeqDimAnalysis &a) {
  WalkResult seeded = func.walk([&](Operation *op) {
    if (!isAttention(op))
      return WalkResult::advance();
    Value q = op->getOperand(0);
    if (auto bw = dyn_cast<SDPABackwardOp>(op))
      q = bw.getQuery();
    if (failed(a.add(q, rankedTensor(q).getRank() - 2, op)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(seeded.wasInterrupted() || failed(a.run()));
}

/// The analysis of `func`. First everything along the sequence is sharded;
/// if that fails, once more with the values that depend on no argument
/// (transformers' packed-sequence document ids, computed from an iota with
/// a shift, a scan and gathers) computed whole on every rank and sharded
/// where they meet sharded data. The first attempt's diagnostics are
/// reported if both fail.
std::unique_ptr<SeqDimAnalysis>
analyseFunction(func::FuncOp func, int64_t seqLen,
                const llvm::DenseSet<Value> &argumentFree) {
  auto sharded = std::make_unique<SeqDimAnalysis>(seqLen);
  SmallVector<Diagnostic> firstErrors;
  LogicalResult firstTry = success();
  {
    ScopedDiagnosticHandler collect(func.getContext(), [&](Diagnostic &diag) {
      firstErrors.push_back(std::move(diag));
      return success();
    });
    firstTry = seedAndRun(func, *sharded);
  }
  if (succeeded(firstTry))
    return sharded;
  LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] sharding everything "
                             "failed; retrying with argument-free values "
                             "computed whole\n");
  sharded = std::make_unique<SeqDimAnalysis>(seqLen, &argumentFree);
  LogicalResult secondTry = success();
  {
    ScopedDiagnosticHandler drop(func.getContext(),
                                 [](Diagnostic &) { return success(); });
    secondTry = seedAndRun(func, *sharded);
  }
  if (succeeded(secondTry))
    return sharded;
  DiagnosticEngine &engine = func.getContext()->getDiagEngine();
  for (Diagnostic &diag : firstErrors)
    engine.emit(std::move(diag));
  return nullptr;
}

/// seq-args, when given, must name exactly the arguments found.
LogicalResult
ContextParallelPass::checkSeqArgs(func::FuncOp func,
                                  const SeqDimAnalysis &analysis) {
  if (seqArgs.empty())
    return success();
  for (BlockArgument arg : func.getArguments()) {
    bool found = analysis.dims.contains(arg);
    bool listed = llvm::is_contained(seqArgs, arg.getArgNumber());
    if (found && !listed)
      return func.emitOpError("argument ")
             << arg.getArgNumber()
             << " carries the sequence into attention but is not listed in "
                "seq-args";
    if (listed && !found)
      return func.emitOpError("argument ")
             << arg.getArgNumber()
             << " is listed in seq-args but no attention op depends on its "
                "sequence dim";
  }
  for (unsigned i : seqArgs)
    if (i >= func.getNumArguments())
      return func.emitOpError("seq-args names argument ")
             << i << " but the function has " << func.getNumArguments();
  return success();
}

/// Tensors crossing the function boundary and constants need the sequence
/// as a plain dim.
LogicalResult checkBoundaries(func::FuncOp func, func::ReturnOp ret,
                              const SeqDimAnalysis &analysis) {
  for (auto &[v, d] : analysis.dims) {
    if (analysis.isPlain(v))
      continue;
    Operation *def = v.getDefiningOp();
    bool boundary = isa<BlockArgument>(v) ||
                    llvm::is_contained(ret.getOperands(), v) ||
                    (def && def->hasTrait<OpTrait::ConstantLike>());
    if (boundary)
      return (def ? def : func.getOperation())
                 ->emitOpError("a function argument, result or constant "
                               "holds the sequence merged with other dims "
                               "(dim ")
             << d << "); cannot shard it";
  }
  return success();
}

/// The rewrite of one function to its local form: the answers the ops'
/// `rewriteToLocal` get, and the steps around it.
class FunctionRewriter : public SeqRewriteContext {
public:
  FunctionRewriter(func::FuncOp func, const Layout &layout,
                   const SeqDimAnalysis &analysis)
      : SeqRewriteContext(layout), func(func), analysis(analysis),
        rewriter(func.getContext()) {
    for (auto &[v, d] : analysis.dims)
      if (analysis.isPlain(v))
        plain.insert(v);
    // The ops to ask, in program order (collected before anything changes:
    // erased ops leave this list, new ones never enter it).
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (analysis.related.contains(op))
        ops.insert(op);
    });
  }

  Value getRank() override {
    if (!rank) {
      Block &entry = func.getBody().front();
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      rank = shard::ProcessLinearIndexOp::create(b, func.getLoc(), getGrid())
                 .getResult();
    }
    return rank;
  }
  std::optional<int64_t> getSeqDim(Value v) const override {
    auto it = analysis.dims.find(v);
    if (it == analysis.dims.end())
      return std::nullopt;
    return it->second;
  }
  bool isPlain(Value v) const override { return plain.contains(v); }
  std::optional<unsigned> getSeqLoop(Operation *op) const override {
    auto it = analysis.seqLoops.find(op);
    if (it == analysis.seqLoops.end())
      return std::nullopt;
    return it->second;
  }
  std::optional<unsigned> getSeqReduction(Operation *op) const override {
    auto it = analysis.seqReductions.find(op);
    if (it == analysis.seqReductions.end())
      return std::nullopt;
    return it->second;
  }
  bool isSeqScan(Operation *op) const override {
    return analysis.seqScans.contains(op);
  }
  int64_t getUlyssesSize(Operation *op) const override {
    return hybridSizes.lookup(op);
  }
  /// Attention ops of the hybrid strategy, with their group size.
  DenseMap<Operation *, int64_t> hybridSizes;

  /// `v`'s type with the sequence dim `d` local (outer * L * inner).
  RankedTensorType localType(Value v, int64_t d) const {
    auto t = rankedTensor(v);
    SmallVector<int64_t> shape(t.getShape());
    shape[d] = shape[d] / getSeqLen() * getLocalLen();
    return RankedTensorType::get(shape, t.getElementType(), t.getEncoding());
  }
  /// A cp.shard (dim `d`) of the whole `v`, right after it.
  Value createShard(Value v, int64_t d) {
    rewriter.setInsertionPointAfterValue(v);
    return ShardOp::create(rewriter, v.getLoc(), localType(v, d), v,
                           getDocuments(),
                           getGrid(), rewriter.getDenseI16ArrayAttr({}),
                           rewriter.getI64IntegerAttr(d),
                           cast<LoadBalancerAttr>(getBalancer()),
                           IntegerAttr(),
                           isPadded() ? rewriter.getUnitAttr() : UnitAttr())
        .getResult();
  }

  void localizeValues();
  void rewriteUses();
  LogicalResult rewriteOps(const DenseSet<Operation *> &ulyssesOps);

private:
  func::FuncOp func;
  const SeqDimAnalysis &analysis;
  IRRewriter rewriter;
  DenseSet<Value> plain;
  llvm::SetVector<Operation *> ops;
  Value rank;
};

/// Arguments and op results along the sequence get local types; constants
/// along it (iota, causal mask, RoPE table) are sharded in the function.
void FunctionRewriter::localizeValues() {
  for (BlockArgument arg : func.getArguments())
    if (std::optional<int64_t> d = getSeqDim(arg)) {
      arg.setType(localType(arg, *d));
      func.setArgAttr(arg.getArgNumber(), CPDialect::getShardingAttrName(),
                      shardingAttr(rewriter, *this, *d));
    }
  for (auto &[v, d] : analysis.dims) {
    Operation *def = v.getDefiningOp();
    if (!def)
      continue;
    // Data-free constants (splats) are handled per use; other constants
    // along the sequence: every rank keeps its shard.
    if (def->hasTrait<OpTrait::ConstantLike>()) {
      Value shard = createShard(v, d);
      rewriter.replaceAllUsesExcept(v, shard, shard.getDefiningOp());
      LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] constant "
                              << v.getType() << " -> cp.shard dim " << d
                              << "\n");
      continue;
    }
    Value(v).setType(localType(v, d));
  }
}

/// Per-use fix-ups: local copies of shared data-free values, shards of
/// values computed whole, and whole reads (data-dependent places, key-only
/// masks) in original order (one gather per tensor).
void FunctionRewriter::rewriteUses() {
  for (auto &[use, d] : analysis.perUse) {
    rewriter.setInsertionPoint(use->getOwner());
    use->set(cloneDataFree(rewriter, use->get(), localType(use->get(), d)));
  }
  // Erase the now-unused global tensor.empty / constants.
  llvm::SetVector<Operation *> dead;
  for (auto &[v, d] : analysis.dims)
    if (Operation *def = v.getDefiningOp())
      if (def->getNumOperands() == 0 && def->use_empty() &&
          isMemoryEffectFree(def))
        dead.insert(def);
  for (Operation *def : dead) {
    ops.remove(def);
    rewriter.eraseOp(def);
  }
  DenseMap<std::pair<Value, int64_t>, Value> shardOf;
  for (auto &[use, d] : analysis.shardAtUse) {
    Value &local = shardOf[{use->get(), d}];
    if (!local)
      local = createShard(use->get(), d);
    use->set(local);
  }
  DenseMap<Value, Value> wholeOf;
  for (OpOperand *use : analysis.wholeReads) {
    Value local = use->get();
    Value &whole = wholeOf[local];
    if (!whole && local.getDefiningOp<ShardOp>()) {
      whole = local.getDefiningOp<ShardOp>().getInput(); // a constant's shard
    } else if (!whole) {
      auto t = rankedTensor(local);
      int64_t d = analysis.dims.lookup(local);
      SmallVector<int64_t> shape(t.getShape());
      shape[d] = getSeqLen();
      rewriter.setInsertionPointAfterValue(local);
      whole = UnshardOp::create(rewriter, local.getLoc(), t.clone(shape),
                                local, getDocuments(), getGrid(),
                                rewriter.getDenseI16ArrayAttr({}),
                                rewriter.getI64IntegerAttr(d),
                                cast<LoadBalancerAttr>(getBalancer()),
                                IntegerAttr(),
                                isPadded() ? rewriter.getUnitAttr()
                                           : UnitAttr())
                  .getResult();
    }
    use->set(whole);
  }
}

/// Asks every related op, in program order, for its local form; attention
/// ops planned for Ulysses get the Ulysses rewrite instead.
LogicalResult
FunctionRewriter::rewriteOps(const DenseSet<Operation *> &ulyssesOps) {
  // Sharded: along the analysis, or a local shard of a value computed whole.
  auto isSharded = [&](Value v) {
    return analysis.dims.contains(v) || v.getDefiningOp<ShardOp>();
  };
  LoadBalancer balancer = cast<LoadBalancerAttr>(getBalancer()).getValue();
  auto rankOf = [&] { return getRank(); };
  UlyssesOptions ulysses{getGrid(),   getWorldSize(), balancer, getSeqLen(),
                         isPadded(),  rankOf,         isSharded};
  for (Operation *op : ops) {
    if (ulyssesOps.contains(op)) {
      LLVM_DEBUG(llvm::dbgs() << "[cp-context-parallel] " << op->getName()
                              << " -> Ulysses (strategy plan)\n");
      if (failed(rewriteUlysses(op, ulysses)))
        return failure();
      continue;
    }
    if (failed(cast<SeqShardingOpInterface>(op).rewriteToLocal(rewriter,
                                                               *this)))
      return failure();
  }
  return success();
}

LogicalResult ContextParallelPass::runOnFunction(func::FuncOp func,
                                                 shard::GridOp grid) {
  FailureOr<SeqRewriteContext::Layout> layout = functionLayout(func, grid);
  if (failed(layout))
    return failure();
  // Which attention ops use Ulysses (strategy=auto: StrategyChoice.cpp).
  auto plan = chooseStrategies(func, layout->worldSize, strategy, topology,
                               rotate, loadBalance, ulyssesSize);
  if (failed(plan))
    return failure();
  // Ulysses distributes heads: check every attention before rewriting.
  DenseSet<Operation *> ulyssesOps;
  DenseMap<Operation *, int64_t> hybridSizes;
  for (auto &[op, s] : *plan) {
    if (s.strategy == CPStrategy::ulysses)
      ulyssesOps.insert(op);
    if (s.strategy == CPStrategy::hybrid)
      hybridSizes[op] = s.ulyssesSize;
  }
  WalkResult bad = func.walk([&](Operation *op) {
    if (ulyssesOps.contains(op) && failed(checkUlysses(op, layout->worldSize)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (bad.wasInterrupted())
    return failure();

  // 1. Analysis.
  llvm::DenseSet<Value> argumentFree = argumentFreeValues(func);
  std::unique_ptr<SeqDimAnalysis> analysis =
      analyseFunction(func, layout->seqLen, argumentFree);
  if (!analysis)
    return failure();
  if (loadBalance == LoadBalancer::per_document_head_tail) {
    FailureOr<BlockArgument> docs = preparePerDocument(func, *analysis);
    if (failed(docs))
      return failure();
    layout->documents = *docs;
  }
  // Pad with garbage is only sound where padded positions never mix into
  // real ones: attention masks them, reductions would not.
  if (layout->pad && layout->localLen * layout->worldSize != layout->seqLen &&
      !analysis->seqReductions.empty())
    return analysis->seqReductions.front().first->emitOpError(
        "reduces over the sequence, which padding would change; choose a "
        "sequence length that splits evenly");
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  if (failed(checkSeqArgs(func, *analysis)) ||
      failed(checkBoundaries(func, ret, *analysis)))
    return failure();

  // 2. Rewrite. Results first: the values they name are replaced below.
  SmallVector<std::optional<int64_t>> resultDims;
  for (Value v : ret.getOperands()) {
    auto it = analysis->dims.find(v);
    resultDims.push_back(it == analysis->dims.end()
                             ? std::nullopt
                             : std::optional<int64_t>(it->second));
  }
  FunctionRewriter rewriter(func, *layout, *analysis);
  rewriter.hybridSizes = std::move(hybridSizes);
  rewriter.localizeValues();
  rewriter.rewriteUses();
  if (failed(rewriter.rewriteOps(ulyssesOps)))
    return failure();

  // Results: record how each returned tensor is sharded.
  MLIRContext *ctx = func.getContext();
  OpBuilder b(ctx);
  for (auto [i, d] : llvm::enumerate(resultDims))
    if (d)
      func.setResultAttr(i, CPDialect::getShardingAttrName(),
                         shardingAttr(b, rewriter, *d));
  func.setType(FunctionType::get(ctx, func.getBody().front().getArgumentTypes(),
                                 ret.getOperandTypes()));
  SmallVector<NamedAttribute> cpAttrs = {
      b.getNamedAttr("grid", layout->grid),
      b.getNamedAttr("world_size", b.getI64IntegerAttr(layout->worldSize)),
      b.getNamedAttr("rotate", layout->rotate),
      b.getNamedAttr("balancer", layout->balancer)};
  if (auto summary = strategySummary(*plan))
    cpAttrs.push_back(b.getNamedAttr("strategy", b.getStringAttr(*summary)));
  func->setAttr("cp.context_parallel", b.getDictionaryAttr(cpAttrs));
  return success();
}

} // namespace
