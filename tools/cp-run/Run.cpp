//===- Run.cpp - cp-run: inputs, ranks, sharding, outputs -----------------===//

#include "Run.h"
#include "Options.h"

#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

namespace cprun {

namespace {

/// A 64-byte aligned host buffer.
struct Buffer {
  void *ptr = nullptr;
  int64_t bytes = 0;
  Buffer() = default;
  explicit Buffer(int64_t n) : bytes(n) {
    ptr = std::aligned_alloc(64,
                             size_t(std::max<int64_t>(64, (n + 63) / 64 * 64)));
    std::memset(ptr, 0, size_t(n));
  }
  Buffer(Buffer &&o) : ptr(o.ptr), bytes(o.bytes) { o.ptr = nullptr; }
  Buffer &operator=(Buffer &&o) {
    std::swap(ptr, o.ptr);
    std::swap(bytes, o.bytes);
    return *this;
  }
  ~Buffer() { std::free(ptr); }
};

/// A memref descriptor in its expanded (packed-call) form.
struct Descriptor {
  void *allocated, *aligned;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  Descriptor(void *data, const std::vector<int64_t> &shape)
      : allocated(data), aligned(data), sizes(shape), strides(shape.size()) {
    int64_t s = 1;
    for (int i = int(shape.size()) - 1; i >= 0; --i) {
      strides[i] = s;
      s *= shape[i];
    }
  }
  void pack(std::vector<void *> &args) {
    args.push_back(&allocated);
    args.push_back(&aligned);
    args.push_back(&offset);
    for (int64_t &s : sizes)
      args.push_back(&s);
    for (int64_t &s : strides)
      args.push_back(&s);
  }
};

} // namespace

std::string cprtError(const char *what) {
  const char *m = cprt_last_error();
  return std::string(what) + ": " + (m && *m ? m : "unknown runtime error");
}

namespace {

/// The document ids a balancer needs: `docs` for per_document_head_tail,
/// none for the static ones.
const int32_t *docsFor(int32_t balancer, const int32_t *docs) {
  return balancer == CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL ? docs : nullptr;
}

/// This rank's copy of argument `i` of `sig`: its shard of the whole input
/// when it is sharded (checking the runtime's local length against the
/// module's), a private copy otherwise (compiled code may write into its
/// arguments).
bool shardArgument(const TensorSig &a, const HostTensor &whole, Buffer &local,
                   const int32_t *docs, std::string &err) {
  if (!a.sharded) {
    std::memcpy(local.ptr, whole.data.data(), size_t(local.bytes));
    return true;
  }
  int64_t localLen = 0;
  if (cprt_layout(cprt_balancer(a.balancer), a.seqLen,
                  docsFor(a.balancer, docs), &localLen, nullptr) != CPRT_OK) {
    err = cprtError(("cprt_layout for " + a.name).c_str());
    return false;
  }
  if (localLen != a.localShape[a.dim]) {
    err = a.name + ": the runtime's " + balancerName(a.balancer) +
          " layout gives " + std::to_string(localLen) + " local positions of " +
          std::to_string(a.seqLen) + " on " + std::to_string(cprt_size()) +
          " ranks, the module expects " + std::to_string(a.localShape[a.dim]) +
          " (was it built for another number of ranks?)";
    return false;
  }
  if (cprt_shard(whole.data.data(), local.ptr, a.globalShape.data(),
                 int32_t(a.globalShape.size()), a.dim, elemBytes(a.kind),
                 cprt_balancer(a.balancer),
                 docsFor(a.balancer, docs)) != CPRT_OK) {
    err = cprtError(("cprt_shard of " + a.name).c_str());
    return false;
  }
  return true;
}

/// Re-shards (or re-copies) every argument between --repeat runs: the entry
/// may have written into its arguments.
void refreshArguments(const EntrySig &sig,
                      const std::vector<HostTensor> &inputs,
                      std::vector<Buffer> &locals, const int32_t *docs) {
  for (size_t i = 0; i < sig.args.size(); ++i) {
    const TensorSig &a = sig.args[i];
    if (a.sharded)
      cprt_shard(inputs[i].data.data(), locals[i].ptr, a.globalShape.data(),
                 int32_t(a.globalShape.size()), a.dim, elemBytes(a.kind),
                 cprt_balancer(a.balancer), docsFor(a.balancer, docs));
    else
      std::memcpy(locals[i].ptr, inputs[i].data.data(),
                  size_t(locals[i].bytes));
  }
}

/// Calls the entry once on `locals` and `results` (every rank starts
/// together); records the compute time.
bool callEntry(void (*fn)(void **), const EntrySig &sig,
               std::vector<Buffer> &locals, std::vector<Buffer> &results,
               RankTimes &times, std::string &err) {
  std::vector<Descriptor> descs;
  descs.reserve(sig.args.size() + sig.results.size());
  for (size_t i = 0; i < sig.args.size(); ++i)
    descs.emplace_back(locals[i].ptr, sig.args[i].localShape);
  for (size_t i = 0; i < sig.results.size(); ++i)
    descs.emplace_back(results[i].ptr, sig.results[i].localShape);
  std::vector<void *> packed;
  for (Descriptor &d : descs)
    d.pack(packed);
  // Every rank starts the timed run together.
  if (cprt_size() > 1)
    cprt_barrier();
  auto t1 = Clock::now();
  fn(packed.data());
  times.computeMs = msSince(t1);
  times.bestComputeMs = std::min(times.bestComputeMs, times.computeMs);
  // Runtime calls in compiled code record errors per thread (sticky).
  if (cprt_c_failed()) {
    const char *m = cprt_c_error();
    err = std::string("the entry failed in the runtime: ") +
          (m && *m ? m : "unknown error");
    cprt_c_clear_error();
    return false;
  }
  return true;
}

/// Gathers this rank's results into whole tensors (rank 0 receives them in
/// `outputs`).
bool unshardResults(const EntrySig &sig, std::vector<Buffer> &results,
                    std::vector<HostTensor> *outputs, const int32_t *docs,
                    std::string &err) {
  int rank = cprt_rank();
  for (size_t i = 0; i < sig.results.size(); ++i) {
    const TensorSig &r = sig.results[i];
    int64_t eb = elemBytes(r.kind);
    HostTensor whole;
    whole.kind = r.kind;
    whole.shape = r.globalShape;
    whole.data.resize(size_t(r.globalElems() * eb));
    if (r.sharded) {
      if (cprt_unshard(results[i].ptr, whole.data.data(), r.globalShape.data(),
                       int32_t(r.globalShape.size()), r.dim, eb,
                       cprt_balancer(r.balancer),
                       docsFor(r.balancer, docs)) != CPRT_OK) {
        err = cprtError(("cprt_unshard of " + r.name).c_str());
        return false;
      }
    } else if (rank == 0) {
      std::memcpy(whole.data.data(), results[i].ptr, whole.data.size());
    }
    if (rank == 0 && outputs)
      outputs->push_back(std::move(whole));
  }
  return true;
}

/// The document ids (argument `sig.documentsArg`, whole) as the runtime's
/// i32; empty when the module has none.
std::vector<int32_t> documentIds(const EntrySig &sig,
                                 const std::vector<HostTensor> &inputs) {
  std::vector<int32_t> docs;
  if (sig.documentsArg < 0)
    return docs;
  const HostTensor &t = inputs[size_t(sig.documentsArg)];
  for (int64_t e = 0, n = t.numElements(); e < n; ++e)
    docs.push_back(int32_t(t.get(e)));
  return docs;
}

} // namespace

bool runRank(void (*fn)(void **), const EntrySig &sig,
             const std::vector<HostTensor> &inputs, int repeat,
             std::vector<HostTensor> *outputs, RankTimes &times,
             std::string &err) {
  auto t0 = Clock::now();
  std::vector<int32_t> docIds = documentIds(sig, inputs);
  const int32_t *docs = docIds.empty() ? nullptr : docIds.data();
  std::vector<Buffer> locals;
  for (size_t i = 0; i < sig.args.size(); ++i) {
    const TensorSig &a = sig.args[i];
    Buffer local(a.localElems() * elemBytes(a.kind));
    if (!shardArgument(a, inputs[i], local, docs, err))
      return false;
    locals.push_back(std::move(local));
  }
  std::vector<Buffer> results;
  for (const TensorSig &r : sig.results)
    results.emplace_back(r.localElems() * elemBytes(r.kind));
  times.shardMs = msSince(t0);

  for (int it = 0; it < std::max(1, repeat); ++it) {
    if (!callEntry(fn, sig, locals, results, times, err))
      return false;
    if (it + 1 < repeat)
      refreshArguments(sig, inputs, locals, docs);
  }

  auto t2 = Clock::now();
  if (!unshardResults(sig, results, outputs, docs, err))
    return false;
  times.unshardMs = msSince(t2);
  return true;
}

namespace {

struct ThreadRun {
  void (*fn)(void **);
  const EntrySig *sig;
  const std::vector<HostTensor> *inputs;
  int repeat;
  std::vector<HostTensor> outputs;
  std::vector<RankTimes> times;
  std::vector<std::string> errors;
};

int threadRankMain(int rank, int size, void *user) {
  auto *run = static_cast<ThreadRun *>(user);
  std::string err;
  bool ok = runRank(run->fn, *run->sig, *run->inputs, run->repeat,
                    rank == 0 ? &run->outputs : nullptr, run->times[rank], err);
  if (!ok) {
    run->errors[rank] = err;
    return 1;
  }
  return 0;
}

/// Runs the entry on the threads' ranks; the slowest rank's times.
int runThreads(const RunOptions &opts, const Compiled &compiled,
               const EntrySig &sig, int ranks,
               const std::vector<HostTensor> &inputs,
               std::vector<HostTensor> &outputs, RankTimes &t) {
  ThreadRun run{compiled.fn, &sig, &inputs, opts.repeat, {}, {}, {}};
  run.times.resize(ranks);
  run.errors.resize(ranks);
  cprt_status st =
      cprt_run_threads(ranks, threadRankMain, &run, opts.timeoutOrDefault());
  if (st != CPRT_OK) {
    for (int r = 0; r < ranks; ++r)
      if (!run.errors[r].empty())
        return error(kRuntime,
                     "rank " + std::to_string(r) + ": " + run.errors[r]);
    return error(kRuntime, cprtError("run"));
  }
  outputs = std::move(run.outputs);
  for (const RankTimes &rt : run.times) {
    t.shardMs = std::max(t.shardMs, rt.shardMs);
    t.computeMs = std::max(t.computeMs, rt.computeMs);
    t.bestComputeMs = t.bestComputeMs == 1e300
                          ? rt.bestComputeMs
                          : std::max(t.bestComputeMs, rt.bestComputeMs);
    t.unshardMs = std::max(t.unshardMs, rt.unshardMs);
  }
  return kOk;
}

/// --random-inputs: normal(0,1) floats, integers in [0,4), random booleans,
/// one generator per argument seeded from `seed`.
void drawInputs(const EntrySig &sig, uint64_t seed,
                std::vector<HostTensor> &inputs) {
  for (size_t i = 0; i < sig.args.size(); ++i) {
    const TensorSig &a = sig.args[i];
    HostTensor t;
    t.kind = a.kind;
    t.shape = a.globalShape;
    t.data.resize(size_t(a.globalElems() * elemBytes(a.kind)));
    std::mt19937_64 gen(seed * 1000003ull + i);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> small(0, 3);
    for (int64_t e = 0, n = t.numElements(); e < n; ++e) {
      if (isFloat(a.kind))
        t.set(e, normal(gen));
      else if (a.kind == ElemKind::I1)
        t.set(e, small(gen) != 0);
      else
        t.set(e, small(gen));
    }
    inputs.push_back(std::move(t));
  }
}

/// Reads `path` as the whole argument `a` of the entry: checks its shape,
/// converts it to the argument's element type and refuses NaN or Inf unless
/// --allow-nonfinite.
bool readInput(const RunOptions &opts, const std::string &path,
               const TensorSig &a, std::vector<HostTensor> &inputs,
               std::string &err) {
  auto file = readNpy(path);
  if (!file) {
    err = llvm::toString(file.takeError());
    return false;
  }
  if (file->tensor.shape != a.globalShape) {
    err = path + ": shape " + shapeString(file->tensor.shape) +
          " does not match " + a.name + " of @" + opts.entry +
          ", whose whole shape is " + shapeString(a.globalShape) +
          (a.sharded ? " (the sequence dim " + std::to_string(a.dim) +
                           " is sharded: local type " + a.typeStr + ")"
                     : " (" + a.typeStr + ")");
    return false;
  }
  auto conv = convertTo(file->tensor, a.kind, path + " (" + a.name + ")");
  if (!conv) {
    err = llvm::toString(conv.takeError());
    return false;
  }
  if (file->tensor.kind != a.kind)
    progress(path + ": converted " + file->descr + " to " + elemName(a.kind));
  int64_t first = 0;
  if (int64_t bad = countNonFinite(*conv, first)) {
    std::string msg = path + " (" + a.name + "): " + std::to_string(bad) +
                      " of " + std::to_string(conv->numElements()) +
                      " elements are NaN or Inf (first at flat index " +
                      std::to_string(first) + ": " +
                      std::to_string(conv->get(first)) + ")";
    int64_t srcFirst = 0;
    if (file->tensor.kind != a.kind &&
        countNonFinite(file->tensor, srcFirst) < bad)
      msg += " after converting " + file->descr + " to " + elemName(a.kind) +
             " (values out of " + elemName(a.kind) + "'s range)";
    if (!opts.allowNonFinite) {
      err = msg + "; pass --allow-nonfinite to run anyway";
      return false;
    }
    llvm::errs() << "cp-run: warning: " << msg << "\n";
  }
  inputs.push_back(std::move(*conv));
  return true;
}

} // namespace

int initRanks(const RunOptions &opts, int &argc, char **&argv,
              RankSetup &setup) {
  int ranks = opts.ranks.value_or(0);
  if (opts.comm == Comm::Mpi && !opts.isAot()) {
    if (cprt_init_mpi(&argc, &argv, opts.timeoutOrDefault()) != CPRT_OK)
      return error(kUsage, cprtError("--comm mpi"));
    setup.self = cprt_rank();
    setReportingRank(setup.self);
    int world = cprt_size();
    if (ranks == 0)
      ranks = world;
    if (ranks != world)
      return error(kUsage, "--ranks " + std::to_string(ranks) +
                               " but the MPI world has " +
                               std::to_string(world) +
                               " processes (start with mpirun -np " +
                               std::to_string(ranks) + ")");
  }
  setup.ranks = ranks == 0 ? 1 : ranks; // not given: one thread rank
  return kOk;
}

bool loadInputs(const RunOptions &opts, const EntrySig &sig,
                std::vector<HostTensor> &inputs, std::string &err) {
  if (opts.randomInputs) {
    if (!opts.inputs.empty()) {
      err = "--random-inputs and --inputs are exclusive";
      return false;
    }
    drawInputs(sig, opts.seed, inputs);
    return true;
  }
  if (opts.inputs.size() != sig.args.size()) {
    err = "@" + opts.entry + " takes " + std::to_string(sig.args.size()) +
          " argument(s), --inputs gave " + std::to_string(opts.inputs.size()) +
          (sig.args.empty() ? "" : " (or use --random-inputs)");
    return false;
  }
  for (size_t i = 0; i < sig.args.size(); ++i)
    if (!readInput(opts, opts.inputs[i], sig.args[i], inputs, err))
      return false;
  return true;
}

int checkOutputs(const RunOptions &opts, const EntrySig &sig,
                 const RankSetup &setup) {
  if (!opts.outputs.empty() && opts.outputs.size() != sig.results.size())
    return error(kUsage, "@" + opts.entry + " has " +
                             std::to_string(sig.results.size()) +
                             " result(s), --outputs gave " +
                             std::to_string(opts.outputs.size()));
  // An output that cannot be written is a usage error found before the run.
  if (setup.self == 0)
    for (const std::string &path : opts.outputs)
      if (auto e = checkWritable(path))
        return error(kUsage, llvm::toString(std::move(e)));
  return kOk;
}

int runOnRanks(const RunOptions &opts, const Compiled &compiled,
               const EntrySig &sig, int ranks,
               const std::vector<HostTensor> &inputs,
               std::vector<HostTensor> &outputs) {
  RankTimes t;
  auto t6 = Clock::now();
  if (opts.comm == Comm::Threads) {
    if (int rc = runThreads(opts, compiled, sig, ranks, inputs, outputs, t))
      return rc;
  } else {
    std::string err;
    if (!runRank(compiled.fn, sig, inputs, opts.repeat, &outputs, t, err))
      return error(kRuntime, err);
    cprt_barrier();
  }
  double total = msSince(t6);
  std::string where = std::to_string(ranks) + " rank(s), " +
                      (opts.comm == Comm::Threads ? "threads" : "mpi");
  phase("run: shard inputs", t.shardMs);
  phase("run: compute", t.computeMs, where);
  if (opts.repeat > 1)
    phase("run: compute, best", t.bestComputeMs,
          "of " + std::to_string(opts.repeat) + " runs (slowest rank's best)");
  phase("run: unshard outputs", t.unshardMs);
  phase("run: total", total);
  return kOk;
}

int writeOutputs(const RunOptions &opts,
                 const std::vector<HostTensor> &outputs) {
  std::vector<std::string> tmps;
  auto dropTmps = [&] {
    for (const std::string &tmp : tmps)
      llvm::sys::fs::remove(tmp);
  };
  for (size_t i = 0; i < outputs.size() && i < opts.outputs.size(); ++i) {
    std::string tmp;
    if (auto e = writeNpyTemp(opts.outputs[i], outputs[i], tmp)) {
      dropTmps();
      return error(kUsage, llvm::toString(std::move(e)));
    }
    tmps.push_back(tmp);
  }
  for (size_t i = 0; i < tmps.size(); ++i)
    if (auto e = commitNpy(tmps[i], opts.outputs[i])) {
      tmps.erase(tmps.begin(), tmps.begin() + i + 1);
      dropTmps();
      return error(kUsage, llvm::toString(std::move(e)));
    }
  if (!opts.outputs.empty())
    progress("wrote " + llvm::join(opts.outputs, ", "));
  return kOk;
}

} // namespace cprun
