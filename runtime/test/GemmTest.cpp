// cprt::gemmF32 (what compiled code's cprt_c_matmul_f32 runs) against a
// float64 reference: transposes, padded row strides, batches (one operand
// broadcast), accumulation, thread counts that do not divide the rows; and
// its refusals.
#include "cprt/Gemm.h"
#include "cprt/Error.h"
#include "cprt/cprt_compiler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace cprt;

namespace {

struct Case {
  int64_t batch, M, N, K;
  bool transA, transB, broadcastB, accumulate;
  int threads;
};

// Stored operand: [batch][rows][ld] with rows x cols used (ld > cols pads).
struct Stored {
  std::vector<float> data;
  int64_t rows, cols, ld, batchStride;
  float at(int64_t b, int64_t r, int64_t c) const {
    return data[b * batchStride + r * ld + c];
  }
};

Stored make(int64_t batch, int64_t rows, int64_t cols, std::mt19937 &rng) {
  std::normal_distribution<float> nd;
  Stored s{{}, rows, cols, cols + 3, rows * (cols + 3)};
  s.data.resize(size_t(batch * s.batchStride));
  for (float &x : s.data)
    x = nd(rng);
  return s;
}

void runCase(const Case &c) {
  std::mt19937 rng(unsigned(c.M * 131 + c.N * 7 + c.K + c.threads));
  int64_t bB = c.broadcastB ? 1 : c.batch;
  Stored a =
      c.transA ? make(c.batch, c.K, c.M, rng) : make(c.batch, c.M, c.K, rng);
  Stored b = c.transB ? make(bB, c.N, c.K, rng) : make(bB, c.K, c.N, rng);
  Stored out = make(c.batch, c.M, c.N, rng);
  Stored before = out;
  GemmOperand ga{a.data.data(), a.batchStride, a.ld, c.transA};
  GemmOperand gb{b.data.data(), c.broadcastB ? 0 : b.batchStride, b.ld,
                 c.transB};
  GemmOperand gc{out.data.data(), out.batchStride, out.ld, false};
  gemmF32(c.batch, c.M, c.N, c.K, ga, gb, gc, c.accumulate, c.threads);
  for (int64_t bi = 0; bi < c.batch; ++bi)
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double want = c.accumulate ? before.at(bi, i, j) : 0.0, mag = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          double x = c.transA ? a.at(bi, k, i) : a.at(bi, i, k);
          int64_t bb = c.broadcastB ? 0 : bi;
          double y = c.transB ? b.at(bb, j, k) : b.at(bb, k, j);
          want += x * y;
          mag += std::fabs(x * y);
        }
        double got = out.at(bi, i, j);
        ASSERT_FALSE(std::isnan(got));
        ASSERT_NEAR(got, want, 1e-6 * (mag + 1.0))
            << "b=" << bi << " i=" << i << " j=" << j;
      }
  // Padding between rows is not written.
  for (int64_t bi = 0; bi < c.batch; ++bi)
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = c.N; j < out.ld; ++j)
        ASSERT_EQ(out.at(bi, i, j), before.at(bi, i, j));
}

} // namespace

TEST(Gemm, MatchesFloat64Reference) {
  const Case cases[] = {
      {1, 37, 23, 19, false, false, false, false, 1},
      {1, 37, 23, 19, false, true, false, false, 3},
      {1, 130, 17, 9, true, false, false, true, 2},
      {1, 1, 23, 19, true, true, false, true, 4},
      {3, 37, 23, 19, false, false, false, false, 2},
      {3, 200, 5, 33, false, true, true, true, 3},
      {2, 64, 64, 64, true, true, false, false, 8},
  };
  for (const Case &c : cases)
    runCase(c);
}

TEST(Gemm, EmptyIsANoOp) {
  float c = 7.0f;
  GemmOperand g{&c, 0, 1, false};
  gemmF32(1, 0, 1, 1, g, g, g, false, 2);
  gemmF32(1, 1, 1, 0, g, g, g, true, 2); // K = 0, accumulate: unchanged
  EXPECT_EQ(c, 7.0f);
}

TEST(Gemm, RefusesBadStrides) {
  std::vector<float> buf(64, 1.0f);
  GemmOperand a{buf.data(), 0, 2, false}; // row stride 2 < K = 4
  GemmOperand b{buf.data(), 0, 4, false};
  GemmOperand c{buf.data(), 0, 4, false};
  EXPECT_THROW(gemmF32(1, 4, 4, 4, a, b, c, false, 1), Error);
  GemmOperand t{buf.data(), 0, 4, true};
  EXPECT_THROW(gemmF32(1, 4, 4, 4, b, b, t, false, 1), Error);
}

// The compiler ABI entry: descriptors in, transposes from flags, errors
// sticky with a message naming the problem.
namespace {
struct Desc2 {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};
const cprt_memref *mr(const Desc2 &d) {
  return reinterpret_cast<const cprt_memref *>(&d);
}
} // namespace

TEST(Gemm, CompilerAbiEntry) {
  // a: 2x3, w: 4x3 (used transposed), c = a · wᵀ: 2x4.
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> w = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
  std::vector<float> c(8, 100.0f);
  Desc2 da{a.data(), a.data(), 0, {2, 3}, {3, 1}};
  Desc2 dw{w.data(), w.data(), 0, {4, 3}, {3, 1}};
  Desc2 dc{c.data(), c.data(), 0, {2, 4}, {4, 1}};
  cprt_c_clear_error();
  cprt_c_matmul_f32(2, mr(da), 2, mr(dw), 2, mr(dc), CPRT_C_MATMUL_TRANS_B);
  ASSERT_FALSE(cprt_c_failed()) << cprt_c_error();
  const float want[] = {1, 2, 3, 6, 4, 5, 6, 15};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(c[i], want[i]) << i;
  // Accumulate: c += a · wᵀ.
  cprt_c_matmul_f32(2, mr(da), 2, mr(dw), 2, mr(dc),
                    CPRT_C_MATMUL_TRANS_B | CPRT_C_MATMUL_ACCUMULATE);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(c[i], 2 * want[i]) << i;

  // A last dim with stride 2 is refused, and later calls return at once.
  Desc2 bad{a.data(), a.data(), 0, {2, 3}, {3, 2}};
  cprt_c_matmul_f32(2, mr(bad), 2, mr(dw), 2, mr(dc), CPRT_C_MATMUL_TRANS_B);
  ASSERT_TRUE(cprt_c_failed());
  EXPECT_NE(std::string(cprt_c_error()).find("not contiguous"),
            std::string::npos)
      << cprt_c_error();
  cprt_c_clear_error();
  // Shapes that do not form a product (w not transposed: 4x3 · ... 2x4).
  cprt_c_matmul_f32(2, mr(da), 2, mr(dw), 2, mr(dc), 0);
  ASSERT_TRUE(cprt_c_failed());
  EXPECT_NE(std::string(cprt_c_error()).find("do not form a matrix product"),
            std::string::npos)
      << cprt_c_error();
  cprt_c_clear_error();
}
