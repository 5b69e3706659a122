//===- CudaCheck.h - CUDA error checks that throw cprt::Error --------------===//
#ifndef CPRT_CUDA_CUDACHECK_H
#define CPRT_CUDA_CUDACHECK_H

#include "cprt/Error.h"

#include <cuda_runtime_api.h>
#include <string>

namespace cprt::cuda {

[[noreturn]] inline void cudaFail(const std::string &msg) {
  throw Error(ErrorCode::Invalid, msg);
}

inline void cudaCheck(cudaError_t e, const char *what, const char *file, int line) {
  if (e != cudaSuccess)
    throw Error(ErrorCode::Internal, std::string(file) + ":" + std::to_string(line) + ": " +
                                         what + ": " + cudaGetErrorName(e) + ": " +
                                         cudaGetErrorString(e));
}

} // namespace cprt::cuda

#define CPRT_CUDA_CHECK(x) ::cprt::cuda::cudaCheck((x), #x, __FILE__, __LINE__)

#endif
