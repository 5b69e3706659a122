//===- VirtualRanks.cpp - N ranks on one GPU, device-to-device copies -----===//
//
// Every operation is a slot that all ranks publish into (their buffers and
// an event marking the send data ready on their stream). Each rank then
// *pulls* what it receives with cudaMemcpyAsync on its own communication
// stream, after waiting for the ready events of all ranks, and records a
// done event. wait() makes the rank's stream wait for every rank's done
// event: then its receive buffer is filled and its send buffer is no longer
// read by anyone. The host blocks only for the rendezvous (bounded).
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/GpuCommunicator.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "cprt/Error.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace cprt {
namespace {

enum class OpKind { Shift, AllGather, AllToAllV, ReduceScatter, Barrier };
const char *opName(OpKind k) {
  switch (k) {
  case OpKind::Shift: return "shift";
  case OpKind::AllGather: return "all-gather";
  case OpKind::AllToAllV: return "all-to-all";
  case OpKind::ReduceScatter: return "reduce-scatter";
  case OpKind::Barrier: return "barrier";
  }
  return "?";
}

struct Pub {
  bool present = false, done = false;
  OpKind kind = OpKind::Barrier;
  const void *send = nullptr;
  void *recv = nullptr;
  size_t bytes = 0;
  int offset = 0;
  std::vector<size_t> sendCounts, sendOffsets;
  cudaEvent_t ready = nullptr, doneEv = nullptr;
};

struct Slot {
  explicit Slot(int w) : pubs(w) {}
  ~Slot() {
    for (Pub &p : pubs) {
      if (p.ready) cudaEventDestroy(p.ready);
      if (p.doneEv) cudaEventDestroy(p.doneEv);
    }
  }
  std::vector<Pub> pubs;
  int present = 0, done = 0, released = 0;
};

} // namespace

class VirtualRankGroup {
public:
  VirtualRankGroup(int size, int device, int64_t timeoutMs)
      : size(size), device(device),
        timeoutMs(timeoutMs > 0 ? timeoutMs : Communicator::defaultTimeoutMs()) {}
  int size, device;
  int64_t timeoutMs;
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::shared_ptr<Slot>> slots;
  bool failed = false;
  std::string why;
  /// split(): (color, key) of every rank by operation number, the groups
  /// made for it and how many ranks still have to take theirs.
  struct SplitSlot {
    std::vector<std::pair<int, int>> colorKey;
    int present = 0, left = 0;
    std::map<int, std::shared_ptr<VirtualRankGroup>> groups;
  };
  std::map<uint64_t, SplitSlot> splits;
  std::vector<std::weak_ptr<VirtualRankGroup>> children; ///< failed with this

  std::shared_ptr<Slot> slot(uint64_t seq) {
    auto &s = slots[seq];
    if (!s) s = std::make_shared<Slot>(size);
    return s;
  }
  /// Waits (lock held) until pred, failure or the deadline.
  template <typename Pred>
  void waitFor(std::unique_lock<std::mutex> &lk, Pred pred, int rank, uint64_t seq,
               OpKind kind, const char *phase) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!pred()) {
      if (failed)
        fail(ErrorCode::Comm, "virtual rank " + std::to_string(rank) + ": " + opName(kind) +
                                  " #" + std::to_string(seq) + " aborted: " + why);
      if (cv.wait_until(lk, deadline) == std::cv_status::timeout && !pred()) {
        failed = true;
        why = "rank " + std::to_string(rank) + " timed out after " + std::to_string(timeoutMs) +
              " ms in " + opName(kind) + " #" + std::to_string(seq) + " (" + phase + ")";
        cv.notify_all();
        fail(ErrorCode::Timeout, "virtual rank " + std::to_string(rank) + ": " + why);
      }
    }
  }
};

namespace {

class VirtualRequest final : public CommRequest {
public:
  VirtualRequest(VirtualRankGroup &g, std::shared_ptr<Slot> s, uint64_t seq, int rank,
                 OpKind kind, cudaStream_t stream)
      : g(g), s(std::move(s)), seq(seq), rank(rank), kind(kind), stream(stream) {}
  ~VirtualRequest() override {
    if (s) release();
  }
  void wait() override {
    if (!s) return;
    {
      std::unique_lock<std::mutex> lk(g.mu);
      g.waitFor(lk, [&] { return s->done == g.size; }, rank, seq, kind, "waiting for peers");
      for (Pub &p : s->pubs) CPRT_CUDA_CHECK(cudaStreamWaitEvent(stream, p.doneEv, 0));
    }
    release();
  }

private:
  void release() {
    std::lock_guard<std::mutex> lk(g.mu);
    if (++s->released == g.size) g.slots.erase(seq);
    s.reset();
  }
  VirtualRankGroup &g;
  std::shared_ptr<Slot> s;
  uint64_t seq;
  int rank;
  OpKind kind;
  cudaStream_t stream;
};

class VirtualRankCommunicator final : public GpuCommunicator {
public:
  VirtualRankCommunicator(std::shared_ptr<VirtualRankGroup> g, int rank)
      : g(std::move(g)), rank_(rank) {
    device_ = this->g->device;
    timeoutMs_ = this->g->timeoutMs;
    CPRT_CUDA_CHECK(cudaSetDevice(device_));
    CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&commStream, cudaStreamNonBlocking));
  }
  ~VirtualRankCommunicator() override {
    cudaStreamSynchronize(commStream);
    cudaStreamDestroy(commStream);
  }
  int rank() const override { return rank_; }
  int size() const override { return g->size; }
  const char *name() const override { return "virtual-ranks"; }

  CommRequestPtr startShift(const void *send, void *recv, size_t bytes, int offset) override {
    Pub p;
    p.kind = OpKind::Shift; p.send = send; p.recv = recv; p.bytes = bytes; p.offset = offset;
    return start(std::move(p));
  }
  CommRequestPtr startAllGather(const void *send, void *recv, size_t bytes) override {
    Pub p;
    p.kind = OpKind::AllGather; p.send = send; p.recv = recv; p.bytes = bytes;
    return start(std::move(p));
  }
  CommRequestPtr startAllToAllV(const void *send, const size_t *sendCounts,
                                const size_t *sendOffsets, void *recv, const size_t *recvCounts,
                                const size_t *recvOffsets) override {
    Pub p;
    p.kind = OpKind::AllToAllV; p.send = send; p.recv = recv;
    const int W = size();
    p.sendCounts.assign(sendCounts, sendCounts + W);
    p.sendOffsets.assign(sendOffsets, sendOffsets + W);
    recvCounts_.assign(recvCounts, recvCounts + W);
    recvOffsets_.assign(recvOffsets, recvOffsets + W);
    return start(std::move(p));
  }
  CommRequestPtr startReduceScatterSumF32(const float *send, float *recv,
                                          size_t count) override {
    Pub p;
    p.kind = OpKind::ReduceScatter; p.send = send; p.recv = recv; p.bytes = count * 4;
    return start(std::move(p));
  }
  void barrier() override {
    Pub p;
    p.kind = OpKind::Barrier;
    start(std::move(p))->wait();
  }
  void synchronize() override {
    CPRT_CUDA_CHECK(cudaStreamSynchronize(commStream));
    CPRT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  /// A sub-group per color on the same device, agreed on by a host-side
  /// rendezvous (no device traffic); a failure of this group fails them.
  std::unique_ptr<Communicator> split(int color, int key) override {
    const uint64_t seq = nextSeq++;
    const int W = size();
    std::shared_ptr<VirtualRankGroup> sub;
    int newRank = 0;
    {
      std::unique_lock<std::mutex> lk(g->mu);
      if (g->failed) fail(ErrorCode::Comm, "virtual rank " + std::to_string(rank_) +
                                               ": split aborted: " + g->why);
      auto &sl = g->splits[seq];
      if (sl.colorKey.empty()) sl.colorKey.assign(W, {-1, 0}), sl.left = W;
      sl.colorKey[rank_] = {color, key};
      ++sl.present;
      g->cv.notify_all();
      g->waitFor(lk, [&] { return sl.present == W; }, rank_, seq, OpKind::Barrier, "split");
      std::vector<int> members;
      for (int j = 0; j < W; ++j)
        if (color >= 0 && sl.colorKey[j].first == color) members.push_back(j);
      std::stable_sort(members.begin(), members.end(), [&](int a, int b) {
        return sl.colorKey[a].second < sl.colorKey[b].second;
      });
      if (color >= 0) {
        newRank = int(std::find(members.begin(), members.end(), rank_) - members.begin());
        auto &grp = sl.groups[color];
        if (!grp) {
          grp = std::make_shared<VirtualRankGroup>(int(members.size()), g->device, timeoutMs_);
          g->children.push_back(grp);
        }
        sub = grp;
      }
      if (--sl.left == 0) g->splits.erase(seq);
    }
    if (!sub) return nullptr;
    auto c = std::make_unique<VirtualRankCommunicator>(std::move(sub), newRank);
    c->setStream(stream_);
    return c;
  }

private:
  CommRequestPtr start(Pub mine) {
    const uint64_t seq = nextSeq++;
    const int W = size(), r = rank_;
    const OpKind kind = mine.kind;
    CPRT_CUDA_CHECK(cudaEventCreateWithFlags(&mine.ready, cudaEventDisableTiming));
    CPRT_CUDA_CHECK(cudaEventCreateWithFlags(&mine.doneEv, cudaEventDisableTiming));
    CPRT_CUDA_CHECK(cudaEventRecord(mine.ready, stream_));
    std::shared_ptr<Slot> s;
    {
      std::unique_lock<std::mutex> lk(g->mu);
      if (g->failed)
        fail(ErrorCode::Comm, "virtual rank " + std::to_string(r) + ": " + opName(kind) +
                                  " aborted: " + g->why);
      s = g->slot(seq);
      mine.present = true;
      s->pubs[r] = std::move(mine);
      ++s->present;
      g->cv.notify_all();
      g->waitFor(lk, [&] { return s->present == W; }, r, seq, kind, "rendezvous");
      for (int j = 0; j < W; ++j)
        if (s->pubs[j].kind != kind)
          fail(ErrorCode::Comm, "virtual rank " + std::to_string(r) + ": operation #" +
                                    std::to_string(seq) + " mismatch: " + opName(kind) +
                                    " here, " + opName(s->pubs[j].kind) + " on rank " +
                                    std::to_string(j));
    }
    // Pubs are immutable from here on except `done`, guarded below.
    const Pub &me = s->pubs[r];
    for (int j = 0; j < W; ++j) CPRT_CUDA_CHECK(cudaStreamWaitEvent(commStream, s->pubs[j].ready, 0));
    char *recv = static_cast<char *>(me.recv);
    switch (kind) {
    case OpKind::Shift: {
      const Pub &src = s->pubs[((r - me.offset) % W + W) % W];
      check(src.bytes == me.bytes, "virtual ranks: shift size mismatch");
      copy(recv, src.send, me.bytes);
      break;
    }
    case OpKind::AllGather:
      for (int j = 0; j < W; ++j) copy(recv + j * me.bytes, s->pubs[j].send, me.bytes);
      break;
    case OpKind::AllToAllV:
      for (int j = 0; j < W; ++j) {
        const Pub &src = s->pubs[j];
        check(src.sendCounts[r] == recvCounts_[j],
              "virtual ranks: all-to-all count mismatch between ranks " + std::to_string(j) +
                  " and " + std::to_string(r));
        copy(recv + recvOffsets_[j], static_cast<const char *>(src.send) + src.sendOffsets[r],
             recvCounts_[j]);
      }
      break;
    case OpKind::ReduceScatter: {
      const size_t count = me.bytes / 4;
      float *out = reinterpret_cast<float *>(recv);
      for (int j = 0; j < W; ++j) {
        const float *blk = static_cast<const float *>(s->pubs[j].send) + size_t(r) * count;
        if (j == 0)
          copy(out, blk, me.bytes);
        else
          cuda::launchAddF32(out, blk, int64_t(count), commStream);
      }
      break;
    }
    case OpKind::Barrier: break;
    }
    CPRT_CUDA_CHECK(cudaEventRecord(me.doneEv, commStream));
    {
      std::lock_guard<std::mutex> lk(g->mu);
      s->pubs[r].done = true;
      ++s->done;
      g->cv.notify_all();
    }
    return std::make_unique<VirtualRequest>(*g, std::move(s), seq, r, kind, stream_);
  }

  void copy(void *dst, const void *src, size_t bytes) {
    if (bytes && dst != src)
      CPRT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, commStream));
  }

  std::shared_ptr<VirtualRankGroup> g;
  int rank_;
  uint64_t nextSeq = 0;
  cudaStream_t commStream = nullptr;
  std::vector<size_t> recvCounts_, recvOffsets_;
};

} // namespace

std::shared_ptr<VirtualRankGroup> makeVirtualRankGroup(int size, int device, int64_t timeoutMs) {
  check(size > 0, "virtual ranks: size must be > 0");
  if (device < 0) CPRT_CUDA_CHECK(cudaGetDevice(&device));
  return std::make_shared<VirtualRankGroup>(size, device, timeoutMs);
}

std::unique_ptr<GpuCommunicator> makeVirtualRankCommunicator(std::shared_ptr<VirtualRankGroup> g,
                                                             int rank) {
  check(g && rank >= 0 && rank < g->size, "virtual ranks: bad rank");
  return std::make_unique<VirtualRankCommunicator>(std::move(g), rank);
}

void virtualRankGroupFail(VirtualRankGroup &g, int rank, const std::string &why) {
  std::vector<std::shared_ptr<VirtualRankGroup>> kids;
  {
    std::lock_guard<std::mutex> lk(g.mu);
    if (!g.failed) {
      g.failed = true;
      g.why = "rank " + std::to_string(rank) + " failed: " + why;
    }
    for (auto &w : g.children)
      if (auto k = w.lock()) kids.push_back(std::move(k));
    g.cv.notify_all();
  }
  for (auto &k : kids) virtualRankGroupFail(*k, rank, why); // rank: the parent's
}

void runVirtualRanks(int size, const std::function<void(int, GpuCommunicator &)> &fn, int device,
                     int64_t timeoutMs) {
  auto g = makeVirtualRankGroup(size, device, timeoutMs);
  std::vector<std::exception_ptr> errors(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      cudaStream_t st = nullptr;
      try {
        CPRT_CUDA_CHECK(cudaSetDevice(g->device));
        CPRT_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
        auto comm = makeVirtualRankCommunicator(g, r);
        comm->setStream(st);
        fn(r, *comm);
        comm->synchronize();
      } catch (const std::exception &e) {
        errors[r] = std::current_exception();
        virtualRankGroupFail(*g, r, e.what());
      } catch (...) {
        errors[r] = std::current_exception();
        virtualRankGroupFail(*g, r, "unknown exception");
      }
      if (st) {
        cudaStreamSynchronize(st);
        cudaStreamDestroy(st);
      }
    });
  for (auto &t : threads) t.join();
  // Prefer the root cause over the "aborted" echoes of the other ranks.
  std::exception_ptr first;
  for (auto &e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Error &err) {
      if (!first || err.code() != ErrorCode::Comm) first = e;
      if (err.code() != ErrorCode::Comm) break;
    } catch (...) {
      first = e;
      break;
    }
  }
  if (first) std::rethrow_exception(first);
}

} // namespace cprt
