//===- KernelTest.cpp - CPU kernels vs the float64 reference --------------===//
#include "Reference.h"

#include "cprt/CpuBackend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace cprt;
using namespace cprt::test;

namespace {

enum class MaskKind { None, CausalPos, Window, Bool, Add, Doc, Pads };
const char *maskName(MaskKind m) {
  static const char *n[] = {"none", "causal_pos", "window", "bool",
                            "add", "doc", "pads"};
  return n[int(m)];
}
void PrintTo(MaskKind m, std::ostream *os) { *os << maskName(m); }

struct Case {
  DType dtype;
  StepCausal step;
  MaskKind mask;
  int64_t B = 2, Hq = 4, Hkv = 2, Sq = 37, Skv = 70, D = 16;
  float scale = 0;
};

/// Owns mask storage for a case.
struct MaskStore {
  std::vector<int64_t> qPos, kvPos;
  std::vector<int32_t> docs;
  std::vector<uint8_t> keep;
  std::vector<float> add;
};

void buildMask(const Case &c, std::mt19937_64 &rng, MaskStore &st,
               MaskSpec &m) {
  const int64_t off = c.Skv - c.Sq; // bottom-right aligned positions
  auto iota = [&] {
    st.qPos.resize(c.Sq);
    st.kvPos.resize(c.Skv);
    for (int64_t i = 0; i < c.Sq; ++i) st.qPos[i] = i + std::max<int64_t>(off, 0);
    for (int64_t j = 0; j < c.Skv; ++j) st.kvPos[j] = j;
    m.qPos = st.qPos.data();
    m.kvPos = st.kvPos.data();
  };
  std::bernoulli_distribution coin(0.7);
  switch (c.mask) {
  case MaskKind::None: break;
  case MaskKind::CausalPos: iota(); m.causal = true; break;
  case MaskKind::Window: iota(); m.causal = true; m.windowLeft = 7; break;
  case MaskKind::Bool: {
    st.keep.resize(c.B * c.Sq * c.Skv);
    for (auto &x : st.keep) x = coin(rng);
    for (int64_t j = 0; j < c.Skv; ++j) st.keep[3 * c.Skv + j] = 0; // dead row
    m.boolMask = st.keep.data();
    m.maskBStride = c.Sq * c.Skv; m.maskHStride = 0; m.maskRowStride = c.Skv;
    break;
  }
  case MaskKind::Add: {
    std::normal_distribution<float> n(0.f, 1.f);
    st.add.resize(c.Hq * c.Sq * c.Skv);
    for (auto &x : st.add) x = coin(rng) ? n(rng) : -INFINITY;
    for (int64_t j = 0; j < c.Skv; ++j) st.add[5 * c.Skv + j] = -INFINITY;
    m.addMask = st.add.data();
    m.maskBStride = 0; m.maskHStride = c.Sq * c.Skv; m.maskRowStride = c.Skv;
    break;
  }
  case MaskKind::Doc: {
    iota();
    m.causal = true;
    const int64_t n = std::max(c.Sq + std::max<int64_t>(off, 0), c.Skv);
    st.docs.resize(n);
    int32_t d = 0;
    int64_t left = 5;
    for (int64_t i = 0; i < n; ++i) {
      if (left-- == 0) { ++d; left = 3 + (d * 7) % 13; }
      st.docs[i] = d;
    }
    m.docIds = st.docs.data();
    m.docLen = n;
    break;
  }
  case MaskKind::Pads:
    iota();
    for (int64_t j = 0; j < c.Skv; j += 3) st.kvPos[j] = -1;
    st.qPos[0] = -1;
    st.qPos[c.Sq - 1] = -1;
    break;
  }
}

std::vector<double> readBack(const Buffer &b) {
  std::vector<double> r(b.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = b.get(i);
  return r;
}

void runCase(const Case &c, int threads = 0) {
  std::mt19937_64 rng(1234 + int(c.dtype) * 100 + int(c.step) * 10 +
                      int(c.mask));
  AttentionParams p;
  p.shape = {c.B, c.Hq, c.Hkv, c.Sq, c.Skv, c.D};
  p.scale = c.scale;
  p.stepCausal = c.step;
  MaskStore st;
  buildMask(c, rng, st, p.mask);

  const size_t nq = c.B * c.Hq * c.Sq * c.D, nk = c.B * c.Hkv * c.Skv * c.D;
  Buffer q = randomBuffer(c.dtype, nq, rng), k = randomBuffer(c.dtype, nk, rng),
         v = randomBuffer(c.dtype, nk, rng), g = randomBuffer(c.dtype, nq, rng);
  Buffer out = zeroBuffer(c.dtype, nq), dq = zeroBuffer(c.dtype, nq),
         dk = zeroBuffer(c.dtype, nk), dv = zeroBuffer(c.dtype, nk);
  std::vector<float> lse(c.B * c.Hq * c.Sq, 123.f);

  CpuBackend be(threads);
  ForwardArgs fa;
  fa.q = TensorView::contiguous(q.data(), c.dtype, c.Hq, c.Sq, c.D);
  fa.k = TensorView::contiguous(k.data(), c.dtype, c.Hkv, c.Skv, c.D);
  fa.v = TensorView::contiguous(v.data(), c.dtype, c.Hkv, c.Skv, c.D);
  fa.out = TensorView::contiguous(out.data(), c.dtype, c.Hq, c.Sq, c.D);
  fa.lse = lse.data();
  be.forward(p, fa);

  RefResult ref = refForward(p, q.ref, k.ref, v.ref);
  const Tol tol = tolFor(c.dtype);
  std::string msg = compare("out", readBack(out), ref.out, tol.atol, tol.rtol);
  EXPECT_TRUE(msg.empty()) << msg;
  std::vector<double> lseD(lse.begin(), lse.end());
  // LSE is fp32 in every dtype; only the inputs were rounded.
  msg = compare("lse", lseD, ref.lse, 2e-5, 2e-5);
  EXPECT_TRUE(msg.empty()) << msg;

  BackwardArgs ba;
  ba.dout = TensorView::contiguous(g.data(), c.dtype, c.Hq, c.Sq, c.D);
  ba.q = fa.q; ba.k = fa.k; ba.v = fa.v; ba.out = fa.out;
  ba.lse = lse.data();
  ba.dq = TensorView::contiguous(dq.data(), c.dtype, c.Hq, c.Sq, c.D);
  ba.dk = TensorView::contiguous(dk.data(), c.dtype, c.Hkv, c.Skv, c.D);
  ba.dv = TensorView::contiguous(dv.data(), c.dtype, c.Hkv, c.Skv, c.D);
  be.backward(p, ba);
  // The reference backward uses the *stored* out rounding-free; for half
  // storage the kernel's delta uses the rounded out, hence the half tolerance.
  refBackward(p, q.ref, k.ref, v.ref, g.ref, ref);
  for (auto [name, buf, want] :
       {std::tuple{"dq", &dq, &ref.dq}, std::tuple{"dk", &dk, &ref.dk},
        std::tuple{"dv", &dv, &ref.dv}}) {
    msg = compare(name, readBack(*buf), *want, tol.atol * 2, tol.rtol * 2);
    EXPECT_TRUE(msg.empty()) << msg;
  }
}

} // namespace

class KernelSweep
    : public ::testing::TestWithParam<std::tuple<DType, StepCausal, MaskKind>> {};

TEST_P(KernelSweep, MatchesReference) {
  auto [dt, step, mk] = GetParam();
  Case c{dt, step, mk};
  runCase(c);
}

INSTANTIATE_TEST_SUITE_P(
    All, KernelSweep,
    ::testing::Combine(
        ::testing::Values(DType::F32, DType::BF16, DType::F16),
        ::testing::Values(StepCausal::Skip, StepCausal::NotCausal,
                          StepCausal::Causal, StepCausal::CausalStrict,
                          StepCausal::KvHeadHalf, StepCausal::QTailHalf),
        ::testing::Values(MaskKind::None, MaskKind::CausalPos, MaskKind::Window,
                          MaskKind::Bool, MaskKind::Add, MaskKind::Doc,
                          MaskKind::Pads)),
    [](const auto &info) {
      return std::string(dtypeName(std::get<0>(info.param))) + "_" +
             stepCausalName(std::get<1>(info.param)) + "_" +
             maskName(std::get<2>(info.param));
    });

TEST(Kernel, LargerTilesCrossingCausal) {
  Case c{DType::F32, StepCausal::Causal, MaskKind::None, 1, 4, 1, 200, 200, 64};
  runCase(c);
}

TEST(Kernel, LargerWindowBf16Gqa) {
  Case c{DType::BF16, StepCausal::NotCausal, MaskKind::Window, 1, 8, 2, 150, 260, 32};
  runCase(c);
}

TEST(Kernel, OddSizesSingleThreadCustomScale) {
  Case c{DType::F32, StepCausal::Causal, MaskKind::Doc, 3, 3, 1, 1, 65, 7, 0.3f};
  runCase(c, 1);
  Case d{DType::F16, StepCausal::QTailHalf, MaskKind::None, 1, 2, 2, 67, 1, 9};
  runCase(d, 1);
}

TEST(Kernel, FullyMaskedRowsAreZeroNotNaN) {
  const int64_t S = 8, D = 4;
  std::mt19937_64 rng(7);
  Buffer q = randomBuffer(DType::F32, S * D, rng), k = randomBuffer(DType::F32, S * D, rng),
         v = randomBuffer(DType::F32, S * D, rng), g = randomBuffer(DType::F32, S * D, rng);
  std::vector<float> out(S * D, 7.f), lse(S), dq(S * D, 7.f), dk(S * D, 7.f), dv(S * D, 7.f);
  AttentionParams p;
  p.shape = {1, 1, 1, S, S, D};
  p.stepCausal = StepCausal::CausalStrict; // row 0 sees nothing
  CpuBackend be;
  ForwardArgs fa;
  fa.q = TensorView::contiguous(q.data(), DType::F32, 1, S, D);
  fa.k = TensorView::contiguous(k.data(), DType::F32, 1, S, D);
  fa.v = TensorView::contiguous(v.data(), DType::F32, 1, S, D);
  fa.out = TensorView::contiguous(out.data(), DType::F32, 1, S, D);
  fa.lse = lse.data();
  be.forward(p, fa);
  EXPECT_EQ(lse[0], -INFINITY);
  for (int64_t x = 0; x < D; ++x) EXPECT_EQ(out[x], 0.f);
  BackwardArgs ba;
  ba.q = fa.q; ba.k = fa.k; ba.v = fa.v; ba.out = fa.out; ba.lse = lse.data();
  ba.dout = TensorView::contiguous(g.data(), DType::F32, 1, S, D);
  ba.dq = TensorView::contiguous(dq.data(), DType::F32, 1, S, D);
  ba.dk = TensorView::contiguous(dk.data(), DType::F32, 1, S, D);
  ba.dv = TensorView::contiguous(dv.data(), DType::F32, 1, S, D);
  be.backward(p, ba);
  for (auto *buf : {&out, &dq, &dk, &dv})
    for (float x : *buf) EXPECT_FALSE(std::isnan(x));
  for (int64_t x = 0; x < D; ++x) EXPECT_EQ(dq[x], 0.f);
  // The last key is seen by no query under causal_strict: zero grads.
  for (int64_t x = 0; x < D; ++x) {
    EXPECT_EQ(dk[(S - 1) * D + x], 0.f);
    EXPECT_EQ(dv[(S - 1) * D + x], 0.f);
  }
}

TEST(Kernel, StridedBshdViewsAndAccumulate) {
  // q/k/v stored as [B, S, H, D] and viewed as BHSD through strides.
  const int64_t B = 2, H = 2, S = 33, D = 8;
  std::mt19937_64 rng(11);
  Buffer q = randomBuffer(DType::F32, B * S * H * D, rng),
         k = randomBuffer(DType::F32, B * S * H * D, rng),
         v = randomBuffer(DType::F32, B * S * H * D, rng),
         g = randomBuffer(DType::F32, B * S * H * D, rng);
  auto bshd = [&](void *d) {
    TensorView t;
    t.data = d; t.dtype = DType::F32;
    t.stride[0] = S * H * D; t.stride[1] = D; t.stride[2] = H * D; t.stride[3] = 1;
    return t;
  };
  auto toBhsd = [&](const std::vector<double> &x) {
    std::vector<double> r(x.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t s = 0; s < S; ++s)
          for (int64_t d = 0; d < D; ++d)
            r[((b * H + h) * S + s) * D + d] = x[((b * S + s) * H + h) * D + d];
    return r;
  };
  std::vector<float> out(B * S * H * D), lse(B * H * S);
  std::vector<float> dq(B * H * S * D, 1.f), dk(B * H * S * D, 1.f), dv(B * H * S * D, 1.f);
  AttentionParams p;
  p.shape = {B, H, H, S, S, D};
  p.stepCausal = StepCausal::Causal;
  CpuBackend be;
  ForwardArgs fa{bshd(q.data()), bshd(k.data()), bshd(v.data()), bshd(out.data()), lse.data()};
  be.forward(p, fa);
  BackwardArgs ba;
  ba.dout = bshd(g.data()); ba.q = fa.q; ba.k = fa.k; ba.v = fa.v; ba.out = fa.out;
  ba.lse = lse.data();
  ba.dq = TensorView::contiguous(dq.data(), DType::F32, H, S, D);
  ba.dk = TensorView::contiguous(dk.data(), DType::F32, H, S, D);
  ba.dv = TensorView::contiguous(dv.data(), DType::F32, H, S, D);
  ba.accumulate = true;
  be.backward(p, ba);
  auto Q = toBhsd(q.ref), K = toBhsd(k.ref), V = toBhsd(v.ref), G = toBhsd(g.ref);
  RefResult ref = refForward(p, Q, K, V);
  refBackward(p, Q, K, V, G, ref);
  std::vector<double> o(out.begin(), out.end());
  std::string m = compare("out", toBhsd(o), ref.out, 2e-5, 2e-5);
  EXPECT_TRUE(m.empty()) << m;
  for (auto [name, got, want] : {std::tuple{"dq", &dq, &ref.dq},
                                 std::tuple{"dk", &dk, &ref.dk},
                                 std::tuple{"dv", &dv, &ref.dv}}) {
    std::vector<double> d(got->begin(), got->end());
    for (auto &x : d) x -= 1.0; // accumulate added to the initial ones
    m = compare(name, d, *want, 4e-5, 4e-5);
    EXPECT_TRUE(m.empty()) << m;
  }
}

TEST(Kernel, MergePartialMatchesJointSoftmaxAndHandlesInf) {
  // Splitting keys into two halves and merging equals attending to all.
  const int64_t S = 20, D = 8;
  std::mt19937_64 rng(3);
  Buffer q = randomBuffer(DType::F32, S * D, rng), k = randomBuffer(DType::F32, S * D, rng),
         v = randomBuffer(DType::F32, S * D, rng);
  AttentionParams p;
  p.shape = {1, 1, 1, S, S / 2, D};
  p.stepCausal = StepCausal::NotCausal;
  CpuBackend be;
  std::vector<float> o1(S * D), o2(S * D), l1(S), l2(S);
  ForwardArgs a{TensorView::contiguous(q.data(), DType::F32, 1, S, D),
                TensorView::contiguous(k.data(), DType::F32, 1, S / 2, D),
                TensorView::contiguous(v.data(), DType::F32, 1, S / 2, D),
                TensorView::contiguous(o1.data(), DType::F32, 1, S, D), l1.data()};
  be.forward(p, a);
  a.k.data = k.f32.data() + S / 2 * D;
  a.v.data = v.f32.data() + S / 2 * D;
  a.out.data = o2.data();
  a.lse = l2.data();
  be.forward(p, a);
  // Make row 0 of the second part empty and row 1 of both parts empty.
  l2[0] = -INFINITY; l1[1] = l2[1] = -INFINITY;
  for (int x = 0; x < D; ++x) { o2[x] = 0; o1[D + x] = o2[D + x] = 0; }
  std::vector<float> o1Keep(o1.begin(), o1.begin() + D);
  float l1Keep = l1[0];
  be.mergePartial(o1.data(), l1.data(), o2.data(), l2.data(), S, D);
  p.shape.seqKV = S;
  RefResult ref = refForward(p, q.ref, k.ref, v.ref);
  for (int64_t i = 2; i < S; ++i) {
    EXPECT_NEAR(l1[i], ref.lse[i], 2e-5);
    for (int x = 0; x < D; ++x) EXPECT_NEAR(o1[i * D + x], ref.out[i * D + x], 2e-5);
  }
  EXPECT_EQ(l1[0], l1Keep);
  for (int x = 0; x < D; ++x) EXPECT_EQ(o1[x], o1Keep[x]);
  EXPECT_EQ(l1[1], -INFINITY);
  for (int x = 0; x < D; ++x) EXPECT_EQ(o1[D + x], 0.f);
}

TEST(Kernel, RejectsBadArguments) {
  AttentionParams p;
  p.shape = {1, 3, 2, 4, 4, 8};
  CpuBackend be;
  ForwardArgs a;
  EXPECT_THROW(be.forward(p, a), std::exception);
}
