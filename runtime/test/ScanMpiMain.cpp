//===- ScanMpiMain.cpp - exscan and sequence scans across MPI processes ---===//
//
// Run with mpirun -np N (an odd N included): the cases of ScanCases.h on
// the MPI communicator. Exit code 0 = pass.
//
//===----------------------------------------------------------------------===//
#include "ScanCases.h"

#include "cprt/Error.h"

#include <mpi.h>

#include <cstdio>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int bad = 0;
  try {
    auto comm = cprt::makeMpiCommunicator();
    std::string err = cprt::test::runScanCases(*comm);
    if (!err.empty()) {
      std::fprintf(stderr, "%s", err.c_str());
      bad = 1;
    }
    comm->barrier();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    bad = 1;
  }
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
