//===- cprt_bench_cpu.cpp - CPU kernel and thread-ring benchmark ----------===//
//
// Prints a table: GFLOP/s of the blocked CPU attention forward and backward
// (flop convention: fwd = 4*B*H*Sq*Skv*D, halved for causal; bwd = 2.5x fwd,
// the usual FlashAttention count), and the wall time of a W-rank thread ring
// relative to one rank doing the same total work.
//
// Usage: cprt-bench-cpu [--quick]
//
//===----------------------------------------------------------------------===//
#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/Half.h"
#include "cprt/RingAttention.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace cprt;
using Clock = std::chrono::steady_clock;

static std::vector<uint16_t> randomStorage(DType t, size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<uint16_t> buf(n * (t == DType::F32 ? 2 : 1));
  for (size_t i = 0; i < n; ++i) {
    float f = u(rng);
    if (t == DType::F32) std::memcpy(buf.data() + 2 * i, &f, 4);
    else buf[i] = t == DType::BF16 ? floatToBf16(f) : floatToF16(f);
  }
  return buf;
}

template <typename F> static double bestSeconds(int reps, F &&f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

static void kernelRow(DType dt, int64_t B, int64_t H, int64_t S, int64_t D,
                      bool causal, int reps) {
  std::mt19937 rng(1);
  const size_t n = size_t(B * H * S * D);
  auto q = randomStorage(dt, n, rng), k = randomStorage(dt, n, rng),
       v = randomStorage(dt, n, rng), g = randomStorage(dt, n, rng);
  auto out = q, dq = q, dk = q, dv = q;
  std::vector<float> lse(B * H * S);
  AttentionParams p;
  p.shape = {B, H, H, S, S, D};
  p.stepCausal = causal ? StepCausal::Causal : StepCausal::NotCausal;
  CpuBackend be;
  auto view = [&](std::vector<uint16_t> &x) {
    return TensorView::contiguous(x.data(), dt, H, S, D);
  };
  ForwardArgs fa{view(q), view(k), view(v), view(out), lse.data()};
  BackwardArgs ba;
  ba.dout = view(g); ba.q = fa.q; ba.k = fa.k; ba.v = fa.v; ba.out = fa.out;
  ba.lse = lse.data(); ba.dq = view(dq); ba.dk = view(dk); ba.dv = view(dv);
  const double tf = bestSeconds(reps, [&] { be.forward(p, fa); });
  const double tb = bestSeconds(reps, [&] { be.backward(p, ba); });
  const double flops = 4.0 * B * H * S * S * D * (causal ? 0.5 : 1.0);
  std::printf("| %-4s | %d | %2lld | %5lld | %3lld | %-6s | %7.1f | %7.2f | %7.1f | %7.2f |\n",
              dtypeName(dt), be.numThreads(), (long long)H, (long long)S,
              (long long)D, causal ? "causal" : "full", tf * 1e3,
              flops / tf * 1e-9, tb * 1e3, 2.5 * flops / tb * 1e-9);
}

static double ringSeconds(int W, Balancer bal, RotateMethod rot, int64_t S,
                          int64_t H, int64_t D, bool causal, bool backward,
                          int reps) {
  std::mt19937 rng(2);
  const ShardLayout layout = makeLayout(bal, S, W);
  const int64_t L = layout.localLen;
  const size_t n = size_t(H * L * D);
  std::vector<std::vector<uint16_t>> q(W), k(W), v(W), g(W), o(W), dq(W), dk(W), dv(W);
  std::vector<std::vector<float>> lse(W, std::vector<float>(H * L));
  for (int r = 0; r < W; ++r) {
    q[r] = randomStorage(DType::F32, n, rng); k[r] = randomStorage(DType::F32, n, rng);
    v[r] = randomStorage(DType::F32, n, rng); g[r] = randomStorage(DType::F32, n, rng);
    o[r] = dq[r] = dk[r] = dv[r] = q[r];
  }
  RingOptions opts;
  opts.rotate = rot;
  opts.causal = causal;
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    std::vector<double> t(W);
    runThreadRanks(W, [&](int r, int) {
      RankContext &c = requireContext();
      AttentionShape sh{1, H, H, L, L, D};
      ringAttentionForward(*c.comm, *c.backend, layout, opts, sh, DType::F32,
                           q[r].data(), k[r].data(), v[r].data(), o[r].data(),
                           lse[r].data());
      c.comm->barrier();
      auto t0 = Clock::now();
      if (backward)
        ringAttentionBackward(*c.comm, *c.backend, layout, opts, sh, DType::F32,
                              g[r].data(), q[r].data(), k[r].data(), v[r].data(),
                              o[r].data(), lse[r].data(), dq[r].data(),
                              dk[r].data(), dv[r].data());
      else
        ringAttentionForward(*c.comm, *c.backend, layout, opts, sh, DType::F32,
                             q[r].data(), k[r].data(), v[r].data(), o[r].data(),
                             lse[r].data());
      c.comm->barrier();
      t[r] = std::chrono::duration<double>(Clock::now() - t0).count();
    });
    best = std::min(best, t[0]);
  }
  return best;
}

static std::string loadAverage() {
  std::string s;
  if (FILE *f = std::fopen("/proc/loadavg", "r")) {
    char buf[128] = {};
    if (std::fgets(buf, sizeof buf, f)) s = buf;
    std::fclose(f);
  }
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int reps = quick ? 1 : 3;
  std::printf("load average at start: %s (best of %d runs per row)\n\n",
              loadAverage().c_str(), reps);
  std::printf("## CPU attention kernel (B=1, Hq=Hkv)\n\n");
  std::printf("| dtype | threads | H | S | D | mask | fwd ms | fwd GFLOP/s | bwd ms | bwd GFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const int64_t S1 = quick ? 512 : 2048;
  for (DType dt : {DType::F32, DType::BF16})
    for (bool causal : {false, true})
      kernelRow(dt, 1, 8, S1, 64, causal, reps);
  kernelRow(DType::F32, 1, 8, S1, 128, false, reps);

  const int64_t S = quick ? 512 : 2048, H = 8, D = 64;
  std::printf("\n## Thread ring vs one rank, same total work (f32, S=%lld, H=%lld, D=%lld)\n\n",
              (long long)S, (long long)H, (long long)D);
  std::printf("| ranks | balancer | rotate | mask | pass | ms | vs 1 rank |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  struct Cfg { Balancer b; RotateMethod r; bool causal; };
  for (Cfg c : {Cfg{Balancer::HeadTail, RotateMethod::Ring, true},
                Cfg{Balancer::None, RotateMethod::Ring, true},
                Cfg{Balancer::None, RotateMethod::Ring, false},
                Cfg{Balancer::HeadTail, RotateMethod::AllGather, true}})
    for (bool bwd : {false, true}) {
      const double t1 = ringSeconds(1, c.b, c.r, S, H, D, c.causal, bwd, reps);
      const double t4 = ringSeconds(4, c.b, c.r, S, H, D, c.causal, bwd, reps);
      std::printf("| 1 | %s | %s | %s | %s | %.1f | 1.00 |\n", balancerName(c.b),
                  rotateName(c.r), c.causal ? "causal" : "full",
                  bwd ? "bwd" : "fwd", t1 * 1e3);
      std::printf("| 4 | %s | %s | %s | %s | %.1f | %.2f |\n", balancerName(c.b),
                  rotateName(c.r), c.causal ? "causal" : "full",
                  bwd ? "bwd" : "fwd", t4 * 1e3, t4 / t1);
    }
  std::printf("\nload average at end: %s\n", loadAverage().c_str());
  return 0;
}
