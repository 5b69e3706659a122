//===- DetectAttention.cpp - raise attention to cp.sdpa -------------------===//
// (being written)
#include "cp/Dialect/CP/Transforms/Passes.h"
namespace mlir::cp {
#define GEN_PASS_DEF_CPDETECTATTENTION
#include "cp/Dialect/CP/Transforms/Passes.h.inc"
namespace {
struct DetectAttentionPass : impl::CPDetectAttentionBase<DetectAttentionPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace mlir::cp
