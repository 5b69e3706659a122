//===- GpuCommunicator.h - Device-memory transports -------------*- C++ -*-===//
//
// Communicators whose buffers are device memory: "virtual ranks" (N ranks
// as N threads of one process on one GPU, transport by device-to-device
// copies; NCCL refuses two ranks on one GPU) and NCCL (one rank per GPU).
//
// Ordering is stream-based, like NCCL: start*() orders the transfer after
// the work already queued on stream() and runs it on the communicator's own
// stream (so it overlaps later compute); CommRequest::wait() makes stream()
// wait for the transfer without blocking the host (it only blocks for the
// host-side rendezvous of virtual ranks, bounded by the timeout).
// synchronize() blocks the host until all started transfers finished, or
// throws (after aborting NCCL) on error or timeout: no rank hangs.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_GPUCOMMUNICATOR_H
#define CPRT_CUDA_GPUCOMMUNICATOR_H

#include "cprt/Communicator.h"

#include <cuda_runtime_api.h>
#include <functional>
#include <memory>
#include <string>

namespace cprt {

class GpuCommunicator : public Communicator {
public:
  /// The stream that produces send buffers and consumes receive buffers.
  void setStream(cudaStream_t s) { stream_ = s; }
  cudaStream_t stream() const { return stream_; }
  int device() const { return device_; }
  /// Blocks until every started operation finished; throws on error/timeout.
  virtual void synchronize() = 0;
  /// The blocks of earlier ranks travel by this transport's all-to-all into
  /// device scratch and are folded on the host (GpuExScan.cpp): exact, and
  /// small next to attention for the per-chunk totals a sequence scan
  /// exchanges. Completes before returning (recv is ready on stream()).
  CommRequestPtr startExScan(const void *send, void *recv, size_t count,
                             ScanType type, ScanKind kind,
                             bool reverse = false) override;

protected:
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};

/// N ranks of one process on one device.
class VirtualRankGroup;
std::shared_ptr<VirtualRankGroup> makeVirtualRankGroup(int size, int device = -1,
                                                       int64_t timeoutMs = 0);
std::unique_ptr<GpuCommunicator> makeVirtualRankCommunicator(std::shared_ptr<VirtualRankGroup> g,
                                                             int rank);
/// Marks `rank` failed: every rank waiting on the group fails promptly.
void virtualRankGroupFail(VirtualRankGroup &g, int rank, const std::string &why);

/// Runs fn(rank, comm) for `size` virtual ranks, one thread each, each with
/// its own non-blocking stream set on comm; rethrows the first failure
/// (the other ranks are failed through the group, so none hangs).
void runVirtualRanks(int size, const std::function<void(int rank, GpuCommunicator &comm)> &fn,
                     int device = -1, int64_t timeoutMs = 0);

#ifdef CPRT_HAVE_NCCL
/// Size of ncclUniqueId in bytes.
constexpr size_t kNcclIdBytes = 128;
/// Rank `rank` of `size` (one GPU each) from a unique id made by rank 0.
std::unique_ptr<GpuCommunicator> makeNcclCommunicator(int rank, int size,
                                                      const void *uniqueId,
                                                      int device = -1,
                                                      int64_t timeoutMs = 0);
/// Makes a fresh unique id (call on rank 0 only).
void ncclMakeUniqueId(void *uniqueId);
/// Rendezvous without MPI: rank 0 writes the id to `path` (atomically, by
/// rename); the others wait for the file (bounded by the timeout).
std::unique_ptr<GpuCommunicator> makeNcclCommunicatorFromFile(const std::string &path, int rank,
                                                              int size, int device = -1,
                                                              int64_t timeoutMs = 0);
/// From the environment: CPRT_NCCL_ID_FILE (path), CPRT_RANK / CPRT_WORLD_SIZE
/// (else OMPI_COMM_WORLD_RANK / _SIZE, else PMI_RANK / PMI_SIZE); the device is
/// CPRT_DEVICE, else local rank (OMPI_COMM_WORLD_LOCAL_RANK) mod device count.
std::unique_ptr<GpuCommunicator> makeNcclCommunicatorFromEnv(int64_t timeoutMs = 0);
#ifdef CPRT_HAVE_MPI
/// Over MPI_COMM_WORLD (MPI initialised): rank 0's id is broadcast.
std::unique_ptr<GpuCommunicator> makeNcclCommunicatorMpi(int device = -1,
                                                         int64_t timeoutMs = 0);
#endif
#endif

} // namespace cprt

#endif
