//===- Compare.h - cp-run: --expect and --compare-single-device -*- C++ -*-===//
//
// Compares the run's whole outputs against expected .npy files (e.g. from
// PyTorch) and against the single-device module run on one rank, within
// --rtol/--atol (defaults by element type).
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_COMPARE_H
#define CP_RUN_COMPARE_H

#include "Compile.h"
#include "Npy.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace cprun {

/// Compares `got` against `want`; prints one line; returns true if within
/// tolerance (--rtol / --atol, or by the coarser of the two element types).
bool compareTensors(const RunOptions &opts, const std::string &label,
                    const HostTensor &got, const HostTensor &want);

/// --expect: compares `outputs` against the files; returns kOk, kMismatch
/// or the exit code after an error.
int compareExpected(const RunOptions &opts,
                    const std::vector<HostTensor> &outputs);

/// --compare-single-device: lowers, JIT-compiles and runs the `reference`
/// module's entry on one rank on `inputs` and compares its results with
/// `outputs`; returns kOk, kMismatch or the exit code after an error.
int compareSingleDevice(const RunOptions &opts, mlir::ModuleOp reference,
                        const EntrySig &sig,
                        const std::vector<HostTensor> &inputs,
                        const std::vector<HostTensor> &outputs);

} // namespace cprun

#endif // CP_RUN_COMPARE_H
