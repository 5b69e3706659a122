//===- Npy.h - strict NumPy .npy reader and writer --------------*- C++ -*-===//
//
// cp-run's inputs and outputs are whole (global) tensors in NumPy's .npy
// format. The reader accepts format versions 1, 2 and 3, C order only, and
// the element types cp-run can pass to a compiled function; anything else is
// an error that names the file. bf16 has no NumPy dtype: it is read from and
// written as raw bits, '<u2' (or '|V2' when reading).
//
//===----------------------------------------------------------------------===//

#ifndef CP_RUN_NPY_H
#define CP_RUN_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cprun {

/// Element types cp-run moves between .npy files and memrefs.
enum class ElemKind { F16, BF16, F32, F64, I1, I8, U8, I16, I32, I64 };

/// Bytes per element in memory (i1 is one byte, as LLVM stores it).
int64_t elemBytes(ElemKind kind);
/// Short name, as MLIR spells the element type (f32, bf16, i1, ...).
const char *elemName(ElemKind kind);
bool isFloat(ElemKind kind);

/// A tensor held in host memory, C order.
struct HostTensor {
  ElemKind kind = ElemKind::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// Element `i` as a double (for comparisons and conversions).
  double get(int64_t i) const;
  void set(int64_t i, double value);
};

/// Number of NaN or infinite elements of `t` (0 for integer kinds); `first`
/// receives the flat index of the first one.
int64_t countNonFinite(const HostTensor &t, int64_t &first);

/// A .npy file as read: its descr string, element kind and contents.
struct NpyFile {
  std::string descr;
  HostTensor tensor;
};

/// Reads `path`. The element kind follows the file's descr; '<u2' and '|V2'
/// read as bf16 bits.
llvm::Expected<NpyFile> readNpy(llvm::StringRef path);

/// Writes `t` to `path` (format 1.0; bf16 as '<u2').
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &t);
/// Writes `t` to a new temporary file next to `path` (its name in
/// `tmpPath`); commitNpy renames it to `path`. Nothing is left under `path`
/// (nor a temporary) when writing fails.
llvm::Error writeNpyTemp(llvm::StringRef path, const HostTensor &t,
                         std::string &tmpPath);
llvm::Error commitNpy(llvm::StringRef tmpPath, llvm::StringRef path);
/// Checks that a file can be created next to `path` (its directory exists
/// and is writable) and that `path` is not a directory; creates nothing.
llvm::Error checkWritable(llvm::StringRef path);

/// The .npy descr written for `kind`.
const char *npyDescr(ElemKind kind);

/// Converts `in` to `kind`: identity for equal kinds, value conversion between
/// floating-point kinds (round to nearest even), error otherwise.
llvm::Expected<HostTensor> convertTo(const HostTensor &in, ElemKind kind,
                                     llvm::StringRef what);

std::string shapeString(llvm::ArrayRef<int64_t> shape);

} // namespace cprun

#endif // CP_RUN_NPY_H
