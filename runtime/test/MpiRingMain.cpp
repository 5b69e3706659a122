//===- MpiRingMain.cpp - Ring attention across MPI processes --------------===//
//
// Run with mpirun -np 4: every rank builds the same global inputs, shards
// them, runs the ring forward and backward over MPI, all-gathers the results
// and checks them against the float64 reference. Exit code 0 = pass.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/RingAttention.h"
#include "cprt/cprt.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cprt/Error.h"

#include <mpi.h>

using namespace cprt;
using namespace cprt::test;

static int runCase(RotateMethod rot, Balancer bal, bool causal, int64_t window,
                   bool docsMask) {
  RankContext &ctx = requireContext();
  Communicator &comm = *ctx.comm;
  const int W = comm.size(), r = comm.rank();
  const int64_t B = 1, Hq = 4, Hkv = 2, S = 6 * W + 3, D = 8;
  std::mt19937_64 rng(2024);
  const size_t nq = B * Hq * S * D, nk = B * Hkv * S * D;
  Buffer q = randomBuffer(DType::F32, nq, rng), k = randomBuffer(DType::F32, nk, rng),
         v = randomBuffer(DType::F32, nk, rng), g = randomBuffer(DType::F32, nq, rng);
  std::vector<int32_t> docs(S);
  for (int64_t i = 0; i < S; ++i) docs[i] = int32_t(i / 7);
  RingOptions o;
  o.rotate = rot;
  o.causal = causal;
  o.mask.windowLeft = window;
  if (docsMask) { o.mask.docIds = docs.data(); o.mask.docLen = S; }
  AttentionParams gp;
  gp.shape = {B, Hq, Hkv, S, S, D};
  gp.mask = o.mask;
  gp.mask.causal = causal;
  RefResult ref = refForward(gp, q.ref, k.ref, v.ref);
  refBackward(gp, q.ref, k.ref, v.ref, g.ref, ref);

  BalancerOptions bo;
  bo.docIds = docs.data();
  ShardLayout l = makeLayout(bal, S, W, bo);
  const int64_t L = l.localLen;
  const size_t lq = B * Hq * L * D, lk = B * Hkv * L * D;
  std::vector<float> sq(lq), sk(lk), sv(lk), sg(lq), out(lq), dq(lq), dk(lk), dv(lk),
      lse(B * Hq * L);
  const int64_t shQ[4] = {B, Hq, S, D}, shK[4] = {B, Hkv, S, D};
  shardBuffer(q.f32.data(), sq.data(), shQ, 4, 2, 4, l, r);
  shardBuffer(k.f32.data(), sk.data(), shK, 4, 2, 4, l, r);
  shardBuffer(v.f32.data(), sv.data(), shK, 4, 2, 4, l, r);
  shardBuffer(g.f32.data(), sg.data(), shQ, 4, 2, 4, l, r);
  AttentionShape local{B, Hq, Hkv, L, L, D};
  ringAttentionForward(comm, *ctx.backend, l, o, local, DType::F32, sq.data(),
                       sk.data(), sv.data(), out.data(), lse.data());
  ringAttentionBackward(comm, *ctx.backend, l, o, local, DType::F32, sg.data(),
                        sq.data(), sk.data(), sv.data(), out.data(), lse.data(),
                        dq.data(), dk.data(), dv.data());
  int bad = 0;
  auto check = [&](const char *name, std::vector<float> &loc, const int64_t *sh,
                   const std::vector<double> &want) {
    std::vector<float> all(loc.size() * W), glob(want.size());
    comm.allGather(loc.data(), all.data(), loc.size() * 4);
    unshardBuffer(all.data(), glob.data(), sh, 4, 2, 4, l);
    std::string m = compare(name, std::vector<double>(glob.begin(), glob.end()),
                            want, 4e-5, 4e-5);
    if (!m.empty()) {
      std::fprintf(stderr, "rank %d %s/%s: %s\n", r, rotateName(rot),
                   balancerName(bal), m.c_str());
      ++bad;
    }
  };
  check("out", out, shQ, ref.out);
  check("dq", dq, shQ, ref.dq);
  check("dk", dk, shK, ref.dk);
  check("dv", dv, shK, ref.dv);
  return bad;
}

/// --silent-peer: rank 1 never joins a ring shift; rank 0 must get a
/// timeout error naming itself, the operation and the peer, then aborts
/// the job (MPI cannot cancel the pending operations).
static int silentPeer() {
  RankContext &ctx = requireContext();
  if (ctx.comm->rank() == 0) {
    ctx.comm->setTimeoutMs(500);
    int x = 1, y = 0;
    try {
      ctx.comm->shift(&x, &y, sizeof x);
      std::printf("no error: FAIL\n");
    } catch (const Error &e) {
      std::printf("expected error: %s\n", e.what());
      const std::string m = e.what();
      if (e.code() == ErrorCode::Timeout && m.find("ring_shift") != m.npos &&
          m.find("rank 0") != m.npos)
        std::printf("SILENT-PEER-OK\n");
    }
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 0);
  }
  std::this_thread::sleep_for(std::chrono::seconds(20)); // never joins
  return 1;
}

int main(int argc, char **argv) {
  if (cprt_init_mpi(&argc, &argv, 30000) != CPRT_OK) {
    std::fprintf(stderr, "init: %s\n", cprt_last_error());
    return 2;
  }
  if (argc > 1 && std::string(argv[1]) == "--silent-peer") return silentPeer();
  int bad = 0;
  try {
    bad += runCase(RotateMethod::Ring, Balancer::HeadTail, true, 0, false);
    bad += runCase(RotateMethod::AllToAll, Balancer::Striped, true, 5, false);
    bad += runCase(RotateMethod::AllGather, Balancer::PerDocumentHeadTail, true, 0, true);
    bad += runCase(RotateMethod::Ring, Balancer::None, false, 0, false);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    bad += 100;
  }
  int total = 0;
  MPI_Allreduce(&bad, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (cprt_rank() == 0)
    std::printf("%s: %d mismatching checks over %d ranks\n",
                total ? "FAIL" : "PASS", total, cprt_size());
  cprt_finalize_mpi();
  return total ? 1 : 0;
}
