//===- LowerToLLVM.cpp - the cp-lower-to-llvm pipeline --------------------===//

#include "cp/Conversion/Passes.h"
#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/TMTensor/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// Marks public functions with llvm.emit_c_interface so hosts can call
/// `_mlir_ciface_<name>` with memref descriptors, and drops the cp.sharding
/// argument/result attributes (runners read them before lowering).
struct EmitCInterfacePass
    : PassWrapper<EmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(EmitCInterfacePass)
  StringRef getArgument() const override { return "cp-emit-c-interface"; }
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp f) {
      if (f.isPublic() && !f.isExternal())
        f->setAttr("llvm.emit_c_interface", UnitAttr::get(f.getContext()));
      // Sharding attributes were for runners; LLVM has no use for them.
      for (unsigned i = 0; i < f.getNumArguments(); ++i)
        f.removeArgAttr(i, cp::CPDialect::getShardingAttrName());
      for (unsigned i = 0; i < f.getNumResults(); ++i)
        f.removeResultAttr(i, cp::CPDialect::getShardingAttrName());
    });
  }
};

/// Decomposes linalg.softmax (which has no lowering of its own) through its
/// AggregatedOpInterface into max / sub+exp / sum / div generics.
struct DecomposeSoftmaxPass
    : PassWrapper<DecomposeSoftmaxPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DecomposeSoftmaxPass)
  StringRef getArgument() const override { return "cp-decompose-softmax"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect, arith::ArithDialect,
                    math::MathDialect, tensor::TensorDialect>();
  }
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
/// Gives every result of a function its own tensor: a value returned more
/// than once (e.g. two identical projections that CSE merged) is copied for
/// its later results (bufferization.alloc_tensor copy), so each result gets
/// its own buffer and buffer-results-to-out-params can hoist each buffer
/// into its own out parameter (upstream crashes on a buffer returned twice).
struct DistinctResultsPass
    : PassWrapper<DistinctResultsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DistinctResultsPass)
  StringRef getArgument() const override { return "cp-distinct-results"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<bufferization::BufferizationDialect>();
  }
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 4> seen;
      OpBuilder b(ret);
      for (OpOperand &use : ret->getOpOperands()) {
        Value v = use.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second)
          continue;
        // With `copy`, the sizes (dynamic or not) come from the copied value.
        use.set(bufferization::AllocTensorOp::create(b, ret.getLoc(), type,
                                                     ValueRange(), /*copy=*/v));
      }
    });
  }
};

} // namespace

void mlir::cp::buildCPLowerToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createCPLowerToRuntime());
  // torch-mlir's tm_tensor.scan (cumsum) becomes loops over tensors.
  pm.addPass(tm_tensor::createCPLowerTMTensor());
  // TOSA (as torch-mlir emits it) goes through linalg like the rest.
  tosa::addTosaToLinalgPasses(pm, TosaToLinalgOptions(),
                              TosaToLinalgNamedOptions(),
                              /*validationOptions=*/std::nullopt);
  pm.addPass(createTosaToTensorPass());
  pm.addPass(createTosaToArithPass());
  pm.addPass(std::make_unique<DecomposeSoftmaxPass>());
  pm.addPass(createCanonicalizerPass());
  // One loop nest per chain of elementwise ops; transposed GEMM operands
  // become indexing maps (BLAS transpose flags) instead of copies.
  pm.addPass(createCPFuseElementwise());
  pm.addPass(createCanonicalizerPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.unknownTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // The expanded ring is an scf.for carrying the received key/value block
  // and the running partial result: each iteration yields the runtime's
  // fresh buffers (the deallocation pipeline below frees the previous ones).
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(std::make_unique<DistinctResultsPass>());
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  // Free every buffer the function allocates (ownership-based deallocation;
  // the runtime never retains compiled code's buffers past a call).
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCanonicalizerPass());
  // fp32 matrix products to the runtime's BLAS entry; the rest to loops.
  pm.addPass(createCPLinalgToBlas());

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(std::make_unique<EmitCInterfacePass>());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::cp::registerCPLowerToLLVMPipeline() {
  registerCPGPULowerToRuntimePass();
  PassPipelineRegistration<CPLowerToLLVMOptions>(
      "cp-lower-to-llvm",
      "Lower a (per-rank or single-device) module to the LLVM dialect with "
      "calls into the cprt runtime (target=cuda: for the GPU)",
      [](OpPassManager &pm, const CPLowerToLLVMOptions &options) {
        if (options.target == CPTarget::Cuda)
          return buildCPLowerToGPUPipeline(pm, options);
        buildCPLowerToLLVMPipeline(pm);
      });
}
