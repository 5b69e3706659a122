//===- Gemm.cpp - Strided batched fp32 GEMM over OpenBLAS
//------------------===//
//
// OpenBLAS is told to run single-threaded once per process; the threading is
// ours (OpenMP over batch x row blocks), so that it follows the rank's thread
// budget and composes with the thread ranks of cprt_run_threads instead of
// each rank starting a BLAS pool of all cores.
//
//===----------------------------------------------------------------------===//
#include "cprt/Gemm.h"
#include "cprt/Error.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace cprt {

namespace {

void singleThreadedBlas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

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
#pragma omp parallel for num_threads(int(std::min <int64_t>(T, tasks)))        \
    schedule(dynamic)
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
    cblas_sgemm(CblasRowMajor, a.trans ? CblasTrans : CblasNoTrans,
                b.trans ? CblasTrans : CblasNoTrans, int(m1 - m0), int(N),
                int(K), 1.0f, pa, int(a.rowStride), pb, int(b.rowStride), beta,
                pc, int(c.rowStride));
  }
}

} // namespace cprt
