//===- Options.h - cp-run's command line, progress and errors ---*- C++ -*-===//
//
// The command-line options as one RunOptions struct (read from llvm::cl
// options private to Options.cpp, category "cp-run options"), their checks,
// the exit codes, and the progress and error lines on stderr.
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_OPTIONS_H
#define CP_RUN_OPTIONS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

/// cp-run's command line, read once (parseOptions) and passed to the units
/// as `const RunOptions &`. Fields are named after their options.
struct RunOptions {
  std::string inputFile;          ///< the positional FILE.mlir
  std::string entry;              ///< --entry
  std::optional<int> ranks;       ///< --ranks, when given
  Comm comm = Comm::Threads;      ///< --comm
  Backend backend = Backend::Cpu; ///< --backend
  /// --pipeline's option string when given ("" or "default": defaults).
  std::optional<std::string> pipeline;
  std::vector<std::string> inputs;  ///< --inputs
  std::vector<std::string> outputs; ///< --outputs
  bool randomInputs = false;        ///< --random-inputs
  uint64_t seed = 0;                ///< --seed
  bool compareSingle = false;       ///< --compare-single-device
  std::string reference;            ///< --reference
  bool allowReplicated = false;     ///< --allow-replicated
  std::vector<std::string> expect;  ///< --expect
  double rtol = -1, atol = -1;      ///< --rtol / --atol; < 0: by type
  std::optional<int64_t> timeoutMs; ///< --timeout-ms, when given
  int repeat = 1;                   ///< --repeat
  bool allowNonFinite = false;      ///< --allow-nonfinite
  bool runtimeInfo = false;         ///< --runtime-info
  bool quiet = false;               ///< --quiet
  std::string emitObject, emitHeader, emitLLVM, emitMLIR; ///< --emit-*
  std::string gpuLowering; ///< --gpu-lowering (hidden)

  /// Whether the run compiles ahead of time (--emit-object, --emit-header
  /// or --emit-llvm) instead of running.
  bool isAot() const;
  /// The communicator timeout to pass the runtime (0: its default).
  int64_t timeoutOrDefault() const { return timeoutMs.value_or(0); }
};

/// Parses the command line (only cp-run's options are shown by --help) and
/// sets up the progress and error lines (quiet, MPI rank prefix).
RunOptions parseOptions(int argc, char **argv);

/// Checks the options that do not depend on the module (input file, entry,
/// backend, --ranks, --repeat, --timeout-ms); returns kOk or the exit code
/// after the error.
int checkOptions(const RunOptions &opts);

/// Records this process's MPI rank (0 in thread mode): progress and timings
/// are printed on rank 0 only, errors name the rank with --comm mpi.
void setReportingRank(int rank);

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
