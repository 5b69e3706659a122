//===- NcclCommunicator.cpp - NCCL transport, one rank per GPU ------------===//
//
// A non-blocking NCCL communicator (ncclConfig_t.blocking = 0): every NCCL
// call is polled with ncclCommGetAsyncError until a deadline, so a dead or
// silent peer ends in ncclCommAbort and a cprt::Error on every rank, never
// in a hang. Collectives run on the communicator's own stream, ordered after
// the user's stream by an event, so the next KV shift overlaps compute.
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/GpuCommunicator.h"
#include "CudaCheck.h"
#include "cprt/Error.h"

#include <nccl.h>
#ifdef CPRT_HAVE_MPI
#include <mpi.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace cprt {
namespace {

static_assert(sizeof(ncclUniqueId) == kNcclIdBytes, "ncclUniqueId size changed");

using Clock = std::chrono::steady_clock;

class NcclCommunicator;

class NcclRequest final : public CommRequest {
public:
  NcclRequest(NcclCommunicator &c, cudaEvent_t ev) : c(c), ev(ev) {}
  ~NcclRequest() override {
    if (ev) cudaEventDestroy(ev);
  }
  void wait() override;

private:
  NcclCommunicator &c;
  cudaEvent_t ev;
};

class NcclCommunicator final : public GpuCommunicator {
public:
  NcclCommunicator(int rank, int size, const ncclUniqueId &id, int device, int64_t timeoutMs)
      : rank_(rank), size_(size) {
    if (timeoutMs > 0) timeoutMs_ = timeoutMs;
    if (device < 0) CPRT_CUDA_CHECK(cudaGetDevice(&device));
    device_ = device;
    CPRT_CUDA_CHECK(cudaSetDevice(device_));
    CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&commStream, cudaStreamNonBlocking));
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&comm, size, id, rank, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) {
      cudaStreamDestroy(commStream);
      fail(ErrorCode::Comm, where("ncclCommInitRankConfig") + ncclGetErrorString(r));
    }
    try {
      poll("ncclCommInitRankConfig");
    } catch (...) {
      cudaStreamDestroy(commStream);
      throw;
    }
  }
  /// Adopts `c`, made by ncclCommSplit (non-blocking: polled until ready).
  NcclCommunicator(ncclComm_t c, int device, int64_t timeoutMs, cudaStream_t userStream)
      : comm(c) {
    timeoutMs_ = timeoutMs;
    device_ = device;
    stream_ = userStream;
    CPRT_CUDA_CHECK(cudaSetDevice(device_));
    try {
      poll("ncclCommSplit");
    } catch (...) {
      comm = nullptr; // poll aborted it
      throw;
    }
    ncclResult_t r1 = ncclCommUserRank(comm, &rank_), r2 = ncclCommCount(comm, &size_);
    if (r1 != ncclSuccess || r2 != ncclSuccess) {
      abort();
      fail(ErrorCode::Comm, where("ncclCommSplit") + "cannot read the new rank / size");
    }
    CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&commStream, cudaStreamNonBlocking));
  }
  ~NcclCommunicator() override {
    if (comm) {
      if (!aborted) {
        // Finalize flushes outstanding work; bounded, else abort.
        ncclResult_t r = ncclCommFinalize(comm);
        try {
          if (r != ncclSuccess && r != ncclInProgress) abort();
          else poll("ncclCommFinalize");
        } catch (...) {
        }
        if (!aborted) ncclCommDestroy(comm);
      }
    }
    cudaStreamDestroy(commStream);
    if (scratch) cudaFree(scratch);
    if (ready) cudaEventDestroy(ready);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *name() const override { return "nccl"; }

  CommRequestPtr startShift(const void *send, void *recv, size_t bytes, int offset) override {
    const int to = ((rank_ + offset) % size_ + size_) % size_;
    const int from = ((rank_ - offset) % size_ + size_) % size_;
    return launch("shift", [&] {
      call(ncclGroupStart(), "ncclGroupStart");
      call(ncclSend(send, bytes, ncclUint8, to, comm, commStream), "ncclSend");
      call(ncclRecv(recv, bytes, ncclUint8, from, comm, commStream), "ncclRecv");
      call(ncclGroupEnd(), "ncclGroupEnd");
    });
  }
  CommRequestPtr startAllGather(const void *send, void *recv, size_t bytes) override {
    return launch("all-gather", [&] {
      call(ncclAllGather(send, recv, bytes, ncclUint8, comm, commStream), "ncclAllGather");
    });
  }
  CommRequestPtr startAllToAllV(const void *send, const size_t *sendCounts,
                                const size_t *sendOffsets, void *recv, const size_t *recvCounts,
                                const size_t *recvOffsets) override {
    return launch("all-to-all", [&] {
      call(ncclGroupStart(), "ncclGroupStart");
      for (int j = 0; j < size_; ++j) {
        if (sendCounts[j])
          call(ncclSend(static_cast<const char *>(send) + sendOffsets[j], sendCounts[j],
                        ncclUint8, j, comm, commStream),
               "ncclSend");
        if (recvCounts[j])
          call(ncclRecv(static_cast<char *>(recv) + recvOffsets[j], recvCounts[j], ncclUint8, j,
                        comm, commStream),
               "ncclRecv");
      }
      call(ncclGroupEnd(), "ncclGroupEnd");
    });
  }
  CommRequestPtr startReduceScatterSumF32(const float *send, float *recv,
                                          size_t count) override {
    return launch("reduce-scatter", [&] {
      call(ncclReduceScatter(send, recv, count, ncclFloat32, ncclSum, comm, commStream),
           "ncclReduceScatter");
    });
  }
  void barrier() override {
    if (!scratch) CPRT_CUDA_CHECK(cudaMalloc(&scratch, 16));
    launch("barrier", [&] {
      call(ncclAllReduce(scratch, scratch, 1, ncclInt32, ncclSum, comm, commStream),
           "ncclAllReduce");
    })->wait();
    synchronize();
  }
  /// ncclCommSplit (NCCL_SPLIT_NOCOLOR for a negative color), non-blocking
  /// like this one and polled with the timeout; the new communicator starts
  /// on this one's device and user stream.
  std::unique_ptr<Communicator> split(int color, int key) override {
    if (aborted) fail(ErrorCode::Comm, where("ncclCommSplit") + "communicator was aborted");
    synchronize(); // nothing of this communicator in flight during the split
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclComm_t sub = nullptr;
    call(ncclCommSplit(comm, color < 0 ? NCCL_SPLIT_NOCOLOR : color, key, &sub, &cfg),
         "ncclCommSplit");
    poll("ncclCommSplit");
    if (color < 0 || !sub) return nullptr;
    return std::make_unique<NcclCommunicator>(sub, device_, timeoutMs_, stream_);
  }
  void synchronize() override {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs_);
    for (;;) {
      checkAsync("synchronize");
      cudaError_t e = cudaStreamQuery(commStream);
      if (e == cudaSuccess) break;
      if (e != cudaErrorNotReady) {
        abort();
        CPRT_CUDA_CHECK(e);
      }
      if (Clock::now() > deadline) {
        abort();
        fail(ErrorCode::Timeout, where("synchronize") + "timed out after " +
                                     std::to_string(timeoutMs_) + " ms waiting for " +
                                     lastOp + " (communicator aborted)");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void checkAsync(const char *what) {
    if (aborted) fail(ErrorCode::Comm, where(what) + "communicator was aborted");
    ncclResult_t st;
    ncclResult_t r = ncclCommGetAsyncError(comm, &st);
    if (r != ncclSuccess || (st != ncclSuccess && st != ncclInProgress)) {
      const std::string msg = ncclGetErrorString(r != ncclSuccess ? r : st);
      const char *last = ncclGetLastError(comm);
      abort();
      fail(ErrorCode::Comm, where(what) + msg + " (last operation: " + lastOp + ")" +
                                (last && *last ? std::string(" (") + last + ")" : ""));
    }
  }

private:
  std::string where(const char *what) const {
    return "nccl rank " + std::to_string(rank_) + "/" + std::to_string(size_) + ": " + what +
           ": ";
  }
  void abort() {
    if (comm && !aborted) {
      aborted = true;
      ncclCommAbort(comm);
    }
  }
  void call(ncclResult_t r, const char *what) {
    if (r != ncclSuccess && r != ncclInProgress) {
      abort();
      fail(ErrorCode::Comm, where(what) + ncclGetErrorString(r));
    }
  }
  /// Polls a non-blocking communicator until the last call left
  /// ncclInProgress, with the timeout.
  void poll(const char *what) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs_);
    for (;;) {
      ncclResult_t st;
      ncclResult_t r = ncclCommGetAsyncError(comm, &st);
      if (r != ncclSuccess) st = r;
      if (st == ncclSuccess) return;
      if (st != ncclInProgress) {
        abort();
        fail(ErrorCode::Comm, where(what) + ncclGetErrorString(st));
      }
      if (Clock::now() > deadline) {
        abort();
        fail(ErrorCode::Timeout, where(what) + "timed out after " + std::to_string(timeoutMs_) +
                                     " ms (communicator aborted)");
      }
      std::this_thread::yield();
    }
  }
  template <typename F> CommRequestPtr launch(const char *what, F &&f) {
    if (aborted) fail(ErrorCode::Comm, where(what) + "communicator was aborted");
    lastOp = what;
    CPRT_CUDA_CHECK(cudaEventRecord(readyEv(), stream_));
    CPRT_CUDA_CHECK(cudaStreamWaitEvent(commStream, ready, 0));
    f();
    poll(what);
    cudaEvent_t done;
    CPRT_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    CPRT_CUDA_CHECK(cudaEventRecord(done, commStream));
    return std::make_unique<NcclRequest>(*this, done);
  }
  cudaEvent_t readyEv() {
    if (!ready) CPRT_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    return ready;
  }

  int rank_ = 0, size_ = 1;
  ncclComm_t comm = nullptr;
  cudaStream_t commStream = nullptr;
  cudaEvent_t ready = nullptr;
  void *scratch = nullptr;
  bool aborted = false;
  const char *lastOp = "no operation"; ///< named in wait/synchronize errors
};

void NcclRequest::wait() {
  if (!ev) return;
  c.checkAsync("wait");
  CPRT_CUDA_CHECK(cudaStreamWaitEvent(c.stream(), ev, 0));
}

int envInt(const char *a, const char *b, const char *c, int dflt) {
  for (const char *n : {a, b, c})
    if (n)
      if (const char *v = std::getenv(n)) return std::atoi(v);
  return dflt;
}

} // namespace

void ncclMakeUniqueId(void *uniqueId) {
  ncclUniqueId id;
  ncclResult_t r = ncclGetUniqueId(&id);
  if (r != ncclSuccess) fail(ErrorCode::Comm, std::string("ncclGetUniqueId: ") + ncclGetErrorString(r));
  std::memcpy(uniqueId, &id, sizeof id);
}

std::unique_ptr<GpuCommunicator> makeNcclCommunicator(int rank, int size, const void *uniqueId,
                                                      int device, int64_t timeoutMs) {
  check(size > 0 && rank >= 0 && rank < size, "nccl: bad rank " + std::to_string(rank) +
                                                  " of " + std::to_string(size));
  ncclUniqueId id;
  std::memcpy(&id, uniqueId, sizeof id);
  return std::make_unique<NcclCommunicator>(rank, size, id, device, timeoutMs);
}

std::unique_ptr<GpuCommunicator> makeNcclCommunicatorFromFile(const std::string &path, int rank,
                                                              int size, int device,
                                                              int64_t timeoutMs) {
  if (timeoutMs <= 0) timeoutMs = Communicator::defaultTimeoutMs();
  ncclUniqueId id;
  if (rank == 0) {
    ncclMakeUniqueId(&id);
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char *>(&id), sizeof id);
      if (!f) fail(ErrorCode::Comm, "nccl: cannot write the unique id to " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail(ErrorCode::Comm, "nccl: cannot rename " + tmp + " to " + path);
  } else {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
      std::ifstream f(path, std::ios::binary);
      if (f && f.read(reinterpret_cast<char *>(&id), sizeof id)) break;
      if (Clock::now() > deadline)
        fail(ErrorCode::Timeout, "nccl rank " + std::to_string(rank) + ": no unique id in " +
                                     path + " after " + std::to_string(timeoutMs) + " ms");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return makeNcclCommunicator(rank, size, &id, device, timeoutMs);
}

std::unique_ptr<GpuCommunicator> makeNcclCommunicatorFromEnv(int64_t timeoutMs) {
  const char *path = std::getenv("CPRT_NCCL_ID_FILE");
  check(path && *path, "nccl: set CPRT_NCCL_ID_FILE to a path every rank can read");
  const int rank = envInt("CPRT_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", 0);
  const int size = envInt("CPRT_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", 1);
  int device = envInt("CPRT_DEVICE", nullptr, nullptr, -1);
  if (device < 0) {
    int n = 1;
    CPRT_CUDA_CHECK(cudaGetDeviceCount(&n));
    device = envInt("OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK", nullptr, rank) % (n > 0 ? n : 1);
  }
  return makeNcclCommunicatorFromFile(path, rank, size, device, timeoutMs);
}

#ifdef CPRT_HAVE_MPI
std::unique_ptr<GpuCommunicator> makeNcclCommunicatorMpi(int device, int64_t timeoutMs) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  ncclUniqueId id;
  if (rank == 0) ncclMakeUniqueId(&id);
  if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    fail(ErrorCode::Comm, "nccl: MPI_Bcast of the unique id failed");
  if (device < 0) {
    int n = 1;
    CPRT_CUDA_CHECK(cudaGetDeviceCount(&n));
    const char *lr = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    device = (lr ? std::atoi(lr) : rank) % (n > 0 ? n : 1);
  }
  return makeNcclCommunicator(rank, size, &id, device, timeoutMs);
}
#endif

} // namespace cprt
