//===- Communicator.h - Collective/point-to-point interface -----*- C++ -*-===//
//
// One interface for every transport: in-process threads (tests, embedded
// default), MPI processes, and later NCCL and single-GPU "virtual ranks".
// Every operation is started asynchronously and returns a request; wait()
// either completes or throws cprt::Error naming the rank and the operation
// (timeouts included): a failing or silent peer never hangs the caller.
//
// Buffers live in the memory space of the communicator (host for threads and
// MPI, device for NCCL / virtual ranks). Send buffers must stay unchanged
// and receive buffers untouched until wait() returns. All ranks must start
// the same sequence of collective operations (as with MPI / NCCL).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_COMMUNICATOR_H
#define CPRT_COMMUNICATOR_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cprt {

/// Element types and combiners of the scan collective (values match the C
/// ABI's `kind` argument of cprt_c_seq_scan_*).
enum class ScanType : int32_t { F32 = 0, F64 = 1, I32 = 2, I64 = 3 };
enum class ScanKind : int32_t { Sum = 0, Prod = 1 };
size_t scanTypeBytes(ScanType t);
/// recv = identity (0 for sums, 1 for products) combined with `n` blocks of
/// `count` elements in the order given (floats accumulate in double).
void foldScanBlocks(const void *const *blocks, int n, void *recv, size_t count,
                    ScanType type, ScanKind kind);

/// Handle of a started operation.
class CommRequest {
public:
  virtual ~CommRequest() = default;
  /// Blocks until the operation completed (or throws on error / timeout).
  virtual void wait() = 0;
};
using CommRequestPtr = std::unique_ptr<CommRequest>;

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char *name() const = 0;

  /// Ring shift: send `bytes` to rank (r + offset) mod W and receive the
  /// same amount from rank (r - offset) mod W.
  virtual CommRequestPtr startShift(const void *send, void *recv, size_t bytes,
                                    int offset = 1) = 0;
  /// recv[r * bytes ...] = rank r's send, for all r (recv holds W blocks).
  virtual CommRequestPtr startAllGather(const void *send, void *recv,
                                        size_t bytes) = 0;
  /// Variable all-to-all in bytes: sendCounts/sendOffsets and
  /// recvCounts/recvOffsets have W entries each (like MPI_Alltoallv).
  virtual CommRequestPtr startAllToAllV(const void *send,
                                        const size_t *sendCounts,
                                        const size_t *sendOffsets, void *recv,
                                        const size_t *recvCounts,
                                        const size_t *recvOffsets) = 0;
  /// Sum-reduce W blocks of `count` floats; rank r receives block r.
  virtual CommRequestPtr startReduceScatterSumF32(const float *send,
                                                  float *recv,
                                                  size_t count) = 0;
  virtual void barrier() = 0;
  /// Exclusive scan over ranks (MPI_Exscan): rank r receives the combination
  /// of the `send` blocks of every rank before it, in rank order (in
  /// descending order, from rank W-1, when `reverse`); the first rank
  /// receives the identity. `count` elements of `type`. The default serves
  /// host-memory transports through startAllToAllV: each rank sends its
  /// block to the ranks after it and folds what it receives.
  virtual CommRequestPtr startExScan(const void *send, void *recv,
                                     size_t count, ScanType type,
                                     ScanKind kind, bool reverse = false);

  /// Collective (every rank calls it, like MPI_Comm_split): the ranks with
  /// the same `color` form a new communicator, ordered by (key, rank); a
  /// negative color takes part but gets null. The new communicator has its
  /// own operation sequence (it may be used while this one is alive) and
  /// this one's timeout; it must not outlive this one. Each transport makes
  /// it natively (a thread group per color, MPI_Comm_split, ncclCommSplit,
  /// a virtual-rank sub-group); the default throws.
  virtual std::unique_ptr<Communicator> split(int color, int key);

  /// Equal-size all-to-all: block j of send goes to rank j, block i of recv
  /// comes from rank i.
  CommRequestPtr startAllToAll(const void *send, void *recv, size_t bytes);
  /// The ring shift expressed as one all-to-all (what PyTorch does with
  /// all_to_all_single): only the (r + offset) entry is non-empty.
  CommRequestPtr startShiftViaAllToAll(const void *send, void *recv,
                                       size_t bytes, int offset = 1);

  // Blocking conveniences.
  void shift(const void *send, void *recv, size_t bytes, int offset = 1) {
    startShift(send, recv, bytes, offset)->wait();
  }
  void allGather(const void *send, void *recv, size_t bytes) {
    startAllGather(send, recv, bytes)->wait();
  }
  void allToAll(const void *send, void *recv, size_t bytes) {
    startAllToAll(send, recv, bytes)->wait();
  }
  void reduceScatterSumF32(const float *send, float *recv, size_t count) {
    startReduceScatterSumF32(send, recv, count)->wait();
  }
  void exScan(const void *send, void *recv, size_t count, ScanType type,
              ScanKind kind, bool reverse = false) {
    startExScan(send, recv, count, type, kind, reverse)->wait();
  }

  int64_t timeoutMs() const { return timeoutMs_; }
  void setTimeoutMs(int64_t ms) { timeoutMs_ = ms > 0 ? ms : defaultTimeoutMs(); }
  /// CPRT_TIMEOUT_MS from the environment, else 60000.
  static int64_t defaultTimeoutMs();

protected:
  int64_t timeoutMs_ = defaultTimeoutMs();
};

/// What split() agrees on: all-gathers (color, key) over `comm` and returns
/// the ranks (of `comm`) of this rank's color, ordered by (key, rank).
std::vector<int> splitMembers(Communicator &comm, int color, int key);

/// The two axis communicators of a 2-D grid of N = U x R ranks (the hybrid
/// strategy: Ulysses over U, ring over R). Rank n = u + U * r: the grid is
/// [R, U] in the shard dialect's order (last axis fastest), so the U ranks
/// of one Ulysses group are consecutive (one node's fast links when ranks
/// are placed node by node).
struct GridComms {
  int ulyssesSize = 1, ringSize = 1; ///< U, R
  int ulyssesRank = 0, ringRank = 0; ///< u = n mod U, r = n / U
  std::unique_ptr<Communicator> ulysses; ///< the U ranks {U*r .. U*r+U-1}
  std::unique_ptr<Communicator> ring;    ///< the R ranks {u, u+U, ...}
};
/// Collective over `world`; U must divide world.size().
GridComms makeGridComms(Communicator &world, int ulyssesSize);

/// The in-process transport: W ranks are W threads of one process sharing a
/// ThreadGroup. Messages are copied eagerly into the receiver's mailbox so a
/// send never waits for the receiver (no ordering deadlocks).
class ThreadGroup;
std::shared_ptr<ThreadGroup> makeThreadGroup(int size, int64_t timeoutMs = 0);
std::unique_ptr<Communicator>
makeThreadCommunicator(std::shared_ptr<ThreadGroup> group, int rank);
/// Marks rank `rank` of the group as failed (a thrown exception); every rank
/// waiting on it, now or later, fails promptly with `why` in the message.
void threadGroupFail(ThreadGroup &group, int rank, const std::string &why);
/// Marks rank `rank` as finished: peers still waiting for a message from it
/// fail instead of waiting for the timeout.
void threadGroupExit(ThreadGroup &group, int rank);

#ifdef CPRT_HAVE_MPI
/// Wraps MPI_COMM_WORLD (MPI must be initialised). Ops use nonblocking MPI
/// calls polled until a deadline; on timeout they throw (the caller should
/// then abort the job: MPI cannot cancel collectives).
std::unique_ptr<Communicator> makeMpiCommunicator(int64_t timeoutMs = 0);
#endif

} // namespace cprt

#endif // CPRT_COMMUNICATOR_H
