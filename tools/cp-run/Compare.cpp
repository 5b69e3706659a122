//===- Compare.cpp - cp-run: --expect and --compare-single-device ---------===//

#include "Compare.h"
#include "Options.h"
#include "Run.h"

#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <thread>

using namespace mlir;

namespace cprun {

namespace {

struct Tolerance {
  double rtol, atol;
};
/// The tolerance for element type `k`: --rtol / --atol when given, else
/// the type's default.
Tolerance toleranceFor(const RunOptions &opts, ElemKind k) {
  bool low = k == ElemKind::BF16 || k == ElemKind::F16;
  Tolerance t{low ? 2e-2 : 1e-4, low ? 2e-2 : 1e-5};
  if (opts.rtol >= 0)
    t.rtol = opts.rtol;
  if (opts.atol >= 0)
    t.atol = opts.atol;
  return t;
}

} // namespace

bool compareTensors(const RunOptions &opts, const std::string &label,
                    const HostTensor &got, const HostTensor &want) {
  if (got.shape != want.shape) {
    llvm::errs() << "cp-run: " << label << ": shape " << shapeString(got.shape)
                 << " vs " << shapeString(want.shape) << ": FAIL\n";
    return false;
  }
  ElemKind k = (got.kind == ElemKind::BF16 || want.kind == ElemKind::BF16)
                   ? ElemKind::BF16
               : (got.kind == ElemKind::F16 || want.kind == ElemKind::F16)
                   ? ElemKind::F16
                   : got.kind;
  Tolerance tol = toleranceFor(opts, k);
  double maxAbs = 0, maxRel = 0, worstExcess = -1;
  int64_t bad = 0, nans = 0, n = got.numElements(), worst = -1;
  for (int64_t i = 0; i < n; ++i) {
    double a = got.get(i), b = want.get(i);
    if (std::isnan(a) || std::isnan(b)) {
      if (!(std::isnan(a) && std::isnan(b)))
        ++nans;
      ++bad;
      continue;
    }
    if (std::isinf(a) || std::isinf(b)) {
      if (a != b)
        ++bad;
      continue;
    }
    double d = std::fabs(a - b);
    maxAbs = std::max(maxAbs, d);
    if (std::fabs(b) > tol.atol)
      maxRel = std::max(maxRel, d / std::fabs(b));
    double excess = d - (tol.atol + tol.rtol * std::fabs(b));
    if (excess > 0)
      ++bad;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  llvm::errs() << "cp-run: " << label << " " << elemName(got.kind)
               << shapeString(got.shape)
               << llvm::format(": max abs err %.3e, max rel err %.3e", maxAbs,
                               maxRel)
               << llvm::format(" (rtol %.1e, atol %.1e)", tol.rtol, tol.atol);
  if (bad == 0) {
    llvm::errs() << " ok\n";
    return true;
  }
  llvm::errs() << " FAIL: " << bad << " of " << n
               << " elements beyond tolerance";
  if (nans)
    llvm::errs() << " (" << nans << " NaN)";
  if (worst >= 0 && worstExcess > 0) {
    // Where it is worst, as a multi-index into the whole tensor.
    std::vector<int64_t> idx(got.shape.size());
    for (int64_t r = worst, d = int64_t(idx.size()) - 1; d >= 0; --d) {
      idx[d] = r % got.shape[d];
      r /= got.shape[d];
    }
    llvm::errs() << "; worst at " << shapeString(idx)
                 << llvm::format(": got %.6g, want %.6g", got.get(worst),
                                 want.get(worst));
  }
  llvm::errs() << "\n";
  return false;
}

int compareExpected(const RunOptions &opts,
                    const std::vector<HostTensor> &outputs) {
  if (opts.expect.empty())
    return kOk;
  if (opts.expect.size() != outputs.size())
    return error(kUsage, "--expect gave " + std::to_string(opts.expect.size()) +
                             " file(s) for " + std::to_string(outputs.size()) +
                             " result(s)");
  int rc = kOk;
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto file = readNpy(opts.expect[i]);
    if (!file)
      return error(kUsage, llvm::toString(file.takeError()));
    if (!compareTensors(
            opts, "result #" + std::to_string(i) + " vs " + opts.expect[i],
            outputs[i], file->tensor))
      rc = kMismatch;
  }
  return rc;
}

namespace {

/// The reference entry's signature, checked against the run's: the same
/// number of arguments and results, each argument's whole shape and type.
int describeReference(const RunOptions &opts, ModuleOp reference,
                      const EntrySig &sig, EntrySig &refSig) {
  std::string err;
  func::FuncOp refEntry =
      findEntry(reference, opts.entry, "the reference module");
  auto refSigOr = describeEntry(refEntry, err);
  if (failed(refSigOr))
    return error(kUsage, "reference @" + opts.entry + ": " + err);
  refSig = *refSigOr;
  if (refSig.args.size() != sig.args.size() ||
      refSig.results.size() != sig.results.size())
    return error(kUsage, "the reference @" + opts.entry +
                             " has a different number of arguments or "
                             "results");
  for (size_t i = 0; i < sig.args.size(); ++i)
    if (refSig.args[i].globalShape != sig.args[i].globalShape ||
        refSig.args[i].kind != sig.args[i].kind)
      return error(kUsage, "reference " + refSig.args[i].name + " is " +
                               refSig.args[i].typeStr + ", the run's whole " +
                               sig.args[i].name + " is " +
                               elemName(sig.args[i].kind) +
                               shapeString(sig.args[i].globalShape));
  return kOk;
}

} // namespace

int compareSingleDevice(const RunOptions &opts, ModuleOp reference,
                        const EntrySig &sig,
                        const std::vector<HostTensor> &inputs,
                        const std::vector<HostTensor> &outputs) {
  auto t7 = Clock::now();
  EntrySig refSig;
  if (int rc = describeReference(opts, reference, sig, refSig))
    return rc;
  std::string err;
  if (failed(lowerAndCheck(opts, reference, refSig, err)))
    return error(kCompile, "reference: " + err);
  Compiled refCompiled;
  if (failed(jitCompile(reference, opts.entry, refCompiled, err)))
    return error(kCompile, "reference: " + err);
  phase("reference: lower + JIT", msSince(t7));
  std::vector<HostTensor> refOutputs;
  RankTimes rt;
  bool ok = false;
  auto t8 = Clock::now();
  // Its own thread: a single-rank context that leaves this thread's (MPI)
  // context alone.
  std::thread worker([&] {
    if (cprt_init_local() != CPRT_OK) {
      err = cprtError("cprt_init_local");
      return;
    }
    ok = runRank(refCompiled.fn, refSig, inputs, opts.repeat, &refOutputs, rt,
                 err);
  });
  worker.join();
  if (!ok)
    return error(kRuntime, "reference: " + err);
  phase("reference: run", msSince(t8), "1 rank");
  int rc = kOk;
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!compareTensors(opts,
                        "result #" + std::to_string(i) + " vs single device",
                        outputs[i], refOutputs[i]))
      rc = kMismatch;
  return rc;
}

} // namespace cprun
