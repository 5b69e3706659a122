//===- Error.h - Runtime error type -----------------------------*- C++ -*-===//
//
// The C++ core throws cprt::Error; the C ABI catches everything and turns it
// into a status code plus a thread-local message (cprt_last_error()).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_ERROR_H
#define CPRT_ERROR_H

#include <stdexcept>
#include <string>

namespace cprt {

/// Values match the C ABI's cprt_status.
enum class ErrorCode : int { Ok = 0, Invalid = 1, Comm = 2, Timeout = 3,
                             Internal = 4 };

class Error : public std::runtime_error {
public:
  Error(ErrorCode code, const std::string &msg)
      : std::runtime_error(msg), code_(code) {}
  ErrorCode code() const { return code_; }

private:
  ErrorCode code_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string &msg) {
  throw Error(code, msg);
}
inline void check(bool cond, const std::string &msg) {
  if (!cond)
    throw Error(ErrorCode::Invalid, msg);
}

} // namespace cprt

#endif // CPRT_ERROR_H
