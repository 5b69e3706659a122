//===- ThreadCommunicator.cpp - N ranks as threads of one process ---------===//
//
// Eager mailbox transport: a send copies its bytes into the group's mailbox
// under (dst, src, tag); the receiver takes them out in wait(). Tags are the
// per-rank operation sequence number, identical on all ranks because every
// rank starts the same sequence of operations. Waits use condition variables
// with a deadline and also wake when a peer fails or exits.
//
//===----------------------------------------------------------------------===//
#include "cprt/Communicator.h"
#include "cprt/Error.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>

namespace cprt {

/// What every group split off one root shares: the lock, the wake-up and
/// the failures (by root rank), so a failure anywhere wakes every waiter.
struct ThreadShared {
  explicit ThreadShared(int size) : failed(size) {}
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> failed; // non-empty: that root rank failed
  int firstFailed = -1;
  uint64_t nextId = 1;
  /// Groups being formed by split(): (parent id, op tag, color) -> group
  /// and how many members still have to take it.
  std::map<std::tuple<uint64_t, uint64_t, int>,
           std::pair<std::shared_ptr<ThreadGroup>, int>>
      splits;
};

class ThreadGroup {
public:
  ThreadGroup(std::shared_ptr<ThreadShared> sh, std::vector<int> members,
              int64_t timeoutMs, uint64_t id)
      : size(int(members.size())), timeoutMs(timeoutMs), sh(std::move(sh)),
        members(std::move(members)), id(id), exited(size, false) {}

  const int size;
  const int64_t timeoutMs;
  std::shared_ptr<ThreadShared> sh;
  const std::vector<int> members; // group rank -> root rank
  const uint64_t id;
  // Guarded by sh->mu.
  std::map<std::tuple<int, int, uint64_t>, std::vector<char>> box;
  std::vector<bool> exited;
};

std::shared_ptr<ThreadGroup> makeThreadGroup(int size, int64_t timeoutMs) {
  check(size > 0, "thread group: size must be > 0");
  std::vector<int> members(size);
  for (int i = 0; i < size; ++i) members[i] = i;
  return std::make_shared<ThreadGroup>(
      std::make_shared<ThreadShared>(size), std::move(members),
      timeoutMs > 0 ? timeoutMs : Communicator::defaultTimeoutMs(), 0);
}

void threadGroupFail(ThreadGroup &g, int rank, const std::string &why) {
  ThreadShared &sh = *g.sh;
  std::lock_guard<std::mutex> lock(sh.mu);
  const int root = g.members[rank];
  if (sh.failed[root].empty()) sh.failed[root] = why.empty() ? "failed" : why;
  if (sh.firstFailed < 0) sh.firstFailed = root;
  sh.cv.notify_all();
}

void threadGroupExit(ThreadGroup &g, int rank) {
  std::lock_guard<std::mutex> lock(g.sh->mu);
  g.exited[rank] = true;
  g.sh->cv.notify_all();
}

namespace {

class ThreadCommunicator;

/// A started operation: its receives are completed in wait().
class ThreadRequest final : public CommRequest {
public:
  struct Recv {
    int src;
    size_t bytes;
    std::function<void(const char *)> deliver;
  };
  ThreadRequest(ThreadCommunicator &c, std::string op, uint64_t tag)
      : comm(c), op(std::move(op)), tag(tag) {}
  void wait() override;

  ThreadCommunicator &comm;
  std::string op;
  uint64_t tag;
  std::vector<Recv> recvs;
  std::function<void()> finish; // runs after all receives (reductions)
  bool done = false;
};

class ThreadCommunicator final : public Communicator {
public:
  ThreadCommunicator(std::shared_ptr<ThreadGroup> g, int rank)
      : group(std::move(g)), rank_(rank) {
    timeoutMs_ = group->timeoutMs;
  }
  // Not while unwinding: a rank that throws is marked failed right after
  // (runThreadRanks), and its peers should report that failure rather than
  // "exited" (sub-communicators die during the unwinding).
  ~ThreadCommunicator() override {
    if (std::uncaught_exceptions() == 0) threadGroupExit(*group, rank_);
  }
  int rank() const override { return rank_; }
  int size() const override { return group->size; }
  const char *name() const override { return "threads"; }

  void post(int dst, uint64_t tag, const void *data, size_t bytes) {
    std::vector<char> msg(bytes);
    if (bytes) std::memcpy(msg.data(), data, bytes);
    std::lock_guard<std::mutex> lock(group->sh->mu);
    group->box[{dst, rank_, tag}] = std::move(msg);
    group->sh->cv.notify_all();
  }

  std::unique_ptr<ThreadRequest> begin(const char *op) {
    return std::make_unique<ThreadRequest>(*this, op, seq++);
  }

  /// Blocks until the message (src -> me, tag) arrives; throws on failure.
  std::vector<char> take(int src, uint64_t tag, const std::string &op) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs_);
    ThreadShared &sh = *group->sh;
    std::unique_lock<std::mutex> lock(sh.mu);
    const auto key = std::make_tuple(rank_, src, tag);
    for (;;) {
      if (sh.firstFailed >= 0) {
        int f = sh.firstFailed;
        fail(ErrorCode::Comm, "cprt: rank " + std::to_string(rank_) + ": " +
                                  op + " aborted: rank " + std::to_string(f) +
                                  " failed: " + sh.failed[f]);
      }
      auto it = group->box.find(key);
      if (it != group->box.end()) {
        std::vector<char> m = std::move(it->second);
        group->box.erase(it);
        return m;
      }
      if (group->exited[src])
        fail(ErrorCode::Comm, "cprt: rank " + std::to_string(rank_) + ": " +
                                  op + ": peer rank " + std::to_string(src) +
                                  " exited without taking part");
      if (sh.cv.wait_until(lock, deadline) == std::cv_status::timeout &&
          group->box.find(key) == group->box.end() && sh.firstFailed < 0)
        fail(ErrorCode::Timeout,
             "cprt: rank " + std::to_string(rank_) + ": " + op +
                 " timed out after " + std::to_string(timeoutMs_) +
                 " ms waiting for rank " + std::to_string(src));
    }
  }

  CommRequestPtr startShift(const void *send, void *recv, size_t bytes,
                            int offset) override {
    const int W = size();
    auto req = begin("ring_shift");
    const int to = ((rank_ + offset) % W + W) % W;
    const int from = ((rank_ - offset) % W + W) % W;
    post(to, req->tag, send, bytes);
    req->recvs.push_back({from, bytes, [recv, bytes](const char *m) {
                            if (bytes) std::memcpy(recv, m, bytes);
                          }});
    return req;
  }

  CommRequestPtr startAllGather(const void *send, void *recv,
                                size_t bytes) override {
    auto req = begin("all_gather");
    for (int d = 0; d < size(); ++d) post(d, req->tag, send, bytes);
    for (int s = 0; s < size(); ++s) {
      char *dst = static_cast<char *>(recv) + s * bytes;
      req->recvs.push_back({s, bytes, [dst, bytes](const char *m) {
                              if (bytes) std::memcpy(dst, m, bytes);
                            }});
    }
    return req;
  }

  CommRequestPtr startAllToAllV(const void *send, const size_t *sendCounts,
                                const size_t *sendOffsets, void *recv,
                                const size_t *recvCounts,
                                const size_t *recvOffsets) override {
    auto req = begin("all_to_all");
    for (int d = 0; d < size(); ++d)
      post(d, req->tag, static_cast<const char *>(send) + sendOffsets[d],
           sendCounts[d]);
    for (int s = 0; s < size(); ++s) {
      char *dst = static_cast<char *>(recv) + recvOffsets[s];
      size_t n = recvCounts[s];
      req->recvs.push_back({s, n, [dst, n](const char *m) {
                              if (n) std::memcpy(dst, m, n);
                            }});
    }
    return req;
  }

  CommRequestPtr startReduceScatterSumF32(const float *send, float *recv,
                                          size_t count) override {
    auto req = begin("reduce_scatter");
    const size_t bytes = count * sizeof(float);
    for (int d = 0; d < size(); ++d)
      post(d, req->tag, send + d * count, bytes);
    // Sum in rank order so every run gives the same bits.
    auto acc = std::make_shared<std::vector<float>>(count, 0.f);
    for (int s = 0; s < size(); ++s)
      req->recvs.push_back({s, bytes, [acc, count](const char *m) {
                              const float *f = reinterpret_cast<const float *>(m);
                              for (size_t i = 0; i < count; ++i) (*acc)[i] += f[i];
                            }});
    req->finish = [acc, recv, count] {
      std::memcpy(recv, acc->data(), count * sizeof(float));
    };
    return req;
  }

  void barrier() override {
    auto req = begin("barrier");
    for (int d = 0; d < size(); ++d) post(d, req->tag, nullptr, 0);
    for (int s = 0; s < size(); ++s)
      req->recvs.push_back({s, 0, [](const char *) {}});
    req->wait();
  }

  std::unique_ptr<Communicator> split(int color, int key) override;

  std::shared_ptr<ThreadGroup> group;
  int rank_;
  uint64_t seq = 0;
};

void ThreadRequest::wait() {
  if (done) return;
  const std::string what = op + " (op #" + std::to_string(tag) + ")";
  for (Recv &r : recvs) {
    std::vector<char> m = comm.take(r.src, tag, what);
    if (m.size() != r.bytes)
      fail(ErrorCode::Comm, "cprt: rank " + std::to_string(comm.rank()) +
                                ": " + what + ": expected " +
                                std::to_string(r.bytes) + " bytes from rank " +
                                std::to_string(r.src) + ", got " +
                                std::to_string(m.size()) +
                                " (ranks called different operations?)");
    r.deliver(m.data());
  }
  if (finish) finish();
  done = true;
}

/// A new thread group per color: the members agree on (color, key) by an
/// all-gather; the first member to arrive creates the group in the shared
/// registry, the others take it (keyed by this operation's tag, identical
/// on all ranks).
std::unique_ptr<Communicator> ThreadCommunicator::split(int color, int key) {
  const uint64_t tag = seq; // the all-gather's tag inside splitMembers
  const std::vector<int> ranks = splitMembers(*this, color, key);
  if (color < 0) return nullptr;
  const int newRank = int(std::find(ranks.begin(), ranks.end(), rank_) -
                          ranks.begin());
  std::shared_ptr<ThreadGroup> sub;
  {
    ThreadShared &sh = *group->sh;
    std::lock_guard<std::mutex> lock(sh.mu);
    auto k = std::make_tuple(group->id, tag, color);
    auto it = sh.splits.find(k);
    if (it == sh.splits.end()) {
      std::vector<int> members;
      for (int r : ranks) members.push_back(group->members[r]);
      auto g = std::make_shared<ThreadGroup>(group->sh, std::move(members),
                                             timeoutMs_, sh.nextId++);
      it = sh.splits.emplace(k, std::make_pair(g, int(ranks.size()))).first;
    }
    sub = it->second.first;
    if (--it->second.second == 0) sh.splits.erase(it);
  }
  auto c = std::make_unique<ThreadCommunicator>(std::move(sub), newRank);
  c->setTimeoutMs(timeoutMs_);
  return c;
}

} // namespace

std::unique_ptr<Communicator>
makeThreadCommunicator(std::shared_ptr<ThreadGroup> group, int rank) {
  check(group && rank >= 0 && rank < group->size,
        "thread communicator: rank out of range");
  return std::make_unique<ThreadCommunicator>(std::move(group), rank);
}

} // namespace cprt
