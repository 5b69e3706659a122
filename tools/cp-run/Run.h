//===- Run.h - cp-run: inputs, ranks, sharding, outputs ---------*- C++ -*-===//
//
// Reads (or draws) the whole inputs, runs the JIT-compiled entry on N ranks
// (threads of this process or MPI processes): each rank shards the inputs
// with the runtime's load balancer, calls the entry and unshards the
// results; rank 0 writes the whole outputs.
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_RUN_H
#define CP_RUN_RUN_H

#include "Compile.h"
#include "Npy.h"

#include <string>
#include <vector>

namespace cprun {

/// The runtime's last error after `what`.
std::string cprtError(const char *what);

/// The ranks of the run and this process's place in it.
struct RankSetup {
  int ranks = 1; ///< how many ranks run the entry
  int self = 0;  ///< this process's rank (MPI; 0 with threads)
};

/// Starts MPI with --comm mpi (not for AOT) and settles the number of ranks
/// (default: the MPI world, or one thread rank) and this process's rank into
/// `setup`; returns kOk or the exit code after the error.
int initRanks(const RunOptions &opts, int &argc, char **&argv,
              RankSetup &setup);

/// The whole inputs of the entry: --inputs converted to the arguments'
/// element types, or --random-inputs.
bool loadInputs(const RunOptions &opts, const EntrySig &sig,
                std::vector<HostTensor> &inputs, std::string &err);

/// Checks --outputs against the entry's results and that every output can be
/// written (on rank 0), before the run; returns kOk or the exit code.
int checkOutputs(const RunOptions &opts, const EntrySig &sig,
                 const RankSetup &setup);

struct RankTimes {
  double shardMs = 0, computeMs = 0, unshardMs = 0;
  double bestComputeMs = 1e300; ///< the fastest of the --repeat runs
};

/// Runs `fn` on the calling thread's current rank context: shards the global
/// inputs, calls the entry `repeat` times, unshards the results. `outputs`
/// (rank 0 only) receives the whole results.
bool runRank(void (*fn)(void **), const EntrySig &sig,
             const std::vector<HostTensor> &inputs, int repeat,
             std::vector<HostTensor> *outputs, RankTimes &times,
             std::string &err);

/// Runs the entry on `ranks` ranks (--comm threads or mpi) and prints the
/// timings; rank 0 receives the whole results in `outputs`. Returns kOk or
/// the exit code after the error.
int runOnRanks(const RunOptions &opts, const Compiled &compiled,
               const EntrySig &sig, int ranks,
               const std::vector<HostTensor> &inputs,
               std::vector<HostTensor> &outputs);

/// Writes --outputs (rank 0): each to a temporary file first, then all are
/// renamed, so a failed write leaves no partial output. Returns kOk or the
/// exit code.
int writeOutputs(const RunOptions &opts,
                 const std::vector<HostTensor> &outputs);

} // namespace cprun

#endif // CP_RUN_RUN_H
