//===- Passes.h - cp transformation passes ----------------------*- C++ -*-===//

#ifndef CP_DIALECT_CP_TRANSFORMS_PASSES_H
#define CP_DIALECT_CP_TRANSFORMS_PASSES_H

#include "cp/Dialect/CP/IR/CPDialect.h"
#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::cp {

/// How cp-context-parallel distributes attention (option `strategy`).
enum class CPStrategy {
  ring,    ///< cp.ring_attention: key/value blocks move (rotate=...)
  ulysses, ///< all-to-all to head shards of the whole sequence and back
  hybrid,  ///< Ulysses inside groups of U ranks x a ring of the groups
  automatic, ///< `auto`: the cost model picks the strategy per attention
};

#define GEN_PASS_DECL
#include "cp/Dialect/CP/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "cp/Dialect/CP/Transforms/Passes.h.inc"

/// Options of the `cp-pipeline` pass pipeline (same names as
/// cp-context-parallel's options).
struct CPPipelineOptions : public PassPipelineOptions<CPPipelineOptions> {
  PassOptions::Option<int64_t> gridSize{
      *this, "grid-size", llvm::cl::desc("Number of ranks of the ring"),
      llvm::cl::init(2)};
  PassOptions::Option<std::string> gridName{
      *this, "grid", llvm::cl::desc("Symbol name of the shard.grid"),
      llvm::cl::init("cp_grid")};
  PassOptions::Option<RotateMethod> rotate{
      *this, "rotate", llvm::cl::desc("How key/value blocks reach every rank"),
      llvm::cl::init(RotateMethod::ring),
      llvm::cl::values(
          clEnumValN(RotateMethod::allgather, "allgather", "all-gather once"),
          clEnumValN(RotateMethod::alltoall, "alltoall", "all-to-all shifts"),
          clEnumValN(RotateMethod::ring, "ring", "ring shifts"))};
  PassOptions::Option<LoadBalancer> loadBalance{
      *this, "load-balance", llvm::cl::desc("Load balancer"),
      llvm::cl::init(LoadBalancer::head_tail),
      llvm::cl::values(
          clEnumValN(LoadBalancer::none, "none", "contiguous"),
          clEnumValN(LoadBalancer::head_tail, "head_tail", "head-tail"),
          clEnumValN(LoadBalancer::striped, "striped", "round robin"),
          clEnumValN(LoadBalancer::per_document_head_tail,
                     "per_document_head_tail", "per-document head-tail"),
          clEnumValN(LoadBalancer::ptrr, "ptrr", "PTRR"))};
  PassOptions::ListOption<unsigned> seqArgs{
      *this, "seq-args",
      llvm::cl::desc("Arguments that carry a sequence dim (default: found)")};
  PassOptions::Option<bool> pad{
      *this, "pad", llvm::cl::desc("Pad sequences that do not split evenly"),
      llvm::cl::init(false)};
  PassOptions::Option<CPStrategy> strategy{
      *this, "strategy", llvm::cl::desc("How attention is distributed"),
      llvm::cl::init(CPStrategy::ring),
      llvm::cl::values(
          clEnumValN(CPStrategy::ring, "ring", "ring attention"),
          clEnumValN(CPStrategy::ulysses, "ulysses",
                     "all-to-all to head shards (Ulysses)"),
          clEnumValN(CPStrategy::hybrid, "hybrid",
                     "Ulysses in groups of ulysses-size ranks x a ring"),
          clEnumValN(CPStrategy::automatic, "auto",
                     "the cost model picks the strategy per attention"))};
  PassOptions::Option<int64_t> ulyssesSize{
      *this, "ulysses-size",
      llvm::cl::desc("Ranks per Ulysses group of strategy=hybrid (0: the "
                     "cost model's best)"),
      llvm::cl::init(0)};
  PassOptions::Option<std::string> topology{
      *this, "topology",
      llvm::cl::desc("Machine for strategy=auto's cost model: h200-nvlink, "
                     "h100-ib, cpu, or the path of a JSON topology file "
                     "(docs/cost-model.md)"),
      llvm::cl::init("h200-nvlink")};
  PassOptions::Option<bool> expand{
      *this, "expand",
      llvm::cl::desc("Expand ring attention into its explicit schedule"),
      llvm::cl::init(true)};
};

/// Adds detection, context parallelism and (optionally) the ring expansion
/// to `pm`: what `--cp-pipeline` runs. An embedding compiler calls this.
void buildCPPipeline(OpPassManager &pm, const CPPipelineOptions &options);

/// Registers the `cp-pipeline` pass pipeline.
void registerCPPipeline();

} // namespace mlir::cp

#endif // CP_DIALECT_CP_TRANSFORMS_PASSES_H
