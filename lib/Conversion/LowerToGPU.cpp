//===- LowerToGPU.cpp - the cp-lower-to-llvm{target=cuda} pipeline --------===//
//
// Lowers a (per-rank or single-device) module so that it runs on one GPU per
// rank with every buffer in device memory:
//
//   cp ops           -> calls of the runtime's `cprt_gpu_*` entry points
//                       (same C ABI as cprt_compiler.h, device pointers, the
//                       rank's stream and communicator): cp-lower-to-runtime's
//                       patterns for the CUDA RuntimeTarget; an op without a
//                       GPU entry point is an error naming it
//   linalg.matmul /
//   batch_matmul     -> `cprt_gpu_gemm_<in>_<out>` (cuBLAS), transposed
//                       operands folded into the GEMM
//   other linalg     -> parallel loops -> one 1-D gpu.launch per loop nest
//                       -> gpu-kernel-outlining -> NVVM -> fatbin (ptxas)
//   memref.alloc     -> gpu.alloc (freed before the return);
//   memref.copy      -> a copy kernel; constants (memref.get_global) are
//                       uploaded at function entry
//   host side        -> gpu-to-llvm: the `mgpu*` calls that
//                       runtime/src/cuda/GpuCompiledAbi.cpp provides
//
// Anything that would still touch a buffer on the host after this (a load,
// a store, a linalg op that was not mapped) is reported, never run on the
// CPU.
//
//===----------------------------------------------------------------------===//

#include "cp/Conversion/CPToRuntime.h"
#include "cp/Conversion/Passes.h"
#include "RuntimeAbi.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::cp;

namespace {

/// What the runtime provides for compiled code on the GPU
/// (runtime/src/cuda/GpuCompiledAbi.cpp): `cprt_gpu_*` twins of the
/// cprt_compiler.h entries with the same signatures over device pointers,
/// for the attention, forward and backward, single-device and ring (causal,
/// sliding windows, explicit additive masks, document ids: every flag the
/// sdpa and ring entries take), the per-document ring
/// (per_document_head_tail: the whole sequence's ids; the launcher shards
/// the module's inputs by them), the hybrid (ring ops with `ulysses_size`;
/// no masks or document ids), and the data movement around it: shard,
/// unshard, Ulysses' all-to-alls (cp.seq_to_heads / cp.heads_to_seq), and
/// the collectives shard.all_gather / all_reduce. The rank stays a host
/// call. Every other cp op is refused at the op.
RuntimeTarget cudaRuntimeTarget() {
  RuntimeTarget t;
  t.prefix = "cprt_gpu_";
  t.provided = {RuntimeEntry::SdpaFwd,    RuntimeEntry::SdpaBwd,
                RuntimeEntry::RingFwd,    RuntimeEntry::RingBwd,
                RuntimeEntry::RingDocsFwd, RuntimeEntry::RingDocsBwd,
                RuntimeEntry::Shard,      RuntimeEntry::Unshard,
                RuntimeEntry::SeqToHeads, RuntimeEntry::HeadsToSeq,
                RuntimeEntry::HybridFwd,  RuntimeEntry::HybridBwd,
                RuntimeEntry::AllGather,  RuntimeEntry::AllReduce};
  t.hostOnly = {RuntimeEntry::Rank};
  t.missingEntryMessage =
      "has no lowering on the GPU path (target=cuda): the runtime has no "
      "CUDA entry point for it; use target=cpu or the unexpanded ring";
  t.missingCallMessage = "has no GPU twin (target=cuda)";
  return t;
}

/// cp ops to calls of the GPU runtime: the patterns of
/// cp-lower-to-runtime (populateCPToRuntimePatterns) for the CUDA target.
struct GpuLowerToRuntimePass
    : PassWrapper<GpuLowerToRuntimePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuLowerToRuntimePass)
  StringRef getArgument() const override { return "cp-gpu-lower-to-runtime"; }
  StringRef getDescription() const override {
    return "Lower cp and shard ops to calls of the CUDA runtime's cprt_gpu_* "
           "entry points (the runtime lowering of cp-lower-to-llvm "
           "target=cuda)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<func::FuncDialect, arith::ArithDialect,
                    bufferization::BufferizationDialect,
                    memref::MemRefDialect, tensor::TensorDialect,
                    linalg::LinalgDialect, math::MathDialect>();
  }
  void runOnOperation() override {
    RuntimeTarget target = cudaRuntimeTarget();
    RewritePatternSet patterns(&getContext());
    populateCPToRuntimePatterns(patterns, target);
    FrozenRewritePatternSet frozen(std::move(patterns));
    if (failed(applyCPToRuntimeLowering(getOperation(), frozen, target)))
      signalPassFailure();
  }
};

/// linalg.softmax has no loop lowering: decompose it (as the CPU pipeline
/// does) into max / sub+exp / sum / div generics.
struct GpuDecomposeSoftmaxPass
    : PassWrapper<GpuDecomposeSoftmaxPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuDecomposeSoftmaxPass)
  StringRef getArgument() const override { return "cp-gpu-decompose-softmax"; }
  void runOnOperation() override {
    SmallVector<linalg::SoftmaxOp> ops;
    getOperation().walk([&](linalg::SoftmaxOp op) { ops.push_back(op); });
    for (linalg::SoftmaxOp op : ops) {
      OpBuilder b(op);
      FailureOr<SmallVector<Value>> parts = op.decomposeOperation(b);
      if (failed(parts)) {
        op.emitOpError("could not be decomposed");
        return signalPassFailure();
      }
      op->replaceAllUsesWith(*parts);
      op.erase();
    }
  }
};

//===----------------------------------------------------------------------===//
// GEMMs to cuBLAS
//===----------------------------------------------------------------------===//

std::optional<std::string> gemmTypeName(Type t) {
  if (t.isF32())
    return std::string("f32");
  if (t.isBF16())
    return std::string("bf16");
  if (t.isF16())
    return std::string("f16");
  return std::nullopt;
}

/// Transpose flags of a (batch_)matmul from its indexing maps: bit 0 when
/// A is [.., K, M], bit 1 when B is [.., N, K]; failure for any other map.
FailureOr<int32_t> gemmTransposeFlags(linalg::LinalgOp op, bool batched) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *ctx = op.getContext();
  unsigned n = batched ? 4 : 3, o = batched ? 1 : 0;
  AffineExpr m = getAffineDimExpr(o, ctx), nn = getAffineDimExpr(o + 1, ctx),
             k = getAffineDimExpr(o + 2, ctx);
  auto mk = [&](ArrayRef<AffineExpr> r) {
    SmallVector<AffineExpr> e;
    if (batched)
      e.push_back(getAffineDimExpr(0, ctx));
    e.append(r.begin(), r.end());
    return AffineMap::get(n, 0, e, ctx);
  };
  if (maps.size() != 3 || maps[2] != mk({m, nn}))
    return failure();
  int32_t flags = 0;
  if (maps[0] == mk({k, m}))
    flags |= 1;
  else if (maps[0] != mk({m, k}))
    return failure();
  if (maps[1] == mk({nn, k}))
    flags |= 2;
  else if (maps[1] != mk({k, nn}))
    return failure();
  return flags;
}

/// linalg.matmul / batch_matmul on float memrefs -> a runtime call
/// C += op(A)·op(B) (cuBLAS, beta = 1: linalg accumulates into its init).
struct GpuGemmToRuntimePass
    : PassWrapper<GpuGemmToRuntimePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuGemmToRuntimePass)
  StringRef getArgument() const override { return "cp-gpu-gemm-to-runtime"; }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> gemms;
    module.walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureBufferSemantics())
        gemms.push_back(op);
    });
    for (linalg::LinalgOp op : gemms)
      rewrite(module, op);
  }

  void rewrite(ModuleOp module, linalg::LinalgOp op) {
    bool batched = isa<linalg::BatchMatmulOp>(op);
    Value a = op->getOperand(0), b = op->getOperand(1), c = op->getOperand(2);
    Type ta = getElementTypeOrSelf(a), tb = getElementTypeOrSelf(b),
         tc = getElementTypeOrSelf(c);
    std::optional<std::string> in = gemmTypeName(ta), out = gemmTypeName(tc);
    FailureOr<int32_t> flags = gemmTransposeFlags(op, batched);
    // Anything else (integer GEMMs, mixed A/B types, other maps) stays a
    // generic kernel.
    if (!in || !out || ta != tb || failed(flags) || (tc != ta && !tc.isF32()))
      return;
    std::string name = "cprt_gpu_gemm_" + *in + "_" + *out;
    OpBuilder b0(op);
    Location loc = op.getLoc();
    SmallVector<Value> args;
    SmallVector<Type> argTypes;
    for (Value v : {a, b, c}) {
      auto ur = UnrankedMemRefType::get(getElementTypeOrSelf(v), 0);
      args.push_back(memref::CastOp::create(b0, loc, ur, v));
      argTypes.push_back(ur);
    }
    args.push_back(arith::ConstantIntOp::create(b0, loc, *flags, 32));
    argTypes.push_back(b0.getI32Type());
    if (!module.lookupSymbol<func::FuncOp>(name)) {
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      auto f =
          func::FuncOp::create(mb, loc, name, mb.getFunctionType(argTypes, {}));
      f.setPrivate();
    }
    func::CallOp::create(b0, loc, name, TypeRange{}, args);
    op->erase();
  }
};

//===----------------------------------------------------------------------===//
// Device memory
//===----------------------------------------------------------------------===//

/// Buffers in device memory: allocations become gpu.alloc (freed before each
/// return; results are out-params, so nothing escapes), copies become copy
/// kernels, constants are uploaded at entry. Linalg ops without loops (0-d)
/// are wrapped in a one-iteration scf.parallel so they become kernels too.
struct GpuDeviceMemoryPass
    : PassWrapper<GpuDeviceMemoryPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuDeviceMemoryPass)
  StringRef getArgument() const override { return "cp-gpu-device-memory"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (!f.isExternal() && failed(runOnFunc(f)))
        return signalPassFailure();
  }

  /// `gpu.wait async` -> token; op(token); `gpu.wait [token]`.
  static void asyncOp(OpBuilder &b, Location loc,
                      function_ref<Value(Value)> body) {
    Type tok = gpu::AsyncTokenType::get(b.getContext());
    Value t0 = gpu::WaitOp::create(b, loc, tok, ValueRange{}).getAsyncToken();
    Value t1 = body(t0);
    gpu::WaitOp::create(b, loc, Type(), ValueRange{t1});
  }

  static Value deviceAlloc(OpBuilder &b, Location loc, MemRefType t,
                           ValueRange dynSizes) {
    // gpu-to-llvm lowers the async form with one dependency (the stream).
    Type tok = gpu::AsyncTokenType::get(b.getContext());
    Value t0 = gpu::WaitOp::create(b, loc, tok, ValueRange{}).getAsyncToken();
    auto alloc = gpu::AllocOp::create(b, loc, t, tok, ValueRange{t0}, dynSizes,
                                      ValueRange{}, /*hostShared=*/false);
    gpu::WaitOp::create(b, loc, Type(), ValueRange{alloc.getAsyncToken()});
    return alloc.getMemref();
  }

  LogicalResult runOnFunc(func::FuncOp f) {
    SmallVector<Operation *> ops;
    f.walk([&](Operation *op) {
      if (isa<memref::CopyOp, memref::AllocOp, memref::AllocaOp,
              memref::DeallocOp, memref::GetGlobalOp, linalg::LinalgOp>(op))
        ops.push_back(op);
    });
    SmallVector<Value> owned;
    Block &entry = f.getBody().front();
    OpBuilder b(f.getContext());
    for (Operation *op : ops) {
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        b.setInsertionPoint(copy);
        auto l = linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                                        copy.getTarget());
        copy.erase();
        if (cast<linalg::LinalgOp>(l.getOperation()).getNumLoops() == 0)
          wrapInParallel(b, l);
      } else if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (alloc->getBlock() != &entry)
          return alloc.emitOpError("inside a region has no GPU lowering "
                                   "(target=cuda frees device buffers at "
                                   "function exit)");
        b.setInsertionPoint(alloc);
        Value m = deviceAlloc(b, alloc.getLoc(), alloc.getType(),
                              alloc.getDynamicSizes());
        alloc.replaceAllUsesWith(m);
        alloc.erase();
        owned.push_back(m);
      } else if (isa<memref::AllocaOp>(op)) {
        // cp-lower-to-runtime passes placeholders for absent operands (no
        // mask, no LSE): the runtime never reads them, they may stay.
        if (!onlyPassedToRuntime(op->getResult(0)))
          return op->emitOpError("(a host stack buffer) has no GPU lowering");
      } else if (isa<memref::DeallocOp>(op)) {
        op->erase(); // freed at exit
      } else if (auto g = dyn_cast<memref::GetGlobalOp>(op)) {
        owned.push_back(upload(b, entry, g));
      } else if (cast<linalg::LinalgOp>(op).getNumLoops() == 0) {
        wrapInParallel(b, op);
      }
    }
    f.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      for (Value m : owned)
        asyncOp(b, ret.getLoc(), [&](Value t) {
          return gpu::DeallocOp::create(b, ret.getLoc(), t.getType(),
                                        ValueRange{t}, m)
              .getAsyncToken();
        });
    });
    return success();
  }

  static bool onlyPassedToRuntime(Value v) {
    return llvm::all_of(v.getUsers(), [](Operation *user) {
      auto cast = dyn_cast<memref::CastOp>(user);
      return cast && llvm::all_of(cast->getUsers(), [](Operation *u) {
               auto call = dyn_cast<func::CallOp>(u);
               return call && call.getCallee().starts_with("cprt_gpu_");
             });
    });
  }

  /// A constant's device copy, made at function entry (per call: the
  /// runtime has no constant cache yet).
  static Value upload(OpBuilder &b, Block &entry, memref::GetGlobalOp g) {
    b.setInsertionPointToStart(&entry);
    Location loc = g.getLoc();
    Value host = memref::GetGlobalOp::create(b, loc, g.getType(), g.getName());
    Value dev = deviceAlloc(b, loc, g.getType(), {});
    asyncOp(b, loc, [&](Value t) {
      return gpu::MemcpyOp::create(b, loc, t.getType(), ValueRange{t}, dev,
                                   host)
          .getAsyncToken();
    });
    g.replaceAllUsesWith(dev);
    g.erase();
    return dev;
  }

  static void wrapInParallel(OpBuilder &b, Operation *op) {
    b.setInsertionPoint(op);
    Location loc = op->getLoc();
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    auto par = scf::ParallelOp::create(b, loc, ValueRange{c0}, ValueRange{c1},
                                       ValueRange{c1});
    op->moveBefore(par.getBody()->getTerminator());
  }
};

//===----------------------------------------------------------------------===//
// Parallel loops to kernels
//===----------------------------------------------------------------------===//

/// Each outermost scf.parallel of a host function becomes one gpu.launch
/// over a 1-D grid: the iteration space is linearised, one thread per
/// point, blocks of `blockSize` threads, a bounds guard. Reductions inside
/// (scf.for from linalg's reduction dims) run sequentially per thread;
/// nested scf.parallel loops are left for scf-parallel-for-to-nested-fors.
struct GpuMapLoopsPass : PassWrapper<GpuMapLoopsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuMapLoopsPass)
  GpuMapLoopsPass(int64_t blockSize = 256) : blockSize(blockSize) {}
  StringRef getArgument() const override { return "cp-gpu-map-loops"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, arith::ArithDialect>();
  }
  int64_t blockSize;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp p) {
      if (!p->getParentOfType<scf::ParallelOp>() &&
          !p->getParentOfType<gpu::LaunchOp>())
        loops.push_back(p);
    });
    for (scf::ParallelOp p : loops)
      if (failed(map(p)))
        return signalPassFailure();
  }

  LogicalResult map(scf::ParallelOp p) {
    if (p.getNumResults() != 0)
      return p.emitOpError("with reductions has no GPU mapping");
    OpBuilder b(p);
    Location loc = p.getLoc();
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    Value one = cst(1), total = one;
    SmallVector<Value> trips;
    for (auto [lb, ub, st] :
         llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
      Value span = arith::SubIOp::create(b, loc, ub, lb);
      Value trip = arith::CeilDivSIOp::create(b, loc, span, st);
      trips.push_back(trip);
      total = arith::MulIOp::create(b, loc, total, trip);
    }
    Value bs = cst(blockSize);
    Value grid = arith::MaxSIOp::create(
        b, loc, arith::CeilDivSIOp::create(b, loc, total, bs), one);
    auto launch = gpu::LaunchOp::create(b, loc, grid, one, one, bs, one, one);
    OpBuilder kb = OpBuilder::atBlockBegin(&launch.getBody().front());
    Value idx = arith::AddIOp::create(
        kb, loc, arith::MulIOp::create(kb, loc, launch.getBlockIds().x, bs),
        launch.getThreadIds().x);
    Value in =
        arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::slt, idx, total);
    auto guard = scf::IfOp::create(kb, loc, in, /*withElse=*/false);
    gpu::TerminatorOp::create(kb, loc);
    OpBuilder gb = guard.getThenBodyBuilder();
    IRMapping map;
    Value rem = idx;
    for (int64_t i = int64_t(trips.size()) - 1; i >= 0; --i) {
      Value pos = i == 0 ? rem : arith::RemSIOp::create(gb, loc, rem, trips[i]);
      if (i > 0)
        rem = arith::DivSIOp::create(gb, loc, rem, trips[i]);
      Value iv = arith::AddIOp::create(
          gb, loc, p.getLowerBound()[i],
          arith::MulIOp::create(gb, loc, pos, p.getStep()[i]));
      map.map(p.getInductionVars()[i], iv);
    }
    for (Operation &op : p.getBody()->without_terminator())
      gb.clone(op, map);
    p.erase();
    return success();
  }
};

/// convert-gpu-to-nvvm calls libdevice's `__nv_powif(float, int)` (and
/// `__nv_powi`) with whatever integer type `math.fpowi` has: torch-mlir's
/// `x ** 2` carries an i64 exponent, and the mismatched call computed NaN on
/// the GPU. Narrow the exponent to i32 first (larger |n| over- or underflows
/// any float anyway).
struct GpuLegalizeMathPass
    : PassWrapper<GpuLegalizeMathPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuLegalizeMathPass)
  StringRef getArgument() const override { return "cp-gpu-legalize-math"; }
  void runOnOperation() override {
    getOperation().walk([](math::FPowIOp op) {
      Type i32 = IntegerType::get(op.getContext(), 32);
      Value n = op.getRhs();
      if (getElementTypeOrSelf(n) == i32 || isa<ShapedType>(n.getType()))
        return;
      OpBuilder b(op);
      Value n32 = arith::TruncIOp::create(b, op.getLoc(), i32, n);
      op.getRhsMutable().assign(n32);
    });
  }
};

/// After mapping: an op of the host code that reads or writes a buffer, or
/// an unlowered tensor / linalg / vector op, would run on the CPU over
/// device memory. Report it instead.
struct GpuCheckHostPass
    : PassWrapper<GpuCheckHostPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuCheckHostPass)
  StringRef getArgument() const override { return "cp-gpu-check-host"; }
  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<gpu::GPUModuleOp>())
        return;
      StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
      bool hostAccess = isa<memref::LoadOp, memref::StoreOp>(op) ||
                        ns == "linalg" || ns == "tensor" || ns == "vector" ||
                        ns == "bufferization";
      if (hostAccess) {
        op->emitOpError("has no GPU lowering (target=cuda): it would run on "
                        "the host over device memory");
        ok = false;
      }
    });
    if (!ok)
      signalPassFailure();
  }
};

/// Public functions get llvm.emit_c_interface; cp.sharding attributes are
/// for runners and are dropped (as in the CPU pipeline).
struct GpuEmitCInterfacePass
    : PassWrapper<GpuEmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuEmitCInterfacePass)
  StringRef getArgument() const override { return "cp-gpu-emit-c-interface"; }
  /// gpu-module-to-binary and the final translation need the NVVM target
  /// and the LLVM IR translations of the GPU dialects: registered here so
  /// that the pipeline works in any tool (cp-opt registers no translations).
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, NVVM::NVVMDialect, LLVM::LLVMDialect>();
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
    registerGPUDialectTranslation(registry);
    registerNVVMDialectTranslation(registry);
    NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  }
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    getOperation().walk([&](func::FuncOp f) {
      if (f.isPublic() && !f.isExternal())
        f->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
      for (unsigned i = 0; i < f.getNumArguments(); ++i)
        f.removeArgAttr(i, cp::CPDialect::getShardingAttrName());
      for (unsigned i = 0; i < f.getNumResults(); ++i)
        f.removeResultAttr(i, cp::CPDialect::getShardingAttrName());
    });
  }
};

/// After the lowering, the host code must be LLVM dialect only (gpu-to-llvm
/// is a partial conversion: an op it skipped would otherwise reach the
/// translation, or be dropped).
struct GpuCheckLoweredPass
    : PassWrapper<GpuCheckLoweredPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuCheckLoweredPass)
  StringRef getArgument() const override { return "cp-gpu-check-lowered"; }
  void runOnOperation() override {
    bool ok = true;
    for (Operation &op : getOperation().getBody()->getOperations())
      op.walk([&](Operation *inner) {
        if (isa<gpu::BinaryOp>(inner) ||
            isa<LLVM::LLVMDialect>(inner->getDialect()) ||
            isa<gpu::LaunchFuncOp>(inner))
          return WalkResult::advance();
        inner->emitOpError("was not lowered by the GPU pipeline (target=cuda)");
        ok = false;
        return WalkResult::skip();
      });
    if (!ok)
      signalPassFailure();
  }
};

void addFrontend(OpPassManager &pm) {
  pm.addPass(std::make_unique<GpuLowerToRuntimePass>());
  tosa::addTosaToLinalgPasses(pm, TosaToLinalgOptions(),
                              TosaToLinalgNamedOptions(),
                              /*validationOptions=*/std::nullopt);
  pm.addPass(createTosaToTensorPass());
  pm.addPass(createTosaToArithPass());
  pm.addPass(std::make_unique<GpuDecomposeSoftmaxPass>());
  pm.addPass(createCanonicalizerPass());
}

void addBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.unknownTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
}

/// The toolkit that assembles the kernels (ptxas) and provides libdevice,
/// always named explicitly: with an empty path MLIR found ptxas through PATH
/// but not libdevice under lit's environment, and `__nv_*` calls stayed
/// unresolved. The option, else CUDA_ROOT / CUDA_HOME / CUDA_PATH, else the
/// toolkit of the ptxas on PATH, else /usr/local/cuda.
std::string cudaToolkit(StringRef option) {
  if (!option.empty())
    return option.str();
  for (const char *env : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *v = std::getenv(env))
      if (*v)
        return v;
  if (llvm::ErrorOr<std::string> ptxas =
          llvm::sys::findProgramByName("ptxas")) {
    SmallString<256> real;
    if (!llvm::sys::fs::real_path(*ptxas, real))
      return llvm::sys::path::parent_path(llvm::sys::path::parent_path(real))
          .str();
  }
  return "/usr/local/cuda";
}

} // namespace

void mlir::cp::registerCPGPULowerToRuntimePass() {
  PassRegistration<GpuLowerToRuntimePass>();
}

void mlir::cp::buildCPLowerToGPUPipeline(OpPassManager &pm,
                                         const CPLowerToLLVMOptions &opts) {
  addFrontend(pm);
  addBufferization(pm);
  pm.addPass(std::make_unique<GpuGemmToRuntimePass>());
  pm.addPass(std::make_unique<GpuDeviceMemoryPass>());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(std::make_unique<GpuMapLoopsPass>(opts.blockSize));
  pm.addPass(createParallelForToNestedForsPass());
  pm.addPass(std::make_unique<GpuCheckHostPass>());
  pm.addPass(std::make_unique<GpuLegalizeMathPass>());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createGpuKernelOutliningPass());

  GpuNVVMAttachTargetOptions target;
  target.chip = opts.chip;
  target.features = opts.features;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvm));
  pm.addPass(std::make_unique<GpuEmitCInterfacePass>());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = opts.gpuFormat;
  binary.toolkitPath = cudaToolkit(opts.cudaToolkit);
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(std::make_unique<GpuCheckLoweredPass>());
}
