//===- Options.h - cp-run's command line, progress and errors ---*- C++ -*-===//
//
// The command-line options (llvm::cl, category "cp-run options"), their
// checks, the exit codes, and the progress and error lines on stderr.
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_OPTIONS_H
#define CP_RUN_OPTIONS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace cprun {

enum ExitCode {
  kOk = 0,
  kUsage = 1,
  kCompile = 2,
  kRuntime = 3,
  kMismatch = 4,
};

enum class Comm { Threads, Mpi };
enum class Backend { Cpu, Cuda };

extern llvm::cl::opt<std::string> inputFile;
extern llvm::cl::opt<std::string> entryName;
extern llvm::cl::opt<int> numRanks;
extern llvm::cl::opt<Comm> comm;
extern llvm::cl::opt<Backend> backend;
extern llvm::cl::opt<std::string> pipelineOpts;
extern llvm::cl::list<std::string> inputPaths;
extern llvm::cl::list<std::string> outputPaths;
extern llvm::cl::opt<bool> randomInputs;
extern llvm::cl::opt<uint64_t> seed;
extern llvm::cl::opt<bool> compareSingle;
extern llvm::cl::opt<std::string> referenceFile;
extern llvm::cl::opt<bool> allowReplicated;
extern llvm::cl::list<std::string> expectPaths;
extern llvm::cl::opt<double> rtolOpt;
extern llvm::cl::opt<double> atolOpt;
extern llvm::cl::opt<int64_t> timeoutMs;
extern llvm::cl::opt<int> repeat;
extern llvm::cl::opt<bool> allowNonFinite;
extern llvm::cl::opt<bool> runtimeInfo;
extern llvm::cl::opt<bool> quiet;
extern llvm::cl::opt<std::string> emitObject;
extern llvm::cl::opt<std::string> emitHeader;
extern llvm::cl::opt<std::string> emitLLVM;
extern llvm::cl::opt<std::string> emitMLIR;

/// Parses the command line (only cp-run's options are shown by --help).
void parseOptions(int argc, char **argv);

/// Whether the run compiles ahead of time (--emit-object, --emit-header or
/// --emit-llvm) instead of running.
bool isAot();

/// Checks the options that do not depend on the module (input file, entry,
/// backend, --ranks, --repeat, --timeout-ms, --compare-single-device);
/// returns kOk or the exit code after the error.
int checkOptions();

/// MPI rank of this process (0 in thread mode).
extern int myRank;

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0);

/// A progress line on rank 0 unless --quiet.
void progress(const llvm::Twine &msg);
/// A timing line: phase name, milliseconds, optional detail.
void phase(llvm::StringRef name, double ms, llvm::StringRef extra = "");
/// Prints "cp-run: error[ (rank R)]: msg" and returns `code`.
int error(int code, const llvm::Twine &msg);

} // namespace cprun

#endif // CP_RUN_OPTIONS_H
