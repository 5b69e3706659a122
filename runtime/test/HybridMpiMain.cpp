//===- HybridMpiMain.cpp - Grid communicators and hybrid attention on MPI -===//
//
// Run with mpirun -np N: for every Ulysses size U dividing N, splits
// MPI_COMM_WORLD into rows and columns (MPI_Comm_split) and checks shifts and
// all-to-alls inside them, then runs the hybrid forward and backward on the
// U x N/U grid and compares every rank's shard with the float64 reference
// (HybridCases.h). Exit code 0 = pass.
//
//===----------------------------------------------------------------------===//
#include "HybridCases.h"

#include "cprt/Context.h"
#include "cprt/cprt.h"

#include <cstdio>
#include <string>

#include <mpi.h>

using namespace cprt;
using namespace cprt::test;

int main(int argc, char **argv) {
  if (cprt_init_mpi(&argc, &argv, 30000) != CPRT_OK) {
    std::fprintf(stderr, "init: %s\n", cprt_last_error());
    return 2;
  }
  int bad = 0;
  try {
    RankContext &ctx = requireContext();
    Communicator &world = *ctx.comm;
    const int N = world.size();
    for (int U = 1; U <= N; ++U) {
      if (N % U) continue;
      std::string m = checkGridComms(world, U);
      HybridCase c{U, N / U, /*causal=*/U % 2 == 0};
      c.Hq = 12;
      c.Hkv = U == 4 || U == 6 ? 2 : 1; // 4, 6: replicated; else split/1
      if (12 % U == 0) {
        HybridData d = makeHybridData(c);
        m += checkHybridRank(c, d, world, *ctx.backend);
      }
      if (!m.empty()) {
        std::fprintf(stderr, "%s\n", m.c_str());
        ++bad;
      }
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    bad += 100;
  }
  int total = 0;
  MPI_Allreduce(&bad, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (cprt_rank() == 0)
    std::printf("%s: %d failing grids over %d ranks\n", total ? "FAIL" : "PASS",
                total, cprt_size());
  cprt_finalize_mpi();
  return total ? 1 : 0;
}
