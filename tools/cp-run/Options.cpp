//===- Options.cpp - cp-run's command line, progress and errors -----------===//
//
// The llvm::cl options are private to this file (as in upstream tools);
// parseOptions reads them once into the RunOptions the other units receive.
//
//===----------------------------------------------------------------------===//

#include "Options.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace cprun {

namespace {

cl::OptionCategory cat("cp-run options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .mlir>"),
                               cl::cat(cat));
cl::opt<std::string> entryName("entry", cl::desc("Function to run"),
                               cl::value_desc("name"), cl::cat(cat));
cl::opt<int> numRanks("ranks",
                      cl::desc("Number of ranks (MPI: defaults to the world "
                               "size and must equal it)"),
                      cl::init(0), cl::cat(cat));
cl::opt<Comm> comm("comm", cl::desc("Communicator"), cl::init(Comm::Threads),
                   cl::values(clEnumValN(Comm::Threads, "threads",
                                         "ranks as threads of this process"),
                              clEnumValN(Comm::Mpi, "mpi",
                                         "one rank per MPI process (mpirun)")),
                   cl::cat(cat));
cl::opt<Backend> backend("backend", cl::desc("Kernel backend"),
                         cl::init(Backend::Cpu),
                         cl::values(clEnumValN(Backend::Cpu, "cpu", "CPU"),
                                    clEnumValN(Backend::Cuda, "cuda", "CUDA")),
                         cl::cat(cat));
cl::opt<std::string> pipelineOpts(
    "pipeline",
    cl::desc("Apply the cp pipeline to a single-device module first; the "
             "value is --cp-pipeline's option string (grid-size defaults to "
             "--ranks); \"\" or \"default\" for the defaults"),
    cl::value_desc("options"), cl::cat(cat));
cl::list<std::string> inputPaths("inputs",
                                 cl::desc("Whole (global) input tensors, one "
                                          ".npy per argument"),
                                 cl::CommaSeparated,
                                 cl::value_desc("a.npy,..."), cl::cat(cat));
cl::list<std::string> outputPaths("outputs",
                                  cl::desc("Where to write the whole (global) "
                                           "results, one .npy per result"),
                                  cl::CommaSeparated,
                                  cl::value_desc("o.npy,..."), cl::cat(cat));
cl::opt<bool> randomInputs("random-inputs",
                           cl::desc("Draw fresh inputs: normal(0,1) floats, "
                                    "integers in [0,4), random booleans"),
                           cl::cat(cat));
cl::opt<uint64_t> seed("seed", cl::desc("Seed for --random-inputs"),
                       cl::init(0), cl::cat(cat));
cl::opt<bool> compareSingle(
    "compare-single-device",
    cl::desc("Also run the single-device module (before --pipeline, or "
             "--reference) on one rank and compare the outputs"),
    cl::cat(cat));
cl::opt<std::string> referenceFile(
    "reference",
    cl::desc("Single-device module to compare against (default: the input "
             "module before --pipeline)"),
    cl::value_desc("file.mlir"), cl::cat(cat));
cl::opt<bool> allowReplicated(
    "allow-replicated",
    cl::desc("With --pipeline: when no attention was made context-parallel, "
             "warn and run the module replicated on every rank instead of "
             "failing"),
    cl::cat(cat));
cl::list<std::string> expectPaths(
    "expect",
    cl::desc("Expected whole outputs (.npy, one per result) to compare "
             "against, e.g. computed by PyTorch"),
    cl::CommaSeparated, cl::value_desc("e.npy,..."), cl::cat(cat));
cl::opt<double>
    rtolOpt("rtol",
            cl::desc("Relative tolerance (default 1e-4 for f32/f64, "
                     "2e-2 for bf16/f16)"),
            cl::init(-1), cl::cat(cat));
cl::opt<double>
    atolOpt("atol",
            cl::desc("Absolute tolerance (default 1e-5 for f32/f64, "
                     "2e-2 for bf16/f16)"),
            cl::init(-1), cl::cat(cat));
cl::opt<int64_t> timeoutMs("timeout-ms",
                           cl::desc("Communicator timeout in ms, >= 1 "
                                    "(default: CPRT_TIMEOUT_MS or 60000)"),
                           cl::init(0), cl::cat(cat));
cl::opt<int> repeat("repeat",
                    cl::desc("Run the entry this many times "
                             "(timings: last run)"),
                    cl::init(1), cl::cat(cat));
cl::opt<bool> allowNonFinite(
    "allow-nonfinite",
    cl::desc("Warn about NaN or Inf in an input instead of failing"),
    cl::cat(cat));
cl::opt<bool> runtimeInfo(
    "runtime-info",
    cl::desc("Print what the linked runtime supports (mpi=0/1, cuda=0/1, "
             "number of C ABI symbols) and exit"),
    cl::cat(cat));
cl::opt<bool> quiet("quiet", cl::desc("No progress or timings on stderr"),
                    cl::cat(cat));
cl::opt<std::string> emitObject("emit-object",
                                cl::desc("AOT: write the lowered module as an "
                                         "object file (no run)"),
                                cl::value_desc("out.o"), cl::cat(cat));
cl::opt<std::string> emitHeader("emit-header",
                                cl::desc("AOT: write a C header declaring the "
                                         "entry and its tensors' sharding"),
                                cl::value_desc("out.h"), cl::cat(cat));
cl::opt<std::string> emitLLVM("emit-llvm",
                              cl::desc("Write the lowered module as LLVM IR"),
                              cl::value_desc("out.ll"), cl::cat(cat));
cl::opt<std::string> emitMLIR("emit-mlir",
                              cl::desc("Write the per-rank module (after "
                                       "--pipeline, before lowering)"),
                              cl::value_desc("out.mlir"), cl::cat(cat));

// Options of --backend cuda (not shown by --help).
cl::opt<std::string> gpuLowering(
    "gpu-lowering",
    cl::desc("--backend cuda: options of cp-lower-to-llvm's GPU target "
             "(chip=sm_90 gpu-format=fatbin|bin|isa block-size=256 "
             "cuda-toolkit=PATH)"),
    cl::init(""));

} // namespace

namespace {
/// Where progress, timings and errors go: set once by parseOptions (and
/// setReportingRank with MPI), read by progress, phase and error.
struct Reporting {
  bool quiet = false, mpi = false;
  int rank = 0;
} reporting;
} // namespace

void setReportingRank(int rank) { reporting.rank = rank; }

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void progress(const llvm::Twine &msg) {
  if (reporting.quiet || reporting.rank != 0)
    return;
  llvm::errs() << "cp-run: " << msg << "\n";
}
void phase(llvm::StringRef name, double ms, llvm::StringRef extra) {
  if (reporting.quiet || reporting.rank != 0)
    return;
  llvm::errs() << "cp-run: " << llvm::left_justify(name, 26)
               << llvm::format("%10.1f ms", ms);
  if (!extra.empty())
    llvm::errs() << "  " << extra;
  llvm::errs() << "\n";
}
int error(int code, const llvm::Twine &msg) {
  llvm::errs() << "cp-run: error";
  if (reporting.mpi)
    llvm::errs() << " (rank " << reporting.rank << ")";
  llvm::errs() << ": " << msg << "\n";
  return code;
}

namespace {
// Thread ranks each hold a thread, a communicator and a CPU backend: past
// this many, thread creation or memory fails (30,000 ranks took 4.8 GB).
constexpr int kMaxThreadRanks = 4096;

/// Refuses values of --ranks, --repeat and --timeout-ms that cannot be
/// honoured; returns kOk or the exit code after the error.
int checkRunOptions(const RunOptions &o) {
  if (o.ranks && *o.ranks < 1)
    return error(kUsage,
                 "--ranks must be >= 1, got " + std::to_string(*o.ranks));
  if (o.comm == Comm::Threads && !o.isAot() &&
      o.ranks.value_or(0) > kMaxThreadRanks)
    return error(kUsage, "--ranks " + std::to_string(*o.ranks) +
                             " exceeds the limit of " +
                             std::to_string(kMaxThreadRanks) +
                             " thread ranks (--comm threads); use --comm mpi "
                             "for more");
  if (o.repeat < 1)
    return error(kUsage,
                 "--repeat must be >= 1, got " + std::to_string(o.repeat));
  if (o.timeoutMs && *o.timeoutMs < 1)
    return error(kUsage, "--timeout-ms must be >= 1 (milliseconds), got " +
                             std::to_string(*o.timeoutMs));
  return kOk;
}

/// The value of `opt` when it was given on the command line.
template <typename T> std::optional<T> ifGiven(const cl::opt<T> &opt) {
  if (!opt.getNumOccurrences())
    return std::nullopt;
  return opt.getValue();
}

/// Reads the parsed cl options into a RunOptions.
RunOptions readOptions() {
  RunOptions o;
  o.inputFile = inputFile;
  o.entry = entryName;
  o.ranks = ifGiven(numRanks);
  o.comm = comm;
  o.backend = backend;
  o.pipeline = ifGiven(pipelineOpts);
  o.inputs.assign(inputPaths.begin(), inputPaths.end());
  o.outputs.assign(outputPaths.begin(), outputPaths.end());
  o.randomInputs = randomInputs;
  o.seed = seed;
  o.compareSingle = compareSingle;
  o.reference = referenceFile;
  o.allowReplicated = allowReplicated;
  o.expect.assign(expectPaths.begin(), expectPaths.end());
  o.rtol = rtolOpt;
  o.atol = atolOpt;
  o.timeoutMs = ifGiven(timeoutMs);
  o.repeat = repeat;
  o.allowNonFinite = allowNonFinite;
  o.runtimeInfo = runtimeInfo;
  o.quiet = quiet;
  o.emitObject = emitObject;
  o.emitHeader = emitHeader;
  o.emitLLVM = emitLLVM;
  o.emitMLIR = emitMLIR;
  o.gpuLowering = gpuLowering;
  return o;
}
} // namespace

RunOptions parseOptions(int argc, char **argv) {
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "cp-run: run an MLIR module on N ranks with the cp runtime, or compile "
      "it ahead of time (docs/cp-run.md)\n\n"
      "  exit codes: 0 ok, 1 usage or input error, 2 compilation error,\n"
      "              3 run-time error, 4 outputs beyond tolerance\n");
  RunOptions o = readOptions();
  reporting.quiet = o.quiet;
  reporting.mpi = o.comm == Comm::Mpi;
  return o;
}

bool RunOptions::isAot() const {
  return !emitObject.empty() || !emitHeader.empty() || !emitLLVM.empty();
}

int checkOptions(const RunOptions &o) {
  if (o.inputFile.empty())
    return error(kUsage, "no input file (cp-run FILE.mlir --entry NAME ...)");
  if (o.entry.empty())
    return error(kUsage, "--entry NAME is required");
  if (o.backend == Backend::Cuda && !o.isAot())
    return error(kUsage,
                 "--backend cuda compiles ahead of time only (--emit-object "
                 "/ --emit-header / --emit-llvm): run the object with "
                 "cprt-gpu-run on the GPU machine (docs/gpu.md); cp-run's JIT "
                 "has no CUDA runtime linked");
  return checkRunOptions(o);
}

} // namespace cprun
