#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <exception>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace cprt {

static thread_local RankContext *tlsContext = nullptr;

RankContext *currentContext() { return tlsContext; }
void setCurrentContext(RankContext *ctx) { tlsContext = ctx; }

RankContext &requireContext() {
  if (!tlsContext)
    fail(ErrorCode::Invalid,
         "cprt: no rank context on this thread (use cprt_run_threads, "
         "cprt_init_mpi or cprt_init_local)");
  return *tlsContext;
}

const ShardLayout &RankContext::layout(Balancer b, int64_t seqLen,
                                       const int32_t *docIds) {
  const int W = comm->size();
  if (b == Balancer::PerDocumentHeadTail) {
    BalancerOptions o;
    o.docIds = docIds;
    scratch_ = makeLayout(b, seqLen, W, o);
    return scratch_;
  }
  auto key = std::make_pair(int(b), seqLen);
  auto it = layouts.find(key);
  if (it == layouts.end())
    it = layouts.emplace(key, makeLayout(b, seqLen, W)).first;
  return it->second;
}

void runThreadRanks(int n, const std::function<void(int, int)> &fn,
                    int64_t timeoutMs) {
  check(n > 0, "cprt_run_threads: need at least one rank");
  auto group = makeThreadGroup(n, timeoutMs);
  const int ompPerRank = std::max(1, hardwareThreads() / n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<int> order; // ranks in the order they failed
  std::mutex orderMu;
  auto rankMain = [&](int r) {
    RankContext ctx;
    try {
      ctx.comm = makeThreadCommunicator(group, r);
      ctx.backend = std::make_unique<CpuBackend>(ompPerRank);
      setCurrentContext(&ctx);
      fn(r, n);
    } catch (const std::exception &e) {
      errors[r] = std::current_exception();
      { std::lock_guard<std::mutex> l(orderMu); order.push_back(r); }
      threadGroupFail(*group, r, e.what());
    } catch (...) {
      errors[r] = std::current_exception();
      { std::lock_guard<std::mutex> l(orderMu); order.push_back(r); }
      threadGroupFail(*group, r, "unknown exception");
    }
    setCurrentContext(nullptr);
    // ctx.comm's destructor marks this rank as exited.
  };
  // A failed thread start must not leave joinable threads to std::terminate:
  // the started ranks are told a peer failed, joined, and the error says why.
  std::vector<std::thread> threads;
  threads.reserve(n);
  std::string startError;
  for (int r = 0; r < n && startError.empty(); ++r) {
    try {
      threads.emplace_back(rankMain, r);
    } catch (const std::exception &e) { // std::system_error, bad_alloc
      startError = "cprt_run_threads: cannot start the thread of rank " +
                   std::to_string(r) + " of " + std::to_string(n) +
                   " thread ranks: " + e.what() +
                   " (too many ranks for this machine's thread or memory "
                   "limits)";
      threadGroupFail(*group, r, startError);
    }
  }
  for (auto &t : threads) t.join();
  if (!startError.empty()) fail(ErrorCode::Invalid, startError);
  if (!order.empty()) std::rethrow_exception(errors[order.front()]);
}

} // namespace cprt
