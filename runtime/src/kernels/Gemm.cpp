//===- Gemm.cpp - Strided batched fp32 GEMM over OpenBLAS ---------------===//
//
// OpenBLAS is told to run single-threaded once per process; the threading is
// ours (OpenMP over batch x row blocks), so that it follows the rank's thread
// budget and composes with the thread ranks of cprt_run_threads instead of
// each rank starting a BLAS pool of all cores.
//
//===----------------------------------------------------------------------===//
#include "cprt/Gemm.h"
#include "cprt/Error.h"

#ifdef CPRT_HAVE_BLAS
#include <cblas.h>
#endif
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace cprt {

namespace {

#ifdef CPRT_HAVE_BLAS
void singleThreadedBlas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

void sgemmRows(const GemmOperand &a, const GemmOperand &b, float *c,
               int64_t ldc, int64_t rows, int64_t N, int64_t K, const float *pa,
               const float *pb, float beta) {
  cblas_sgemm(CblasRowMajor, a.trans ? CblasTrans : CblasNoTrans,
              b.trans ? CblasTrans : CblasNoTrans, int(rows), int(N), int(K),
              1.0f, pa, int(a.rowStride), pb, int(b.rowStride), beta, c,
              int(ldc));
}
#else
void singleThreadedBlas() {}

/// Portable fallback (a runtime built without OpenBLAS): row-major loops
/// with the innermost loop over C's contiguous row.
void sgemmRows(const GemmOperand &a, const GemmOperand &b, float *c,
               int64_t ldc, int64_t rows, int64_t N, int64_t K, const float *pa,
               const float *pb, float beta) {
  for (int64_t i = 0; i < rows; ++i) {
    float *ci = c + i * ldc;
    for (int64_t j = 0; j < N; ++j)
      ci[j] = beta == 0.0f ? 0.0f : ci[j];
    for (int64_t k = 0; k < K; ++k) {
      float aik = a.trans ? pa[k * a.rowStride + i] : pa[i * a.rowStride + k];
      if (b.trans)
        for (int64_t j = 0; j < N; ++j)
          ci[j] += aik * pb[j * b.rowStride + k];
      else
        for (int64_t j = 0; j < N; ++j)
          ci[j] += aik * pb[k * b.rowStride + j];
    }
  }
}
#endif

void checkLeading(const GemmOperand &x, int64_t cols, const char *what) {
  check(x.data != nullptr, std::string("gemm: null ") + what);
  check(x.rowStride >= std::max<int64_t>(1, cols),
        std::string("gemm: ") + what + " row stride " +
            std::to_string(x.rowStride) + " is smaller than its " +
            std::to_string(cols) + " columns");
  check(x.batchStride >= 0,
        std::string("gemm: negative batch stride of ") + what);
}

} // namespace

void gemmF32(int64_t batch, int64_t M, int64_t N, int64_t K,
             const GemmOperand &a, const GemmOperand &b, const GemmOperand &c,
             bool accumulate, int numThreads) {
  check(batch >= 0 && M >= 0 && N >= 0 && K >= 0, "gemm: negative size");
  check(!c.trans, "gemm: the result cannot be transposed");
  if (batch == 0 || M == 0 || N == 0)
    return;
  checkLeading(a, a.trans ? M : K, "A");
  checkLeading(b, b.trans ? K : N, "B");
  checkLeading(c, N, "C");
  // int is what cblas takes.
  const int64_t kIntMax = 0x7fffffff;
  check(M <= kIntMax && N <= kIntMax && K <= kIntMax &&
            a.rowStride <= kIntMax && b.rowStride <= kIntMax &&
            c.rowStride <= kIntMax,
        "gemm: a size or stride exceeds the BLAS's int range");
  singleThreadedBlas();
  const int T = std::max(1, numThreads);
  // Row blocks: one per batch on one thread; otherwise about four per
  // thread (never under 64 rows), handed out dynamically, so that a thread
  // the OS deschedules (a busy machine, or more ranks than cores) delays
  // only its current block instead of holding up a static half.
  const int64_t perBatch =
      T == 1 ? 1
             : std::max<int64_t>(
                   1, std::min((M + 63) / 64,
                               (4 * int64_t(T) + batch - 1) / batch));
  const int64_t tasks = batch * perBatch;
  const float beta = accumulate ? 1.0f : 0.0f;
  const int team = int(std::min<int64_t>(T, tasks));
#pragma omp parallel for num_threads(team) schedule(dynamic)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t bi = t / perBatch, blk = t % perBatch;
    const int64_t m0 = M * blk / perBatch, m1 = M * (blk + 1) / perBatch;
    if (m0 == m1)
      continue;
    // Rows m0..m1 of op(A): rows of A, or columns when A is transposed.
    const float *pa =
        a.data + bi * a.batchStride + (a.trans ? m0 : m0 * a.rowStride);
    const float *pb = b.data + bi * b.batchStride;
    float *pc = c.data + bi * c.batchStride + m0 * c.rowStride;
    sgemmRows(a, b, pc, c.rowStride, m1 - m0, N, K, pa, pb, beta);
  }
}

} // namespace cprt
