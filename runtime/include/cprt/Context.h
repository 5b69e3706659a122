//===- Context.h - Per-thread rank context and launchers --------*- C++ -*-===//
//
// A rank context bundles what a distributed runtime call needs: the
// communicator (its rank and size) and the kernel backend. Launchers set it
// as the calling thread's current context; the C ABI reads it.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CONTEXT_H
#define CPRT_CONTEXT_H

#include "cprt/Attention.h"
#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace cprt {

struct RankContext {
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<KernelBackend> backend;
  /// Layouts of closed-form balancers, keyed by (balancer, S).
  std::map<std::pair<int, int64_t>, ShardLayout> layouts;
  /// Grid communicators of the hybrid entry points, keyed by Ulysses size
  /// (split from comm on first use; destroyed before comm).
  std::map<int, GridComms> grids;

  const ShardLayout &layout(Balancer b, int64_t seqLen, const int32_t *docIds);

private:
  ShardLayout scratch_; // per-document layouts depend on doc ids: not cached
};

RankContext *currentContext();
/// Throws if the calling thread has no context.
RankContext &requireContext();
void setCurrentContext(RankContext *ctx);

/// Runs fn(rank, size) on n threads, each with its own context. Throws the
/// first rank's failure (the one that caused the group to fail) after all
/// threads joined; other ranks are woken promptly by the failure.
void runThreadRanks(int n, const std::function<void(int, int)> &fn,
                    int64_t timeoutMs = 0);

} // namespace cprt

#endif // CPRT_CONTEXT_H
