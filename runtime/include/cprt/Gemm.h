//===- Gemm.h - Strided batched fp32 GEMM over a BLAS ----------*- C++ -*-===//
//
// What compiled code's matrix products run on (cprt_c_matmul_f32): every
// batch and row block is one cblas_sgemm call of a single-threaded BLAS, the
// blocks spread over this rank's OpenMP threads, so a rank never uses more
// threads than its share (cp-run --ranks N gives each cores / N).
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_GEMM_H
#define CPRT_GEMM_H

#include <cstdint>

namespace cprt {

/// One operand: element (b, r, c) of the (untransposed) stored matrix is at
/// data[b * batchStride + r * rowStride + c]; batchStride 0 broadcasts.
struct GemmOperand {
  float *data = nullptr;
  int64_t batchStride = 0;
  int64_t rowStride = 0;
  bool trans = false; ///< stored as op(X)^T (cols x rows of the product)
};

/// C[b] = op(A[b]) * op(B[b]) + (accumulate ? C[b] : 0) for b < batch;
/// op(A) is M x K, op(B) K x N, C M x N. C's trans must be false.
/// Throws cprt::Error on bad strides.
void gemmF32(int64_t batch, int64_t M, int64_t N, int64_t K,
             const GemmOperand &a, const GemmOperand &b, const GemmOperand &c,
             bool accumulate, int numThreads);

} // namespace cprt

#endif // CPRT_GEMM_H
