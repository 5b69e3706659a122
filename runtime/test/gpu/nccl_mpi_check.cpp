//===- nccl_mpi_check.cpp - NCCL bootstrapped over MPI (mpirun -np W) -----===//
//
// A small check of makeNcclCommunicatorMpi: rank 0's NCCL unique id goes out
// by MPI_Bcast, each rank takes GPU (local rank mod device count), then a ring
// shift, an all-gather and a barrier over NCCL are checked against known data.
// Run by test_nccl.py as `mpirun -np W cprt-nccl-mpi-check` when mpirun exists.
// Prints "PASS ..." (rank 0) and exits 0 when every rank passed. Every NCCL
// operation is bounded by the communicator timeout (CPRT_TIMEOUT_MS).
//
//===----------------------------------------------------------------------===//
#include "cprt/cuda/GpuCommunicator.h"

#include <cuda_runtime_api.h>
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void cuda(cudaError_t e, const char *what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

std::string run(int rank, int size) {
  auto comm = cprt::makeNcclCommunicatorMpi(-1, 0);
  if (comm->rank() != rank || comm->size() != size)
    return "NCCL rank/size " + std::to_string(comm->rank()) + "/" + std::to_string(comm->size()) +
           " differ from MPI's";
  cudaStream_t st;
  cuda(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "cudaStreamCreate");
  comm->setStream(st);
  const size_t n = 4096;
  std::vector<int> h(n), got(n * size);
  for (size_t i = 0; i < n; ++i) h[i] = rank * 100000 + int(i);
  int *send = nullptr, *recv = nullptr;
  cuda(cudaMalloc(reinterpret_cast<void **>(&send), n * 4), "cudaMalloc");
  cuda(cudaMalloc(reinterpret_cast<void **>(&recv), n * 4 * size), "cudaMalloc");
  cuda(cudaMemcpy(send, h.data(), n * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
  std::string err;
  // shift by one
  comm->startShift(send, recv, n * 4, 1)->wait();
  comm->synchronize();
  cuda(cudaMemcpy(got.data(), recv, n * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
  const int from = (rank - 1 + size) % size;
  for (size_t i = 0; i < n && err.empty(); ++i)
    if (got[i] != from * 100000 + int(i)) err = "shift: wrong data at " + std::to_string(i);
  // all-gather
  comm->startAllGather(send, recv, n * 4)->wait();
  comm->synchronize();
  cuda(cudaMemcpy(got.data(), recv, n * 4 * size, cudaMemcpyDeviceToHost), "cudaMemcpy");
  for (int j = 0; j < size && err.empty(); ++j)
    for (size_t i = 0; i < n && err.empty(); ++i)
      if (got[j * n + i] != j * 100000 + int(i))
        err = "all-gather: wrong data from rank " + std::to_string(j);
  comm->barrier();
  int dev = -1;
  cudaGetDevice(&dev);
  std::printf("rank %d/%d on GPU %d: %s\n", rank, size, dev, err.empty() ? "ok" : err.c_str());
  std::fflush(stdout);
  cudaFree(send);
  cudaFree(recv);
  comm.reset();
  cudaStreamDestroy(st);
  return err;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int bad = 0;
  try {
    const std::string err = run(rank, size);
    bad = !err.empty();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
    bad = 1;
  }
  int anyBad = bad;
  MPI_Allreduce(&bad, &anyBad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    std::printf("%s MPI bootstrap: NCCL over %d MPI ranks (MPI_Bcast of the id; shift, "
                "all-gather, barrier)\n",
                anyBad ? "FAIL" : "PASS", size);
  MPI_Finalize();
  return anyBad;
}
