//===- NaiveAttention.h - Attention for what the flash kernels skip -------===//
//
// Internal to runtime/src/cuda: a forward and a backward for any element
// type (fp32 too) and head dims 1..256, one thread per query row (and, for
// dk/dv, per key row) (NaiveAttention.cu). The CudaBackend uses them where
// the flash kernels cannot run.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_CUDA_NAIVEATTENTION_H
#define CPRT_CUDA_NAIVEATTENTION_H

#include "FlashKernels.h"

namespace cprt::cuda {
void launchNaiveForward(const FwdLaunch &l, cudaStream_t s);
/// The backward of a BwdLaunch (dqAccum written whole, unscaled; dk/dv
/// stored or, with accumulate, added to).
void launchNaiveBackward(const BwdLaunch &l, cudaStream_t s);
bool naiveSupportsHeadDim(int64_t d);
} // namespace cprt::cuda

#endif
