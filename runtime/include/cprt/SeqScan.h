//===- SeqScan.h - Scans along a sharded sequence ---------------*- C++ -*-===//
//
// A cumulative sum/product along the sequence dim of a tensor whose sequence
// is sharded by a load balancer: every local element becomes the
// combination of all elements at original positions up to its own, exactly
// what the single-device scan computes, though no rank holds a contiguous
// part of the sequence under head-tail or striped balancing.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SEQSCAN_H
#define CPRT_SEQSCAN_H

#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"

#include <cstdint>

namespace cprt {

/// Inclusive scan along the sequence of this rank's shard `local` (viewed
/// as [outer, L, inner], L = layout.localLen, contiguous) into `out` (same
/// shape; may alias `local`). Padding slots contribute the identity; their
/// outputs are unspecified. Floats accumulate in double (as PyTorch's CPU
/// cumsum does). Balancers: none, head_tail, striped.
void seqScan(const void *local, void *out, int64_t outer, int64_t inner,
             ScanType type, ScanKind kind, const ShardLayout &layout,
             Communicator &comm);

} // namespace cprt

#endif // CPRT_SEQSCAN_H
