//===- Balancing.cpp - static balancer arithmetic of the cp dialect -------===//
//
// Granules, local lengths and position maps of the closed-form load
// balancers (none, head_tail, striped; with padding), exactly as the
// runtime lays the ranks out (runtime/src/balance/LoadBalancer.cpp): shared
// by the op verifiers (CPOps.cpp) and the passes. Declared in CPOps.h.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/IR/CPOps.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace mlir::cp;


int64_t mlir::cp::balancerGranule(LoadBalancer balancer,
                                  std::optional<int64_t> blockSize) {
  switch (balancer) {
  case LoadBalancer::none:
    return 1;
  case LoadBalancer::head_tail:
  case LoadBalancer::per_document_head_tail:
    return 2;
  case LoadBalancer::striped:
    return blockSize.value_or(1);
  case LoadBalancer::ptrr:
    return blockSize.value_or(128);
  }
  llvm_unreachable("unknown load balancer");
}

std::optional<int64_t> mlir::cp::localSeqLen(int64_t seqLen, int64_t worldSize,
                                             LoadBalancer balancer,
                                             std::optional<int64_t> blockSize,
                                             bool pad) {
  int64_t granule = balancerGranule(balancer, blockSize);
  if (worldSize < 1 || granule < 1)
    return std::nullopt; // no layout (callers diagnose the grid first)
  int64_t unit = granule * worldSize;
  if (seqLen % unit != 0 && !pad)
    return std::nullopt;
  return llvm::divideCeil(seqLen, unit) * granule;
}

/// Position of offset `o` of chunk `k` when a sequence of `seqLen` tokens is
/// cut into `numChunks` chunks of ceil(seqLen / numChunks) slots. As in the
/// runtime (runtime/src/balance/LoadBalancer.cpp), the seqLen mod numChunks
/// extra tokens go to the head chunks 0..W-1 first, then to the tail chunks
/// K-1, K-2, ...; a chunk's real tokens come first, padding after. Returns
/// -1 for padding.
static int64_t chunkedPosition(int64_t k, int64_t o, int64_t seqLen,
                               int64_t numChunks, int64_t worldSize) {
  int64_t base = seqLen / numChunks, rem = seqLen % numChunks;
  int64_t extraHead = std::min(rem, worldSize);
  int64_t extraTail = std::max<int64_t>(0, rem - worldSize);
  int64_t n = base + (k < extraHead ? 1 : 0) +
              (k >= numChunks - extraTail ? 1 : 0);
  if (o >= n)
    return -1;
  int64_t start = k * base + std::min(k, extraHead) +
                  std::max<int64_t>(0, k - (numChunks - extraTail));
  return start + o;
}

int64_t mlir::cp::globalPosition(int64_t local, int64_t rank, int64_t seqLen,
                                 int64_t worldSize, LoadBalancer balancer,
                                 std::optional<int64_t> blockSize, bool pad) {
  int64_t localLen =
      *localSeqLen(seqLen, worldSize, balancer, blockSize, /*pad=*/true);
  int64_t slot = rank * localLen + local;
  int64_t pos = -1;
  switch (balancer) {
  case LoadBalancer::none:
    pos = chunkedPosition(rank, local, seqLen, worldSize, worldSize);
    break;
  case LoadBalancer::head_tail: {
    int64_t chunk = localLen / 2;
    pos = local < chunk
              ? chunkedPosition(rank, local, seqLen, 2 * worldSize, worldSize)
              : chunkedPosition(2 * worldSize - 1 - rank, local - chunk,
                                seqLen, 2 * worldSize, worldSize);
    break;
  }
  case LoadBalancer::striped: {
    int64_t b = blockSize.value_or(1);
    pos = ((local / b) * worldSize + rank) * b + local % b;
    if (pos >= seqLen)
      pos = -1;
    break;
  }
  case LoadBalancer::per_document_head_tail:
  case LoadBalancer::ptrr:
    llvm_unreachable("data-dependent balancers have no static position map");
  }
  // Padding maps past the sequence, one distinct position per slot.
  return pos >= 0 ? pos : seqLen + slot;
}
