//===- CompilerAbiSupport.h - shared pieces of the compiled-code ABI -*- C++ -*-===//
//
// Internal to the runtime (not installed): what every file that defines
// cprt_c_* entry points (cprt_compiler.h) shares.
//
//  - Buffer / view: an unranked memref (rank, descriptor) checked for
//    contiguity and seen as a pointer and a shape.
//  - sticky: the ONE error guard of the entry points. Every entry runs its
//    body through it: the body is skipped once this thread failed, and an
//    exception or a non-OK cprt_status becomes the thread's sticky error
//    "rank R: <op>: <message>" (cprt_c_failed / cprt_c_error).
//  - CPRT_C_ENTRIES_*: stamp out one entry point per element-type suffix;
//    each forwards its arguments unchanged to a template over the element
//    type (no logic in macros).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SRC_CAPI_COMPILERABISUPPORT_H
#define CPRT_SRC_CAPI_COMPILERABISUPPORT_H

#include "cprt/Error.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

namespace cprt {

/// True once this thread recorded a sticky error (CompilerAbi.cpp).
bool compilerAbiFailed();
/// Records `msg` (prefixed with the rank) as this thread's sticky error
/// unless one is recorded already.
void compilerAbiFail(const std::string &msg);

namespace abi {

/// The rank argument of an unranked memref.
using MR = int64_t;
/// The descriptor argument of an unranked memref.
using CM = const cprt_memref *;

/// A contiguous tensor of compiled code: its data and shape.
struct Buffer {
  char *data = nullptr;
  std::vector<int64_t> shape;
  /// Number of elements.
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  /// Size of dim rank - fromBack (1 = the last dim).
  int64_t dim(int64_t fromBack) const {
    return shape[shape.size() - fromBack];
  }
};

/// Reads an unranked memref (rank, descriptor) of `elemBytes` elements;
/// `what` names the argument in the errors (null, non-contiguous).
inline Buffer view(int64_t rank, const cprt_memref *d, int64_t elemBytes,
                   const char *what) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  Buffer b;
  const int64_t *sizes = d->sizes_and_strides;
  const int64_t *strides = sizes + rank;
  b.shape.assign(sizes, sizes + rank);
  int64_t expect = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    check(sizes[i] <= 1 || strides[i] == expect,
          std::string("compiled code passed a non-contiguous ") + what);
    expect *= sizes[i];
  }
  b.data = static_cast<char *>(d->aligned) + d->offset * elemBytes;
  return b;
}

/// Bytes of one element of an attention dtype.
constexpr int64_t dtypeBytes(cprt_dtype dt) { return dt == CPRT_F32 ? 4 : 2; }

/// Runs `body` unless this thread already failed. `body` returns a
/// cprt_status (a non-OK one becomes "<op>: cprt_last_error()") or nothing;
/// an exception becomes "<op>: <what>".
template <typename F> void sticky(const char *op, F &&body) {
  if (compilerAbiFailed())
    return;
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
    } else {
      cprt_status s = body();
      if (s != CPRT_OK)
        compilerAbiFail(std::string(op) + ": " + cprt_last_error());
    }
  } catch (const std::exception &e) {
    compilerAbiFail(std::string(op) + ": " + e.what());
  } catch (...) {
    compilerAbiFail(std::string(op) + ": unknown error");
  }
}

} // namespace abi
} // namespace cprt

/// Defines NAME_f32, NAME_bf16 and NAME_f16 (inside extern "C"), each
/// `RET NAME_T PARAMS { return IMPL<CPRT_T> ARGS; }`.
#define CPRT_C_ENTRIES_ATTENTION(RET, NAME, IMPL, PARAMS, ARGS)               \
  RET NAME##_f32 PARAMS { return IMPL<CPRT_F32> ARGS; }                        \
  RET NAME##_bf16 PARAMS { return IMPL<CPRT_BF16> ARGS; }                      \
  RET NAME##_f16 PARAMS { return IMPL<CPRT_F16> ARGS; }

/// Defines NAME_T for every suffix of the data-movement entry points, each
/// `RET NAME_T PARAMS { return IMPL ARGS; }` (they take the element size as
/// an argument, so one implementation serves all).
#define CPRT_C_ENTRIES_MOVEMENT(RET, NAME, IMPL, PARAMS, ARGS)                \
  RET NAME##_f32 PARAMS { return IMPL ARGS; }                                  \
  RET NAME##_bf16 PARAMS { return IMPL ARGS; }                                 \
  RET NAME##_f16 PARAMS { return IMPL ARGS; }                                  \
  RET NAME##_f64 PARAMS { return IMPL ARGS; }                                  \
  RET NAME##_i1 PARAMS { return IMPL ARGS; }                                   \
  RET NAME##_i8 PARAMS { return IMPL ARGS; }                                   \
  RET NAME##_i32 PARAMS { return IMPL ARGS; }                                  \
  RET NAME##_i64 PARAMS { return IMPL ARGS; }

#endif // CPRT_SRC_CAPI_COMPILERABISUPPORT_H
