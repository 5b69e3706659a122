//===- Ulysses.h - All-to-all between sequence and head shards --*- C++ -*-===//
//
// Ulysses context parallelism moves data twice per attention: before it, an
// all-to-all turns every rank's sequence shard (all H heads, L local slots in
// the load balancer's order) into a head shard (H/W heads) of the whole
// sequence in original order; after it, the inverse all-to-all. Both are one
// equal-size Communicator::startAllToAll plus the layout's position table,
// so every transport (threads, MPI, NCCL's host path, virtual ranks) has
// them. Padding slots of the layout are dropped on the way in and zeroed on
// the way out. The packing is a few 2-D copies per rank (one per run of
// consecutive positions), so a device backend does it with cudaMemcpy2D.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_ULYSSES_H
#define CPRT_ULYSSES_H

#include "cprt/Attention.h"
#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"

#include <cstddef>
#include <cstdint>

namespace cprt {

/// Buffers live in `mem`'s memory space (its allocate / copy2D / zero:
/// device memory for the CUDA backend, on its stream); host memory when
/// `mem` is null. The communicator must move memory of that space.
///
/// `local` has shape `localShape` (ndim dims, contiguous) with H heads in
/// `headDim` and layout.localLen slots in `seqDim`; writes `out`, the same
/// shape with H/W heads (rank r: heads [r*H/W, (r+1)*H/W)) and
/// layout.seqLen positions in original order. H must be a multiple of W.
void seqToHeads(const void *local, void *out, const int64_t *localShape,
                int ndim, int headDim, int seqDim, size_t elemBytes,
                const ShardLayout &layout, Communicator &comm,
                KernelBackend *mem = nullptr);

/// The inverse: `in` has H/W heads and layout.seqLen positions (original
/// order); `local` gets all H heads for this rank's layout.localLen slots
/// (padding slots zero). `localShape` is the shape of `local`.
void headsToSeq(const void *in, void *local, const int64_t *localShape,
                int ndim, int headDim, int seqDim, size_t elemBytes,
                const ShardLayout &layout, Communicator &comm,
                KernelBackend *mem = nullptr);

/// The compiled entries' shape contract (cp.seq_to_heads / heads_to_seq):
/// `heads` has `local`'s rank and dims, except H/W heads in `headDim` and
/// `seqLen` positions in `seqDim`. Throws cprt::Error naming the dim.
void checkUlyssesShapes(const int64_t *localShape, int localRank,
                        const int64_t *headsShape, int headsRank, int headDim,
                        int seqDim, int worldSize, int64_t seqLen);

} // namespace cprt

#endif // CPRT_ULYSSES_H
