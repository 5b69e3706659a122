//===- cp-run.cpp - run a module on N ranks, or compile it ahead of time --===//
//
// cp-run takes a single-device or per-rank MLIR module, (optionally) applies
// the cp pipeline, lowers it to LLVM with buildCPLowerToLLVMPipeline, and
// either JIT-runs its entry on N ranks (threads of this process or MPI
// processes) on whole tensors from .npy files, or writes an object file and
// a C header for a host program. See docs/cp-run.md.
//
// The units: Options (the command line read once into a RunOptions that
// every other unit receives; progress, errors), Compile (parse, cp
// pipeline, entry signature, lowering, JIT), Run (inputs, ranks, sharding,
// outputs), Compare (--expect, --compare-single-device) and Emit
// (--emit-mlir and the AOT outputs).
//
// Exit codes: 0 success, 1 usage or input error, 2 compilation error,
// 3 run-time error (a rank failed), 4 outputs beyond tolerance.
//
//===----------------------------------------------------------------------===//

#include "Compare.h"
#include "Compile.h"
#include "Emit.h"
#include "Options.h"
#include "Run.h"
#include "RuntimeSymbols.h"

#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#ifdef CPRT_HAVE_MPI
#include <mpi.h>
#endif

#include <cstdio>

using namespace cprun;

namespace {

/// Runs the compiled entry on the ranks of `setup`, writes the outputs and
/// compares them (rank 0); returns the exit code.
int runAndCompare(const RunOptions &opts, Session &s, const EntrySig &sig,
                  const RankSetup &setup) {
  std::string err;
  auto t4 = Clock::now();
  Compiled compiled;
  if (failed(jitCompile(*s.module, opts.entry, compiled, err)))
    return error(kCompile, err);
  phase("JIT compile", msSince(t4));

  std::vector<HostTensor> inputs;
  auto t5 = Clock::now();
  if (!loadInputs(opts, sig, inputs, err))
    return error(kUsage, err);
  phase(opts.randomInputs ? "random inputs" : "read inputs", msSince(t5),
        opts.randomInputs ? "seed " + std::to_string(opts.seed) : "");
  if (int rc = checkOutputs(opts, sig, setup))
    return rc;

  std::vector<HostTensor> outputs;
  if (int rc = runOnRanks(opts, compiled, sig, setup.ranks, inputs, outputs))
    return rc;
  if (setup.self != 0)
    return kOk;
  if (int rc = writeOutputs(opts, outputs))
    return rc;
  int rc = compareExpected(opts, outputs);
  if (rc != kOk && rc != kMismatch)
    return rc;
  if (opts.compareSingle) {
    int refRc = compareSingleDevice(opts, *s.reference, sig, inputs, outputs);
    if (refRc != kOk && refRc != kMismatch)
      return refRc;
    if (refRc == kMismatch)
      rc = kMismatch;
  }
  return rc;
}

int realMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  const RunOptions opts = parseOptions(argc, argv);
  if (opts.runtimeInfo) {
    llvm::outs() << "cprt: mpi=" << cprt_has_mpi()
                 << " cuda=0 symbols=" << runtimeSymbols().size() << "\n";
    return kOk;
  }
  if (int rc = checkOptions(opts))
    return rc;
  RankSetup setup;
  if (int rc = initRanks(opts, argc, argv, setup))
    return rc;
  if (opts.compareSingle && !opts.pipeline && opts.reference.empty())
    return error(kUsage, "--compare-single-device needs --pipeline (the "
                         "module before it is the single-device one) or "
                         "--reference FILE");

  Session s;
  EntrySig sig;
  if (int rc = loadAndTransform(opts, s, setup.ranks, sig))
    return rc;
  if (int rc = emitMLIRFile(opts, *s.module))
    return rc;
  auto t2 = Clock::now();
  std::string err;
  if (failed(lowerAndCheck(opts, *s.module, sig, err)))
    return error(kCompile, err);
  phase("lower to LLVM dialect", msSince(t2));
  if (opts.isAot())
    return emitAot(opts, *s.module, sig);

  int rc = runAndCompare(opts, s, sig, setup);
  if (rc != kOk && rc != kMismatch)
    return rc;
  if (opts.comm == Comm::Mpi)
    cprt_finalize_mpi();
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  int rc = realMain(argc, argv);
  std::fflush(stdout);
  llvm::errs().flush();
#ifdef CPRT_HAVE_MPI
  // A rank that fails alone would leave its peers waiting: end the job.
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (rc != kOk && initialized && !finalized)
    MPI_Abort(MPI_COMM_WORLD, rc);
#endif
  return rc;
}
