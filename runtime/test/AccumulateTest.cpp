//===- AccumulateTest.cpp - Forward in accumulate mode vs float64 ---------===//
//
// ForwardArgs::accumulate merges a block's result into an fp32 partial
// (out, lse). Each case computes block 1 (plain forward, fp32 out), then
// accumulates block 2 (every StepCausal x masks with fully masked rows) and
// compares with a float64 reference of attention over the union of both key
// sets. Rows block 2 cannot see must be unchanged bit for bit; no NaN.
//
//===----------------------------------------------------------------------===//
#include "Reference.h"

#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace cprt;
using namespace cprt::test;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Mask2 { None, Bool, Add, CausalPos, Pads, Window };
const char *mask2Name(Mask2 m) {
  static const char *n[] = {"none", "bool", "add", "causal_pos", "pads", "window"};
  return n[int(m)];
}
void PrintTo(Mask2 m, std::ostream *os) { *os << mask2Name(m); }

struct Shape2 {
  int64_t B = 2, Hq = 4, Hkv = 2, Sq = 37, Skv1 = 45, Skv2 = 70, D = 16;
};

struct MaskStore {
  std::vector<int64_t> qPos, kvPos;
  std::vector<uint8_t> keep;
  std::vector<float> add;
};

/// Mask of block 2; every kind has fully masked rows or keys.
void buildMask2(Mask2 kind, const Shape2 &s, std::mt19937_64 &rng, MaskStore &st,
                MaskSpec &m) {
  auto positions = [&](int64_t qOff, int64_t kOff) {
    st.qPos.resize(s.Sq);
    st.kvPos.resize(s.Skv2);
    for (int64_t i = 0; i < s.Sq; ++i) st.qPos[i] = i + qOff;
    for (int64_t j = 0; j < s.Skv2; ++j) st.kvPos[j] = j + kOff;
    m.qPos = st.qPos.data();
    m.kvPos = st.kvPos.data();
  };
  std::bernoulli_distribution coin(0.7);
  switch (kind) {
  case Mask2::None: break;
  case Mask2::Bool:
    st.keep.resize(s.B * s.Sq * s.Skv2);
    for (auto &x : st.keep) x = coin(rng);
    for (int64_t b = 0; b < s.B; ++b) // dead rows 3 and 30
      for (int64_t j = 0; j < s.Skv2; ++j)
        st.keep[(b * s.Sq + 3) * s.Skv2 + j] = st.keep[(b * s.Sq + 30) * s.Skv2 + j] = 0;
    m.boolMask = st.keep.data();
    m.maskBStride = s.Sq * s.Skv2; m.maskHStride = 0; m.maskRowStride = s.Skv2;
    break;
  case Mask2::Add: {
    std::normal_distribution<float> n(0.f, 1.f);
    st.add.resize(s.Hq * s.Sq * s.Skv2);
    for (auto &x : st.add) x = coin(rng) ? n(rng) : -INFINITY;
    for (int64_t h = 0; h < s.Hq; ++h) // dead row 5
      for (int64_t j = 0; j < s.Skv2; ++j) st.add[(h * s.Sq + 5) * s.Skv2 + j] = -INFINITY;
    m.addMask = st.add.data();
    m.maskBStride = 0; m.maskHStride = s.Sq * s.Skv2; m.maskRowStride = s.Skv2;
    break;
  }
  case Mask2::CausalPos: // keys start at position 10: rows 0..9 see nothing
    positions(0, 10);
    m.causal = true;
    break;
  case Mask2::Pads:
    positions(0, 0);
    for (int64_t j = 0; j < s.Skv2; j += 3) st.kvPos[j] = -1;
    st.qPos[0] = st.qPos[s.Sq - 1] = st.qPos[s.Sq / 2] = -1;
    break;
  case Mask2::Window: // rows see keys (p - 7, p]; keys from 20 on
    positions(0, 20);
    m.windowLeft = 7;
    break;
  }
}

/// float64 attention over the keys of both blocks (each with its own
/// visibility): the exact result of merging block 2 into block 1.
void refUnion(const AttentionParams &p1, const AttentionParams &p2, const Shape2 &s,
              const std::vector<double> &q, const std::vector<double> &k1,
              const std::vector<double> &v1, const std::vector<double> &k2,
              const std::vector<double> &v2, std::vector<double> &out,
              std::vector<double> &lse) {
  const int64_t D = s.D, G = s.Hq / s.Hkv;
  const double scale = 1.0 / std::sqrt(double(D));
  out.assign(s.B * s.Hq * s.Sq * D, 0.0);
  lse.assign(s.B * s.Hq * s.Sq, -kInf);
  struct Key {
    double score;
    const double *v;
  };
  std::vector<Key> keys;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.Hq; ++h)
      for (int64_t i = 0; i < s.Sq; ++i) {
        const int64_t row = (b * s.Hq + h) * s.Sq + i;
        const double *qi = &q[row * D];
        keys.clear();
        auto collect = [&](const AttentionParams &p, const std::vector<double> &k,
                           const std::vector<double> &v, int64_t skv) {
          for (int64_t j = 0; j < skv; ++j) {
            double add = 0;
            if (!refVisible(p, b, h, i, j, &add)) continue;
            const int64_t kr = (b * s.Hkv + h / G) * skv + j;
            double d = 0;
            for (int64_t x = 0; x < D; ++x) d += qi[x] * k[kr * D + x];
            const double sc = d * scale + add;
            if (sc != -kInf) keys.push_back({sc, &v[kr * D]});
          }
        };
        collect(p1, k1, v1, s.Skv1);
        collect(p2, k2, v2, s.Skv2);
        if (keys.empty()) continue;
        double mx = -kInf, sum = 0;
        for (const Key &key : keys) mx = std::max(mx, key.score);
        for (const Key &key : keys) sum += std::exp(key.score - mx);
        for (const Key &key : keys) {
          const double w = std::exp(key.score - mx) / sum;
          for (int64_t x = 0; x < D; ++x) out[row * D + x] += w * key.v[x];
        }
        lse[row] = mx + std::log(sum);
      }
}

struct Inputs {
  Buffer q, k1, v1, k2, v2;
};

Inputs makeInputs(DType dt, const Shape2 &s, std::mt19937_64 &rng) {
  Inputs in;
  in.q = randomBuffer(dt, s.B * s.Hq * s.Sq * s.D, rng);
  in.k1 = randomBuffer(dt, s.B * s.Hkv * s.Skv1 * s.D, rng);
  in.v1 = randomBuffer(dt, s.B * s.Hkv * s.Skv1 * s.D, rng);
  in.k2 = randomBuffer(dt, s.B * s.Hkv * s.Skv2 * s.D, rng);
  in.v2 = randomBuffer(dt, s.B * s.Hkv * s.Skv2 * s.D, rng);
  return in;
}

AttentionParams params(const Shape2 &s, int64_t skv, StepCausal step) {
  AttentionParams p;
  p.shape = {s.B, s.Hq, s.Hkv, s.Sq, skv, s.D};
  p.stepCausal = step;
  return p;
}

/// `accumulateFn(p2, args)` runs block 2 in accumulate mode. `outView`
/// builds the fp32 out view (contiguous or strided) over `outStore`, and
/// `toBhsd` maps it back to contiguous BHSD element order.
template <typename AccFn>
void runAccumulate(DType dt, StepCausal first, StepCausal second, Mask2 mk, const Shape2 &s,
                   uint64_t seed, AccFn accumulateFn, bool bshdOut = false) {
  SCOPED_TRACE(std::string("first=") + stepCausalName(first) + " second=" +
               stepCausalName(second) + " mask2=" + mask2Name(mk) + " " + dtypeName(dt) +
               " seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Inputs in = makeInputs(dt, s, rng);
  AttentionParams p1 = params(s, s.Skv1, first), p2 = params(s, s.Skv2, second);
  MaskStore st;
  buildMask2(mk, s, rng, st, p2.mask);

  const size_t nOut = size_t(s.B * s.Hq * s.Sq * s.D), rows = size_t(s.B * s.Hq * s.Sq);
  std::vector<float> out(nOut, std::numeric_limits<float>::quiet_NaN()),
      lse(rows, std::numeric_limits<float>::quiet_NaN());
  TensorView ov = TensorView::contiguous(out.data(), DType::F32, s.Hq, s.Sq, s.D);
  if (bshdOut) { // [B, S, H, D] storage viewed as BHSD
    ov.stride[0] = s.Sq * s.Hq * s.D; ov.stride[1] = s.D; ov.stride[2] = s.Hq * s.D;
  }
  auto rowPtr = [&](size_t row) {
    const int64_t b = int64_t(row) / (s.Hq * s.Sq), h = (int64_t(row) / s.Sq) % s.Hq,
                  i = int64_t(row) % s.Sq;
    return out.data() + b * ov.stride[0] + h * ov.stride[1] + i * ov.stride[2];
  };

  CpuBackend be;
  ForwardArgs a;
  a.q = TensorView::contiguous(in.q.data(), dt, s.Hq, s.Sq, s.D);
  a.k = TensorView::contiguous(in.k1.data(), dt, s.Hkv, s.Skv1, s.D);
  a.v = TensorView::contiguous(in.v1.data(), dt, s.Hkv, s.Skv1, s.D);
  a.out = ov;
  a.lse = lse.data();
  be.forward(p1, a); // block 1: plain forward writes every row
  std::vector<float> out1(nOut), lse1 = lse;
  for (size_t r = 0; r < rows; ++r) std::memcpy(&out1[r * s.D], rowPtr(r), s.D * 4);

  a.k = TensorView::contiguous(in.k2.data(), dt, s.Hkv, s.Skv2, s.D);
  a.v = TensorView::contiguous(in.v2.data(), dt, s.Hkv, s.Skv2, s.D);
  a.accumulate = true;
  accumulateFn(p2, a);

  std::vector<double> rOut, rLse;
  refUnion(p1, p2, s, in.q.ref, in.k1.ref, in.v1.ref, in.k2.ref, in.v2.ref, rOut, rLse);
  std::vector<double> gOut(nOut), gLse(lse.begin(), lse.end());
  for (size_t r = 0; r < rows; ++r)
    for (int64_t x = 0; x < s.D; ++x) gOut[r * s.D + x] = rowPtr(r)[x];
  const Tol tol = tolFor(dt);
  std::string msg = compare("out", gOut, rOut, tol.atol, tol.rtol);
  EXPECT_TRUE(msg.empty()) << msg;
  msg = compare("lse", gLse, rLse, 2e-5, 2e-5);
  EXPECT_TRUE(msg.empty()) << msg;

  // Rows block 2 cannot see: unchanged bit for bit.
  const RefResult r2 = refForward(p2, in.q.ref, in.k2.ref, in.v2.ref);
  int unchangedRows = 0, bad = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (r2.lse[r] != -kInf) continue;
    ++unchangedRows;
    const bool same = std::memcmp(&lse[r], &lse1[r], 4) == 0 &&
                      std::memcmp(rowPtr(r), &out1[r * s.D], s.D * 4) == 0;
    if (!same && bad++ < 3) ADD_FAILURE() << "row " << r << " changed (block 2 sees nothing)";
  }
  for (float x : out) ASSERT_FALSE(std::isnan(x));
  for (float x : lse) ASSERT_FALSE(std::isnan(x));
  if (second == StepCausal::Skip || second == StepCausal::QTailHalf ||
      second == StepCausal::CausalStrict || mk != Mask2::None)
    EXPECT_GT(unchangedRows, 0) << "the case should have rows block 2 cannot see";
}

void cpuAccumulate(const AttentionParams &p, const ForwardArgs &a) {
  CpuBackend be;
  be.forward(p, a);
}

const StepCausal kAllSteps[] = {StepCausal::Skip,         StepCausal::NotCausal,
                                StepCausal::Causal,       StepCausal::CausalStrict,
                                StepCausal::KvHeadHalf,   StepCausal::QTailHalf};
// Block 1 (the partial): everything finite; head rows -inf; all -inf (out 0).
const StepCausal kFirsts[] = {StepCausal::NotCausal, StepCausal::QTailHalf, StepCausal::Skip};

} // namespace

class AccumulateSweep
    : public ::testing::TestWithParam<std::tuple<DType, StepCausal, Mask2>> {};

TEST_P(AccumulateSweep, MergesIntoPartial) {
  auto [dt, step, mk] = GetParam();
  for (StepCausal first : kFirsts)
    runAccumulate(dt, first, step, mk, Shape2{},
                  std::random_device{}(), cpuAccumulate);
}

INSTANTIATE_TEST_SUITE_P(
    All, AccumulateSweep,
    ::testing::Combine(::testing::Values(DType::F32, DType::BF16, DType::F16),
                       ::testing::ValuesIn(kAllSteps),
                       ::testing::Values(Mask2::None, Mask2::Bool, Mask2::Add,
                                         Mask2::CausalPos, Mask2::Pads, Mask2::Window)),
    [](const auto &info) {
      return std::string(dtypeName(std::get<0>(info.param))) + "_" +
             stepCausalName(std::get<1>(info.param)) + "_" + mask2Name(std::get<2>(info.param));
    });

TEST(Accumulate, LargerTilesGqa) {
  Shape2 s;
  s.B = 1; s.Hq = 8; s.Hkv = 2; s.Sq = 150; s.Skv1 = 130; s.Skv2 = 200; s.D = 64;
  for (StepCausal step : {StepCausal::Causal, StepCausal::CausalStrict, StepCausal::QTailHalf,
                          StepCausal::KvHeadHalf})
    runAccumulate(DType::BF16, StepCausal::Causal, step, Mask2::None, s,
                  std::random_device{}(), cpuAccumulate);
  runAccumulate(DType::F32, StepCausal::QTailHalf, StepCausal::NotCausal, Mask2::Window, s,
                std::random_device{}(), cpuAccumulate);
}

TEST(Accumulate, StridedOutView) {
  for (StepCausal step : {StepCausal::Causal, StepCausal::QTailHalf})
    runAccumulate(DType::F32, StepCausal::CausalStrict, step, Mask2::Bool, Shape2{},
                  std::random_device{}(), cpuAccumulate, /*bshdOut=*/true);
}

TEST(Accumulate, GenericMergeFallback) {
  // forwardAccumulateViaMerge (scratch + mergePartial) honours the same
  // contract, for packed and per-(b, h) row-contiguous outs.
  auto viaMerge = [](const AttentionParams &p, const ForwardArgs &a) {
    CpuBackend be;
    forwardAccumulateViaMerge(be, p, a);
  };
  for (StepCausal step : kAllSteps)
    for (Mask2 mk : {Mask2::None, Mask2::Bool, Mask2::CausalPos})
      runAccumulate(DType::F16, StepCausal::QTailHalf, step, mk, Shape2{},
                    std::random_device{}(), viaMerge);
  // BSHD out has stride[2] != D: the fallback refuses it clearly.
  Shape2 s;
  std::vector<float> out(s.B * s.Hq * s.Sq * s.D), lse(s.B * s.Hq * s.Sq);
  std::mt19937_64 rng(5);
  Inputs in = makeInputs(DType::F32, s, rng);
  ForwardArgs a;
  a.q = TensorView::contiguous(in.q.data(), DType::F32, s.Hq, s.Sq, s.D);
  a.k = TensorView::contiguous(in.k2.data(), DType::F32, s.Hkv, s.Skv2, s.D);
  a.v = TensorView::contiguous(in.v2.data(), DType::F32, s.Hkv, s.Skv2, s.D);
  a.out = TensorView::contiguous(out.data(), DType::F32, s.Hq, s.Sq, s.D);
  a.out.stride[1] = s.D; a.out.stride[2] = s.Hq * s.D;
  a.lse = lse.data();
  a.accumulate = true;
  CpuBackend be;
  EXPECT_THROW(forwardAccumulateViaMerge(be, params(s, s.Skv2, StepCausal::NotCausal), a),
               Error);
}

TEST(Accumulate, RejectsTypedOut) {
  Shape2 s;
  std::mt19937_64 rng(9);
  Inputs in = makeInputs(DType::BF16, s, rng);
  Buffer out = zeroBuffer(DType::BF16, s.B * s.Hq * s.Sq * s.D);
  std::vector<float> lse(s.B * s.Hq * s.Sq);
  ForwardArgs a;
  a.q = TensorView::contiguous(in.q.data(), DType::BF16, s.Hq, s.Sq, s.D);
  a.k = TensorView::contiguous(in.k2.data(), DType::BF16, s.Hkv, s.Skv2, s.D);
  a.v = TensorView::contiguous(in.v2.data(), DType::BF16, s.Hkv, s.Skv2, s.D);
  a.out = TensorView::contiguous(out.data(), DType::BF16, s.Hq, s.Sq, s.D);
  a.lse = lse.data();
  a.accumulate = true;
  CpuBackend be;
  const AttentionParams p = params(s, s.Skv2, StepCausal::NotCausal);
  try {
    be.forward(p, a);
    ADD_FAILURE() << "accumulate into a bf16 out was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("fp32 out"), std::string::npos) << e.what();
  }
  EXPECT_THROW(forwardAccumulateViaMerge(be, p, a), Error);
}

TEST(Accumulate, BothEmptyStaysEmpty) {
  // Block 1 skip (out 0, lse -inf) + block 2 skip / fully masked: -inf, 0, no NaN.
  for (Mask2 mk : {Mask2::None, Mask2::CausalPos})
    for (StepCausal step : {StepCausal::Skip, StepCausal::QTailHalf})
      runAccumulate(DType::F32, StepCausal::Skip, step, mk, Shape2{}, std::random_device{}(),
                    cpuAccumulate);
}
