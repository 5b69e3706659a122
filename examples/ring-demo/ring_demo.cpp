//===- ring_demo.cpp - ring attention on N CPU ranks vs one device --------===//
//
// The runtime half of the demo: runs causal ring attention of one sequence
// on N thread ranks through the C ABI (shard, ring attention, unshard) for
// every rotate method and balancer, and compares each result with the
// single-device kernel on the whole sequence. Prints a table; exits 1 if any
// error exceeds the fp32 tolerance.
//
// Usage: cp-ring-demo [ranks=4] [seq=1000] [heads=8] [kv_heads=2] [dim=64]
//
//===----------------------------------------------------------------------===//

#include "cprt/cprt.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

struct Problem {
  int64_t B = 1, Hq = 8, Hkv = 2, S = 1000, D = 64;
  std::vector<float> q, k, v, ref;
  cprt_rotate rotate = CPRT_ROTATE_RING;
  cprt_balancer balancer = CPRT_BALANCE_HEAD_TAIL;
  std::vector<float> out; // gathered result
  double seconds = 0;
};

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != CPRT_OK) {                                                   \
      std::fprintf(stderr, "rank %d: %s failed: %s\n", rank, #call,            \
                   cprt_last_error());                                         \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int runRank(int rank, int size, void *user) {
  Problem &p = *static_cast<Problem *>(user);
  int64_t L = 0;
  CHECK(cprt_layout(p.balancer, p.S, nullptr, &L, nullptr));
  int64_t qShape[4] = {p.B, p.Hq, p.S, p.D}, kvShape[4] = {p.B, p.Hkv, p.S, p.D};
  std::vector<float> q(p.B * p.Hq * L * p.D), k(p.B * p.Hkv * L * p.D),
      v(k.size()), out(q.size());
  CHECK(cprt_shard(p.q.data(), q.data(), qShape, 4, 2, 4, p.balancer, nullptr));
  CHECK(cprt_shard(p.k.data(), k.data(), kvShape, 4, 2, 4, p.balancer, nullptr));
  CHECK(cprt_shard(p.v.data(), v.data(), kvShape, 4, 2, 4, p.balancer, nullptr));
  CHECK(cprt_barrier());
  auto t0 = std::chrono::steady_clock::now();
  CHECK(cprt_ring_attention_fwd(CPRT_F32, p.B, p.Hq, p.Hkv, L, p.D, q.data(),
                                k.data(), v.data(), out.data(), nullptr, 0.0f,
                                /*is_causal=*/1, p.rotate, p.balancer, p.S,
                                nullptr));
  CHECK(cprt_barrier());
  auto t1 = std::chrono::steady_clock::now();
  std::vector<float> whole(p.q.size());
  CHECK(cprt_unshard(out.data(), whole.data(), qShape, 4, 2, 4, p.balancer,
                     nullptr));
  if (rank == 0) {
    p.out = std::move(whole);
    p.seconds = std::chrono::duration<double>(t1 - t0).count();
  }
  (void)size;
  return 0;
}

const char *rotateName(cprt_rotate r) {
  return r == CPRT_ROTATE_RING ? "ring"
         : r == CPRT_ROTATE_ALLTOALL ? "alltoall" : "allgather";
}
const char *balancerName(cprt_balancer b) {
  return b == CPRT_BALANCE_NONE ? "none"
         : b == CPRT_BALANCE_HEAD_TAIL ? "head_tail" : "striped";
}

} // namespace

int main(int argc, char **argv) {
  int ranks = argc > 1 ? std::atoi(argv[1]) : 4;
  Problem p;
  if (argc > 2) p.S = std::atoll(argv[2]);
  if (argc > 3) p.Hq = std::atoll(argv[3]);
  if (argc > 4) p.Hkv = std::atoll(argv[4]);
  if (argc > 5) p.D = std::atoll(argv[5]);
  if (ranks < 1 || p.S < 1 || p.Hq < 1 || p.Hkv < 1 || p.D < 1 ||
      p.Hq % p.Hkv != 0) {
    std::fprintf(stderr, "usage: cp-ring-demo [ranks>=1] [seq>=1] [heads] "
                         "[kv_heads dividing heads] [dim]\n");
    return 2;
  }
  std::mt19937 gen(20261124);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto fill = [&](std::vector<float> &x, int64_t n) {
    x.resize(n);
    for (float &e : x) e = dist(gen);
  };
  fill(p.q, p.B * p.Hq * p.S * p.D);
  fill(p.k, p.B * p.Hkv * p.S * p.D);
  fill(p.v, p.B * p.Hkv * p.S * p.D);

  // The single-device reference: one kernel call on the whole sequence.
  p.ref.resize(p.q.size());
  int rank = -1;
  CHECK(cprt_init_local());
  auto t0 = std::chrono::steady_clock::now();
  CHECK(cprt_sdpa_fwd(CPRT_F32, p.B, p.Hq, p.Hkv, p.S, p.S, p.D, p.q.data(),
                      p.k.data(), p.v.data(), p.ref.data(), nullptr, 0.0f, 1,
                      nullptr));
  double single = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - t0).count();

  std::printf("causal GQA attention: B=%lld Hq=%lld Hkv=%lld S=%lld D=%lld, "
              "%d CPU ranks (threads), fp32\n",
              (long long)p.B, (long long)p.Hq, (long long)p.Hkv,
              (long long)p.S, (long long)p.D, ranks);
  std::printf("single device: %.2f ms\n\n", single * 1e3);
  std::printf("| rotate    | balancer  | max abs err | max rel err | ring ms |\n");
  std::printf("|-----------|-----------|-------------|-------------|---------|\n");
  const double tol = 1e-5;
  bool ok = true;
  for (cprt_rotate r : {CPRT_ROTATE_RING, CPRT_ROTATE_ALLTOALL, CPRT_ROTATE_ALLGATHER})
    for (cprt_balancer b : {CPRT_BALANCE_NONE, CPRT_BALANCE_HEAD_TAIL, CPRT_BALANCE_STRIPED}) {
      p.rotate = r;
      p.balancer = b;
      if (cprt_run_threads(ranks, runRank, &p, 0) != CPRT_OK) {
        std::fprintf(stderr, "ring failed: %s\n", cprt_last_error());
        return 1;
      }
      double maxAbs = 0, maxRel = 0, refMax = 0;
      for (float x : p.ref) refMax = std::fmax(refMax, std::fabs(x));
      for (size_t i = 0; i < p.ref.size(); ++i) {
        double d = std::fabs((double)p.out[i] - p.ref[i]);
        if (!(d == d)) d = INFINITY; // NaN never passes
        maxAbs = std::fmax(maxAbs, d);
      }
      maxRel = maxAbs / refMax;
      ok &= maxRel <= tol;
      std::printf("| %-9s | %-9s | %11.3e | %11.3e | %7.2f |\n", rotateName(r),
                  balancerName(b), maxAbs, maxRel, p.seconds * 1e3);
    }
  std::printf("\n%s (tolerance: max abs error / max |ref| <= %.0e)\n",
              ok ? "all match the single-device result" : "MISMATCH", tol);
  return ok ? 0 : 1;
}
