//===- MpiCommunicator.cpp - MPI transport with deadlines -----------------===//
//
// All operations are nonblocking point-to-point MPI calls polled with
// MPI_Testall until a deadline, so a silent peer gives an error naming the
// rank and operation instead of a hang. MPI cannot cancel a collective, so
// after a timeout the job should be aborted (CPRT_MPI_ABORT_ON_ERROR=1 makes
// the communicator call MPI_Abort itself after printing the error).
//
//===----------------------------------------------------------------------===//
#include "cprt/Communicator.h"
#include "cprt/Error.h"

#include <mpi.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

namespace cprt {
namespace {

constexpr int kTagSpace = 30000; // below the guaranteed MPI_TAG_UB (32767)

class MpiRequest final : public CommRequest {
public:
  MpiRequest(std::string op, int rank, int64_t timeoutMs)
      : op(std::move(op)), rank(rank), timeoutMs(timeoutMs) {}
  ~MpiRequest() override {
    // Never free buffers MPI still writes to: a request dropped without
    // wait() is completed here (or leaked after an error).
    if (!done && !errored) {
      try { wait(); } catch (...) {}
    }
  }
  void wait() override {
    if (done) return;
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    int flag = 0;
    for (int spins = 0;; ++spins) {
      int rc = MPI_Testall(int(reqs.size()), reqs.data(), &flag,
                           MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS) report(ErrorCode::Comm, "MPI error " + std::to_string(rc));
      if (flag) break;
      if (Clock::now() > deadline)
        report(ErrorCode::Timeout, "timed out after " +
                                       std::to_string(timeoutMs) +
                                       " ms (a peer did not take part)");
      if (spins > 64) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    if (finish) finish();
    done = true;
  }
  [[noreturn]] void report(ErrorCode code, const std::string &why) {
    errored = true;
    std::string msg = "cprt: rank " + std::to_string(rank) + ": " + op + ": " + why;
    const char *abortEnv = std::getenv("CPRT_MPI_ABORT_ON_ERROR");
    if (abortEnv && std::atoi(abortEnv) != 0) {
      std::fprintf(stderr, "%s\n", msg.c_str());
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    fail(code, msg);
  }

  std::string op;
  int rank;
  int64_t timeoutMs;
  std::vector<MPI_Request> reqs;
  std::vector<float> scratch;
  std::function<void()> finish;
  bool done = false, errored = false;
};

class MpiCommunicator final : public Communicator {
public:
  explicit MpiCommunicator(int64_t timeoutMs) {
    int init = 0;
    MPI_Initialized(&init);
    check(init != 0, "MPI communicator: MPI is not initialised");
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &size_);
    setTimeoutMs(timeoutMs);
    // Test hook (docs/reliability.md): CPRT_TEST_KILL_RANK=R makes rank R
    // SIGKILL itself when it starts its communication operation number
    // CPRT_TEST_KILL_OP (default 1, the first after cp-run's barrier), so
    // that tests can check what the job does when a rank dies.
    if (const char *k = std::getenv("CPRT_TEST_KILL_RANK"))
      if (*k && std::atoi(k) == rank_) {
        const char *op = std::getenv("CPRT_TEST_KILL_OP");
        killAtOp_ = op && *op ? std::atoll(op) : 1;
      }
  }
  /// Takes ownership of `c` (from MPI_Comm_split); no test hooks.
  MpiCommunicator(MPI_Comm c, int64_t timeoutMs) : comm(c) {
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &size_);
    setTimeoutMs(timeoutMs);
  }
  ~MpiCommunicator() override {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&comm);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *name() const override { return "mpi"; }

  std::unique_ptr<MpiRequest> begin(const char *op, int &tag) {
    if (killAtOp_ >= 0 && int64_t(seq) == killAtOp_) {
      std::fprintf(stderr, "cprt: rank %d: CPRT_TEST_KILL_RANK: SIGKILL at %s "
                           "(op #%lld)\n", rank_, op, (long long)seq);
      std::fflush(stderr);
      std::raise(SIGKILL);
    }
    tag = int(seq++ % kTagSpace);
    return std::make_unique<MpiRequest>(
        std::string(op) + " (op #" + std::to_string(seq - 1) + ")", rank_,
        timeoutMs_);
  }
  void isend(MpiRequest &r, const void *buf, size_t bytes, int dst, int tag) {
    check(bytes <= size_t(INT32_MAX), "MPI communicator: message too large");
    r.reqs.emplace_back();
    MPI_Isend(buf, int(bytes), MPI_BYTE, dst, tag, comm, &r.reqs.back());
  }
  void irecv(MpiRequest &r, void *buf, size_t bytes, int src, int tag) {
    check(bytes <= size_t(INT32_MAX), "MPI communicator: message too large");
    r.reqs.emplace_back();
    MPI_Irecv(buf, int(bytes), MPI_BYTE, src, tag, comm, &r.reqs.back());
  }

  CommRequestPtr startShift(const void *send, void *recv, size_t bytes,
                            int offset) override {
    int tag;
    auto r = begin("ring_shift", tag);
    const int to = ((rank_ + offset) % size_ + size_) % size_;
    const int from = ((rank_ - offset) % size_ + size_) % size_;
    irecv(*r, recv, bytes, from, tag);
    isend(*r, send, bytes, to, tag);
    return r;
  }
  CommRequestPtr startAllGather(const void *send, void *recv,
                                size_t bytes) override {
    int tag;
    auto r = begin("all_gather", tag);
    for (int s = 0; s < size_; ++s)
      irecv(*r, static_cast<char *>(recv) + s * bytes, bytes, s, tag);
    for (int d = 0; d < size_; ++d) isend(*r, send, bytes, d, tag);
    return r;
  }
  CommRequestPtr startAllToAllV(const void *send, const size_t *sc,
                                const size_t *so, void *recv,
                                const size_t *rc, const size_t *ro) override {
    int tag;
    auto r = begin("all_to_all", tag);
    for (int s = 0; s < size_; ++s)
      if (rc[s]) irecv(*r, static_cast<char *>(recv) + ro[s], rc[s], s, tag);
    for (int d = 0; d < size_; ++d)
      if (sc[d]) isend(*r, static_cast<const char *>(send) + so[d], sc[d], d, tag);
    return r;
  }
  CommRequestPtr startReduceScatterSumF32(const float *send, float *recv,
                                          size_t count) override {
    int tag;
    auto r = begin("reduce_scatter", tag);
    r->scratch.resize(count * size_);
    for (int s = 0; s < size_; ++s)
      irecv(*r, r->scratch.data() + s * count, count * 4, s, tag);
    for (int d = 0; d < size_; ++d)
      isend(*r, send + d * count, count * 4, d, tag);
    MpiRequest *raw = r.get();
    r->finish = [raw, recv, count, W = size_] {
      for (size_t i = 0; i < count; ++i) {
        float acc = 0.f;
        for (int s = 0; s < W; ++s) acc += raw->scratch[s * count + i];
        recv[i] = acc;
      }
    };
    return r;
  }
  void barrier() override {
    int tag;
    auto r = begin("barrier", tag);
    static char dummy[1];
    for (int s = 0; s < size_; ++s) irecv(*r, dummy, 0, s, tag);
    for (int d = 0; d < size_; ++d) isend(*r, dummy, 0, d, tag);
    r->wait();
  }

  /// MPI_Comm_split cannot time out: the (color, key) all-gather with a
  /// deadline first makes sure every peer reached the split.
  std::unique_ptr<Communicator> split(int color, int key) override {
    splitMembers(*this, color, key);
    MPI_Comm sub = MPI_COMM_NULL;
    int rc = MPI_Comm_split(comm, color < 0 ? MPI_UNDEFINED : color, key, &sub);
    check(rc == MPI_SUCCESS, "cprt: rank " + std::to_string(rank_) +
                                 ": MPI_Comm_split failed (" +
                                 std::to_string(rc) + ")");
    if (sub == MPI_COMM_NULL) return nullptr;
    return std::make_unique<MpiCommunicator>(sub, timeoutMs_);
  }

  MPI_Comm comm = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  uint64_t seq = 0;
  int64_t killAtOp_ = -1;
};

} // namespace

std::unique_ptr<Communicator> makeMpiCommunicator(int64_t timeoutMs) {
  return std::make_unique<MpiCommunicator>(timeoutMs);
}

} // namespace cprt
