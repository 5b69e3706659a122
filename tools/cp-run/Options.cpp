//===- Options.cpp - cp-run's command line, progress and errors -----------===//

#include "Options.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace cprun {

static cl::OptionCategory cat("cp-run options");

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

int myRank = 0;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void progress(const llvm::Twine &msg) {
  if (quiet || myRank != 0)
    return;
  llvm::errs() << "cp-run: " << msg << "\n";
}
void phase(llvm::StringRef name, double ms, llvm::StringRef extra) {
  if (quiet || myRank != 0)
    return;
  llvm::errs() << "cp-run: " << llvm::left_justify(name, 26)
               << llvm::format("%10.1f ms", ms);
  if (!extra.empty())
    llvm::errs() << "  " << extra;
  llvm::errs() << "\n";
}
int error(int code, const llvm::Twine &msg) {
  llvm::errs() << "cp-run: error";
  if (comm == Comm::Mpi)
    llvm::errs() << " (rank " << myRank << ")";
  llvm::errs() << ": " << msg << "\n";
  return code;
}

namespace {
// Thread ranks each hold a thread, a communicator and a CPU backend: past
// this many, thread creation or memory fails (30,000 ranks took 4.8 GB).
constexpr int kMaxThreadRanks = 4096;

/// Refuses values of --ranks, --repeat and --timeout-ms that cannot be
/// honoured; returns kOk or the exit code after the error.
int checkRunOptions(bool aot) {
  if (numRanks.getNumOccurrences() && numRanks < 1)
    return error(kUsage,
                 "--ranks must be >= 1, got " + std::to_string(numRanks));
  if (comm == Comm::Threads && !aot && numRanks > kMaxThreadRanks)
    return error(kUsage, "--ranks " + std::to_string(numRanks) +
                             " exceeds the limit of " +
                             std::to_string(kMaxThreadRanks) +
                             " thread ranks (--comm threads); use --comm mpi "
                             "for more");
  if (repeat < 1)
    return error(kUsage,
                 "--repeat must be >= 1, got " + std::to_string(repeat));
  if (timeoutMs.getNumOccurrences() && timeoutMs < 1)
    return error(kUsage, "--timeout-ms must be >= 1 (milliseconds), got " +
                             std::to_string(timeoutMs));
  return kOk;
}
} // namespace

void parseOptions(int argc, char **argv) {
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "cp-run: run an MLIR module on N ranks with the cp runtime, or compile "
      "it ahead of time (docs/cp-run.md)\n\n"
      "  exit codes: 0 ok, 1 usage or input error, 2 compilation error,\n"
      "              3 run-time error, 4 outputs beyond tolerance\n");
}

bool isAot() {
  return !emitObject.empty() || !emitHeader.empty() || !emitLLVM.empty();
}

int checkOptions() {
  if (inputFile.empty())
    return error(kUsage, "no input file (cp-run FILE.mlir --entry NAME ...)");
  bool aot = isAot();
  if (entryName.empty())
    return error(kUsage, "--entry NAME is required");
  if (backend == Backend::Cuda && !aot)
    return error(kUsage,
                 "--backend cuda compiles ahead of time only (--emit-object "
                 "/ --emit-header / --emit-llvm): run the object with "
                 "cprt-gpu-run on the GPU machine (docs/gpu.md); cp-run's JIT "
                 "has no CUDA runtime linked");
  return checkRunOptions(aot);
}

} // namespace cprun
