//===- CompilerAbiTest.cpp - attention entry points of compiled code -------===//
//
// cprt_c_{sdpa,block,ring}_* (cprt_compiler.h) as compiled code calls them:
// descriptors in, the arguments by role through the one sticky guard. The
// results must equal the C ABI of cprt.h called directly (same kernels: the
// entry points only view and forward), and a bad argument must give the
// sticky error "<op>: <what is wrong>" after which later calls do nothing.
//
//===----------------------------------------------------------------------===//
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

/// A ranked memref descriptor of rank <= 4: sizes, then strides.
struct Desc {
  void *allocated, *aligned;
  int64_t offset;
  int64_t sizesAndStrides[8];
};

/// A contiguous descriptor of `shape` over `p`.
Desc contiguous(void *p, std::vector<int64_t> shape) {
  Desc d{p, p, 0, {}};
  const size_t r = shape.size();
  int64_t stride = 1;
  for (size_t i = r; i-- > 0;) {
    d.sizesAndStrides[i] = shape[i];
    d.sizesAndStrides[r + i] = stride;
    stride *= shape[i];
  }
  return d;
}
Desc desc(void *p, int64_t b, int64_t h, int64_t s, int64_t d) {
  return contiguous(p, {b, h, s, d});
}
/// The lse shape [B, H, S].
Desc desc3(void *p, int64_t b, int64_t h, int64_t s) {
  return contiguous(p, {b, h, s});
}
const cprt_memref *mr(const Desc &d) {
  return reinterpret_cast<const cprt_memref *>(&d);
}

std::vector<float> randoms(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(gen);
  return v;
}

/// True if the sticky error contains `what`.
bool failedWith(const std::string &what) {
  return cprt_c_failed() &&
         std::string(cprt_c_error()).find(what) != std::string::npos;
}

constexpr int64_t B = 1, H = 2, S = 8, D = 4;
constexpr size_t N = size_t(B * H * S * D);

} // namespace

// Whole-sequence attention (causal, with lse) equals cprt_sdpa_fwd and
// cprt_sdpa_bwd exactly.
TEST(CompilerAbi, SdpaMatchesTheCApi) {
  cprt_c_clear_error();
  auto q = randoms(N, 1), k = randoms(N, 2), v = randoms(N, 3),
       dout = randoms(N, 4);
  std::vector<float> out(N, NAN), lse(B * H * S, NAN), wantOut(N),
      wantLse(B * H * S);
  Desc dq = desc(q.data(), B, H, S, D), dk = desc(k.data(), B, H, S, D),
        dv = desc(v.data(), B, H, S, D), dout4 = desc(dout.data(), B, H, S, D),
        dO = desc(out.data(), B, H, S, D), dL = desc3(lse.data(), B, H, S);
  cprt_c_sdpa_fwd_f32(4, mr(dq), 4, mr(dk), 4, mr(dv), 0, nullptr, 4, mr(dO),
                      3, mr(dL), 0.5, CPRT_C_CAUSAL | CPRT_C_HAS_LSE);
  ASSERT_FALSE(cprt_c_failed()) << cprt_c_error();
  ASSERT_EQ(cprt_sdpa_fwd(CPRT_F32, B, H, H, S, S, D, q.data(), k.data(),
                          v.data(), wantOut.data(), wantLse.data(), 0.5f, 1,
                          nullptr),
            CPRT_OK);
  EXPECT_EQ(out, wantOut);
  EXPECT_EQ(lse, wantLse);

  std::vector<float> g[3], want[3];
  Desc dg[3];
  for (int i = 0; i < 3; ++i) {
    g[i].assign(N, NAN);
    want[i].assign(N, 0.f);
    dg[i] = desc(g[i].data(), B, H, S, D);
  }
  cprt_c_sdpa_bwd_f32(4, mr(dout4), 4, mr(dq), 4, mr(dk), 4, mr(dv), 4, mr(dO),
                      3, mr(dL), 0, nullptr, 4, mr(dg[0]), 4, mr(dg[1]), 4,
                      mr(dg[2]), 0.5, CPRT_C_CAUSAL);
  ASSERT_FALSE(cprt_c_failed()) << cprt_c_error();
  ASSERT_EQ(cprt_sdpa_bwd(CPRT_F32, B, H, H, S, S, D, dout.data(), q.data(),
                          k.data(), v.data(), out.data(), lse.data(),
                          want[0].data(), want[1].data(), want[2].data(), 0.5f,
                          1, nullptr),
            CPRT_OK);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(g[i], want[i]) << "gradient " << i;
}

// One block (forward partials, backward accumulators that the entry zeroes
// first) equals cprt_block_attention_* on zeroed accumulators.
TEST(CompilerAbi, BlockMatchesTheCApi) {
  cprt_c_clear_error();
  auto q = randoms(N, 5), k = randoms(N, 6), v = randoms(N, 7),
       dout = randoms(N, 8);
  std::vector<float> out(N, NAN), lse(B * H * S, NAN), wantOut(N),
      wantLse(B * H * S);
  Desc dq = desc(q.data(), B, H, S, D), dk = desc(k.data(), B, H, S, D),
        dv = desc(v.data(), B, H, S, D), dout4 = desc(dout.data(), B, H, S, D),
        dO = desc(out.data(), B, H, S, D), dL = desc3(lse.data(), B, H, S);
  cprt_c_block_fwd_f32(4, mr(dq), 4, mr(dk), 4, mr(dv), 0, nullptr, 0,
                       nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 4, mr(dO),
                       3, mr(dL), 0.0, 0, CPRT_CAUSAL, 0);
  ASSERT_FALSE(cprt_c_failed()) << cprt_c_error();
  ASSERT_EQ(cprt_block_attention_fwd(CPRT_F32, B, H, H, S, S, D, q.data(),
                                     k.data(), v.data(), wantOut.data(),
                                     wantLse.data(), 0.f, CPRT_CAUSAL,
                                     nullptr),
            CPRT_OK);
  EXPECT_EQ(out, wantOut);
  EXPECT_EQ(lse, wantLse);

  std::vector<float> g[3], want[3];
  Desc dg[3];
  for (int i = 0; i < 3; ++i) {
    g[i].assign(N, 123.f); // garbage the entry must clear
    want[i].assign(N, 0.f);
    dg[i] = desc(g[i].data(), B, H, S, D);
  }
  cprt_c_block_bwd_f32(4, mr(dout4), 4, mr(dq), 4, mr(dk), 4, mr(dv), 4,
                       mr(dO), 3, mr(dL), 0, nullptr, 0, nullptr, 0, nullptr,
                       0, nullptr, 0, nullptr, 4, mr(dg[0]), 4, mr(dg[1]), 4,
                       mr(dg[2]), 0.0, 0, CPRT_CAUSAL, 0);
  ASSERT_FALSE(cprt_c_failed()) << cprt_c_error();
  ASSERT_EQ(cprt_block_attention_bwd(CPRT_F32, B, H, H, S, S, D, dout.data(),
                                     q.data(), k.data(), v.data(), out.data(),
                                     lse.data(), want[0].data(),
                                     want[1].data(), want[2].data(), 0.f,
                                     CPRT_CAUSAL, nullptr),
            CPRT_OK);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(g[i], want[i]) << "gradient " << i;
}

// Bad arguments: the first error sticks with the entry's name, later calls
// (even valid ones) do nothing until the error is cleared.
TEST(CompilerAbi, ErrorsAreStickyAndNamed) {
  cprt_c_clear_error();
  auto q = randoms(N, 9);
  std::vector<float> out(N, 7.f), lse(B * H * S);
  Desc dq = desc(q.data(), B, H, S, D), dO = desc(out.data(), B, H, S, D),
        dL = desc3(lse.data(), B, H, S);

  // A flag promises a mask that is not there.
  cprt_c_sdpa_fwd_f32(4, mr(dq), 4, mr(dq), 4, mr(dq), 0, nullptr, 4, mr(dO),
                      0, nullptr, 0.0, CPRT_C_HAS_MASK);
  EXPECT_TRUE(failedWith("sdpa: compiled code passed a null mask"))
      << cprt_c_error();
  const std::string first = cprt_c_error();
  // Sticky: a valid call now does nothing, and the message stays.
  cprt_c_sdpa_fwd_f32(4, mr(dq), 4, mr(dq), 4, mr(dq), 0, nullptr, 4, mr(dO),
                      0, nullptr, 0.0, 0);
  EXPECT_EQ(std::string(cprt_c_error()), first);
  EXPECT_EQ(out[0], 7.f);
  cprt_c_clear_error();

  // A non-contiguous key (stride 2 along D).
  Desc strided = dq;
  strided.sizesAndStrides[4 + 3] = 2; // the stride of D
  cprt_c_block_fwd_bf16(4, mr(dq), 4, mr(strided), 4, mr(dq), 0, nullptr, 0,
                        nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 4,
                        mr(dO), 3, mr(dL), 0.0, 0, CPRT_NOT_CAUSAL, 0);
  EXPECT_TRUE(failedWith("block_attention: compiled code passed a "
                         "non-contiguous key"))
      << cprt_c_error();
  cprt_c_clear_error();

  // The ring backward names itself; a null output gradient.
  cprt_c_ring_bwd_f16(4, nullptr, 4, mr(dq), 4, mr(dq), 4, mr(dq), 4, mr(dO),
                      3, mr(dL), 0, nullptr, 0, nullptr, 4, mr(dO), 4, mr(dO),
                      4, mr(dO), 0.0, 0, CPRT_ROTATE_RING, CPRT_BALANCE_NONE,
                      S, 0);
  EXPECT_TRUE(failedWith("ring_attention_backward: compiled code passed a "
                         "null grad_output"))
      << cprt_c_error();
  cprt_c_clear_error();

  // Document ids and a window in one block are refused by name.
  std::vector<int32_t> seg(S, 0);
  Desc dseg = contiguous(seg.data(), {S});
  cprt_c_block_fwd_f32(4, mr(dq), 4, mr(dq), 4, mr(dq), 0, nullptr, 0, nullptr,
                       0, nullptr, 1, mr(dseg), 1, mr(dseg), 4, mr(dO), 3,
                       mr(dL), 0.0, CPRT_C_HAS_SEGMENTS, CPRT_CAUSAL, 2);
  EXPECT_TRUE(failedWith("block_attention: a window together with document "
                         "ids in one block is not supported yet"))
      << cprt_c_error();
  cprt_c_clear_error();

  // The per-document ring (DocumentsAbi.h's checks, shared with the GPU
  // twins): the ids must be the whole sequence's, and present.
  std::vector<int32_t> docs(2 * S, 0);
  Desc ddocs = contiguous(docs.data(), {2 * S});
  cprt_c_ring_docs_fwd_f32(4, mr(dq), 4, mr(dq), 4, mr(dq), 0, nullptr, 1,
                           mr(dseg), 4, mr(dO), 3, mr(dL), 0.0,
                           CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_LSE,
                           CPRT_ROTATE_RING,
                           CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, 2 * S, 0);
  EXPECT_TRUE(failedWith("ring_attention (per-document): per-document ring: "
                         "expected the document ids of the whole sequence "
                         "([16])"))
      << cprt_c_error();
  cprt_c_clear_error();
  cprt_c_ring_docs_bwd_f32(4, mr(dO), 4, mr(dq), 4, mr(dq), 4, mr(dq), 4,
                           mr(dO), 3, mr(dL), 0, nullptr, 1, mr(ddocs), 4,
                           mr(dO), 4, mr(dO), 4, mr(dO), 0.0, 0,
                           CPRT_ROTATE_RING,
                           CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL, 2 * S, 0);
  EXPECT_TRUE(failedWith("ring_attention_backward (per-document): "
                         "per-document ring: document ids are required"))
      << cprt_c_error();
  cprt_c_clear_error();

  // An unknown shift handle.
  cprt_c_shift_wait_f32(123456, 4, mr(dq));
  EXPECT_TRUE(failedWith("shift_wait: unknown shift handle 123456"))
      << cprt_c_error();
  cprt_c_clear_error();
  EXPECT_FALSE(cprt_c_failed());
}
