//===- CpuAttention.cpp - Blocked CPU attention forward/backward ----------===//
//
// Flash-style: for each (b, query head, query tile) keep a running max, sum
// and fp32 accumulator over KV tiles. Backward runs two race-free passes
// (dq over query tiles; dk/dv over KV tiles, summing the GQA group), which
// recomputes scores once more but needs no atomics and is deterministic.
//
//===----------------------------------------------------------------------===//
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"
#include "cprt/Half.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cprt {

static constexpr float kNegInf = -std::numeric_limits<float>::infinity();

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::BF16: return "bf16";
  case DType::F16: return "f16";
  }
  return "?";
}

static const char *kStepNames[] = {"skip", "not_causal", "causal",
                                   "causal_strict", "kv_head_half",
                                   "q_tail_half"};

const char *stepCausalName(StepCausal c) {
  int i = int(c);
  return (i >= 0 && i < 6) ? kStepNames[i] : "?";
}

bool parseStepCausal(const char *name, StepCausal &out) {
  for (int i = 0; i < 6; ++i)
    if (std::string(name) == kStepNames[i]) {
      out = StepCausal(i);
      return true;
    }
  return false;
}

float AttentionParams::effectiveScale() const {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(float(shape.headDim));
}

int hardwareThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int CpuBackend::numThreads() const {
  return numThreads_ > 0 ? numThreads_ : hardwareThreads();
}

void convertToF32(const void *src, DType t, float *dst, int64_t n) {
  switch (t) {
  case DType::F32:
    std::copy_n(static_cast<const float *>(src), n, dst);
    return;
  case DType::BF16: {
    auto *s = static_cast<const uint16_t *>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16ToFloat(s[i]);
    return;
  }
  case DType::F16: {
    auto *s = static_cast<const uint16_t *>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = f16ToFloat(s[i]);
    return;
  }
  }
}

void convertFromF32(const float *src, void *dst, DType t, int64_t n) {
  switch (t) {
  case DType::F32:
    std::copy_n(src, n, static_cast<float *>(dst));
    return;
  case DType::BF16: {
    auto *d = static_cast<uint16_t *>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = floatToBf16(src[i]);
    return;
  }
  case DType::F16: {
    auto *d = static_cast<uint16_t *>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = floatToF16(src[i]);
    return;
  }
  }
}

void validateParams(const AttentionParams &p) {
  const AttentionShape &s = p.shape;
  check(s.batch >= 0 && s.seqQ >= 0 && s.seqKV >= 0,
        "attention: negative batch or sequence length");
  check(s.headDim > 0, "attention: head dim must be > 0, got " +
                           std::to_string(s.headDim));
  check(s.headsQ > 0 && s.headsKV > 0 && s.headsQ % s.headsKV == 0,
        "attention: query heads (" + std::to_string(s.headsQ) +
            ") must be a positive multiple of KV heads (" +
            std::to_string(s.headsKV) + ")");
  check(int(p.stepCausal) >= 0 && int(p.stepCausal) <= 5,
        "attention: unknown step causal value " +
            std::to_string(int(p.stepCausal)));
  check(!(p.mask.boolMask && p.mask.addMask),
        "attention: give a bool mask or an additive mask, not both");
  check(!(p.mask.docIds && p.mask.docLen <= 0),
        "attention: docIds given without docLen");
}

static void checkView(const TensorView &v, const char *what) {
  check(v.data != nullptr, std::string("attention: null tensor '") + what + "'");
  check(v.stride[3] == 1, std::string("attention: tensor '") + what +
                              "' must be contiguous in the head dim");
  check(int(v.dtype) >= 0 && int(v.dtype) <= 2,
        std::string("attention: bad dtype for '") + what + "'");
}

namespace {

/// Reads rows [r0, r0+n) of (b, h) of a view into dst [n][D] fp32.
void loadRows(const TensorView &v, int64_t b, int64_t h, int64_t r0, int64_t n,
              int64_t d, float *dst) {
  const size_t es = dtypeSize(v.dtype);
  const char *base = static_cast<const char *>(v.data) +
                     (b * v.stride[0] + h * v.stride[1] + r0 * v.stride[2]) * es;
  for (int64_t r = 0; r < n; ++r)
    convertToF32(base + r * v.stride[2] * es, v.dtype, dst + r * d, d);
}

void storeRows(const TensorView &v, int64_t b, int64_t h, int64_t r0,
               int64_t n, int64_t d, const float *src, bool accumulate) {
  const size_t es = dtypeSize(v.dtype);
  char *base = static_cast<char *>(v.data) +
               (b * v.stride[0] + h * v.stride[1] + r0 * v.stride[2]) * es;
  for (int64_t r = 0; r < n; ++r) {
    char *row = base + r * v.stride[2] * es;
    if (accumulate) {
      float *f = reinterpret_cast<float *>(row);
      const float *s = src + r * d;
#pragma omp simd
      for (int64_t x = 0; x < d; ++x) f[x] += s[x];
    } else {
      convertFromF32(src + r * d, row, v.dtype, d);
    }
  }
}

/// Decides visibility of (query row i, key j) for one (b, h) and classifies
/// tiles so fully visible / fully masked tiles avoid per-element work.
struct Visibility {
  const AttentionParams &p;
  int64_t b = 0, h = 0;
  int64_t sq, skv;
  bool anyMask;     // anything besides the step behaviour
  bool usesPos;     // causal/window/doc/pads need positions

  explicit Visibility(const AttentionParams &p)
      : p(p), sq(p.shape.seqQ), skv(p.shape.seqKV) {
    const MaskSpec &m = p.mask;
    usesPos = m.hasPositions() || m.causal || m.windowLeft > 0 || m.docIds;
    anyMask = usesPos || m.boolMask || m.addMask;
  }

  int64_t qPos(int64_t i) const { return p.mask.qPos ? p.mask.qPos[i] : i; }
  int64_t kPos(int64_t j) const { return p.mask.kvPos ? p.mask.kvPos[j] : j; }

  /// Query row range touched at all by the step behaviour.
  void rowRange(int64_t &r0, int64_t &r1) const {
    r0 = 0;
    r1 = sq;
    if (p.stepCausal == StepCausal::Skip)
      r1 = 0;
    else if (p.stepCausal == StepCausal::QTailHalf)
      r0 = sq / 2;
  }
  /// Key range touched at all by the step behaviour.
  int64_t keyEnd() const {
    if (p.stepCausal == StepCausal::Skip) return 0;
    if (p.stepCausal == StepCausal::KvHeadHalf) return skv / 2;
    return skv;
  }

  bool stepVisible(int64_t i, int64_t j) const {
    switch (p.stepCausal) {
    case StepCausal::Causal: return j <= i;
    case StepCausal::CausalStrict: return j < i;
    default: return true; // ranges already handle the half behaviours
    }
  }

  /// 0: tile empty, 1: tile fully visible with no mask values, 2: partial.
  int classify(int64_t i0, int64_t i1, int64_t j0, int64_t j1) const {
    if (i0 >= i1 || j0 >= j1) return 0;
    bool full = true;
    switch (p.stepCausal) {
    case StepCausal::Causal:
      if (j0 > i1 - 1) return 0;
      full = j1 - 1 <= i0;
      break;
    case StepCausal::CausalStrict:
      if (j0 >= i1 - 1) return 0;
      full = j1 - 1 < i0;
      break;
    default:
      break;
    }
    if (!anyMask) return full ? 1 : 2;
    if (usesPos) {
      const MaskSpec &m = p.mask;
      int64_t qmin = INT64_MAX, qmax = INT64_MIN, kmin = INT64_MAX,
              kmax = INT64_MIN;
      for (int64_t i = i0; i < i1; ++i) {
        int64_t q = qPos(i);
        if (q >= 0) { qmin = std::min(qmin, q); qmax = std::max(qmax, q); }
      }
      for (int64_t j = j0; j < j1; ++j) {
        int64_t k = kPos(j);
        if (k >= 0) { kmin = std::min(kmin, k); kmax = std::max(kmax, k); }
      }
      if (qmax < 0 || kmax < 0) return 0; // all padding
      if ((m.causal || m.windowLeft > 0) && kmin > qmax) return 0;
      if (m.windowLeft > 0 && kmax <= qmin - m.windowLeft) return 0;
    }
    return 2;
  }

  /// Scores s[i][j] (already scaled) -> masked scores; -inf where hidden.
  void apply(float *s, int64_t ldS, int64_t i0, int64_t i1, int64_t j0,
             int64_t j1) const {
    const MaskSpec &m = p.mask;
    const int64_t hb = b * m.maskBStride + h * m.maskHStride;
    for (int64_t i = i0; i < i1; ++i) {
      float *row = s + (i - i0) * ldS;
      const int64_t q = qPos(i);
      for (int64_t j = j0; j < j1; ++j) {
        float &x = row[j - j0];
        if (!stepVisible(i, j)) { x = kNegInf; continue; }
        if (!anyMask) continue;
        const int64_t k = kPos(j);
        if (usesPos) {
          if (q < 0 || k < 0) { x = kNegInf; continue; }
          if ((m.causal || m.windowLeft > 0) && k > q) { x = kNegInf; continue; }
          if (m.windowLeft > 0 && k <= q - m.windowLeft) { x = kNegInf; continue; }
          if (m.docIds && m.docIds[q] != m.docIds[k]) { x = kNegInf; continue; }
        }
        if (m.boolMask && !m.boolMask[hb + q * m.maskRowStride + k]) {
          x = kNegInf;
          continue;
        }
        if (m.addMask) x += m.addMask[hb + q * m.maskRowStride + k];
      }
    }
  }
};

/// Like loadRows, but writes the transpose dst[x * kTileK + r] (columns
/// >= n are zeroed) so score tiles vectorise over keys without reductions.
void loadRowsT(const TensorView &v, int64_t b, int64_t h, int64_t r0,
               int64_t n, int64_t d, float *row, float *dstT) {
  constexpr int64_t T = CpuBackend::kTileK;
  for (int64_t r = 0; r < n; ++r) {
    loadRows(v, b, h, r0 + r, 1, d, row);
    for (int64_t x = 0; x < d; ++x) dstT[x * T + r] = row[x];
  }
  if (n < T)
    for (int64_t x = 0; x < d; ++x)
      std::fill(dstT + x * T + n, dstT + (x + 1) * T, 0.f);
}

/// s[i][j] = scale * sum_x a[i][x] * bT[x][j] for nI rows and all kTileK
/// columns (bT is a transposed tile). Four rows at a time share each bT row.
inline void scoreTile(const float *a, int64_t nI, const float *bT, int64_t d,
                      float scale, float *s) {
  constexpr int64_t T = CpuBackend::kTileK;
  int64_t i = 0;
  for (; i + 4 <= nI; i += 4) {
    float c0[T] = {}, c1[T] = {}, c2[T] = {}, c3[T] = {};
    const float *a0 = a + i * d, *a1 = a0 + d, *a2 = a1 + d, *a3 = a2 + d;
    for (int64_t x = 0; x < d; ++x) {
      const float *br = bT + x * T;
      const float v0 = a0[x], v1 = a1[x], v2 = a2[x], v3 = a3[x];
#pragma omp simd
      for (int64_t j = 0; j < T; ++j) {
        c0[j] += v0 * br[j];
        c1[j] += v1 * br[j];
        c2[j] += v2 * br[j];
        c3[j] += v3 * br[j];
      }
    }
#pragma omp simd
    for (int64_t j = 0; j < T; ++j) {
      s[i * T + j] = c0[j] * scale;
      s[(i + 1) * T + j] = c1[j] * scale;
      s[(i + 2) * T + j] = c2[j] * scale;
      s[(i + 3) * T + j] = c3[j] * scale;
    }
  }
  for (; i < nI; ++i) {
    float c0[T] = {};
    const float *a0 = a + i * d;
    for (int64_t x = 0; x < d; ++x) {
      const float *br = bT + x * T;
      const float v0 = a0[x];
#pragma omp simd
      for (int64_t j = 0; j < T; ++j) c0[j] += v0 * br[j];
    }
#pragma omp simd
    for (int64_t j = 0; j < T; ++j) s[i * T + j] = c0[j] * scale;
  }
}

/// c[i][:] += sum_j p[i][j] * m[j][:] (p rows have stride kTileK). Blocks
/// of 4 rows x 64 columns are accumulated in registers over all j.
inline void accumulatePM(float *c, const float *p, int64_t nI, int64_t nJ,
                         const float *m, int64_t d) {
  constexpr int64_t T = CpuBackend::kTileK;
  constexpr int64_t W = 64;
  int64_t x0 = 0;
  for (; x0 + W <= d; x0 += W) {
    int64_t i = 0;
    for (; i + 4 <= nI; i += 4) {
      float a0[W], a1[W], a2[W], a3[W];
      float *c0 = c + i * d + x0, *c1 = c0 + d, *c2 = c1 + d, *c3 = c2 + d;
#pragma omp simd
      for (int64_t x = 0; x < W; ++x) {
        a0[x] = c0[x]; a1[x] = c1[x]; a2[x] = c2[x]; a3[x] = c3[x];
      }
      const float *p0 = p + i * T;
      for (int64_t j = 0; j < nJ; ++j) {
        const float w0 = p0[j], w1 = p0[T + j], w2 = p0[2 * T + j],
                    w3 = p0[3 * T + j];
        const float *mj = m + j * d + x0;
#pragma omp simd
        for (int64_t x = 0; x < W; ++x) {
          a0[x] += w0 * mj[x];
          a1[x] += w1 * mj[x];
          a2[x] += w2 * mj[x];
          a3[x] += w3 * mj[x];
        }
      }
#pragma omp simd
      for (int64_t x = 0; x < W; ++x) {
        c0[x] = a0[x]; c1[x] = a1[x]; c2[x] = a2[x]; c3[x] = a3[x];
      }
    }
    for (; i < nI; ++i) {
      float *c0 = c + i * d + x0;
      const float *p0 = p + i * T;
      for (int64_t j = 0; j < nJ; ++j) {
        const float w0 = p0[j];
        const float *mj = m + j * d + x0;
#pragma omp simd
        for (int64_t x = 0; x < W; ++x) c0[x] += w0 * mj[x];
      }
    }
  }
  if (x0 < d) { // head-dim remainder (d not a multiple of 64)
    for (int64_t i = 0; i < nI; ++i) {
      float *c0 = c + i * d;
      const float *p0 = p + i * T;
      for (int64_t j = 0; j < nJ; ++j) {
        const float w0 = p0[j];
        const float *mj = m + j * d;
#pragma omp simd
        for (int64_t x = x0; x < d; ++x) c0[x] += w0 * mj[x];
      }
    }
  }
}

/// out[j] = exp(x[j] - sub) for j < n <= kTileK, vectorised (Cody-Waite range reduction, degree-6 Taylor polynomial: relative error < 2e-7
/// on [-87, 1]; exactly 0 below -87 and for -inf, so masked scores give 0).
inline void expRow(const float *x, float sub, float *out, int64_t n) {
  constexpr int64_t T = CpuBackend::kTileK;
  float xs[T], r[T], pw[T];
  int32_t e[T];
  std::memcpy(xs, x, sizeof(float) * size_t(n)); // local copy: vectorises
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    float xc = xs[j] - sub; // clamp with selects: std::min/max block vectorising
    xc = xc < -87.f ? -87.f : xc;
    xc = xc > 88.f ? 88.f : xc;
    // Round to nearest through the 1.5*2^23 shifter (std::floor does not
    // vectorise with GCC 12 here); |xc*log2e| < 2^22 so this is exact.
    const float nn = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;
    r[j] = (xc - nn * 0.693145751953125f) - nn * 1.428606765330187e-06f;
    e[j] = (int32_t(nn) + 127) << 23;
  }
  std::memcpy(pw, e, sizeof(float) * size_t(n));
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float rr = r[j];
    float p = 1.f / 720.f;
    p = p * rr + 1.f / 120.f;
    p = p * rr + 1.f / 24.f;
    p = p * rr + 1.f / 6.f;
    p = p * rr + 0.5f;
    p = p * rr + 1.f;
    p = p * rr + 1.f;
    out[j] = (xs[j] - sub) < -87.f ? 0.f : p * pw[j];
  }
}

void checkPositions(const AttentionParams &p) {
  const MaskSpec &m = p.mask;
  if (!m.docIds) return;
  // Doc ids are indexed by position: every valid position must be in range.
  auto chk = [&](const int64_t *pos, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = pos ? pos[i] : i;
      check(x < m.docLen, "attention: position " + std::to_string(x) +
                              " out of range of docIds (length " +
                              std::to_string(m.docLen) + ")");
    }
  };
  chk(m.qPos, p.shape.seqQ);
  chk(m.kvPos, p.shape.seqKV);
}

} // namespace

void CpuBackend::forward(const AttentionParams &p, const ForwardArgs &a) {
  validateParams(p);
  checkPositions(p);
  const AttentionShape &s = p.shape;
  if (s.batch == 0 || s.seqQ == 0) return;
  checkView(a.q, "q"); checkView(a.out, "out");
  check(a.lse != nullptr, "attention: null lse");
  if (a.accumulate)
    check(a.out.dtype == DType::F32,
          std::string("attention: accumulate needs an fp32 out, got ") +
              dtypeName(a.out.dtype));
  // Accumulating a block that sees nothing leaves (out, lse) as they are.
  if (a.accumulate && (p.stepCausal == StepCausal::Skip || s.seqKV == 0))
    return;
  if (s.seqKV > 0) { checkView(a.k, "k"); checkView(a.v, "v"); }

  const int64_t D = s.headDim, Sq = s.seqQ, group = s.headsQ / s.headsKV;
  const float scale = p.effectiveScale();
  const int64_t nQT = (Sq + kTileQ - 1) / kTileQ;
  const int64_t work = s.batch * s.headsQ * nQT;

#pragma omp parallel num_threads(numThreads())
  {
    std::vector<float> qt(kTileQ * D), kt(kTileK * D), vt(kTileK * D),
        acc(kTileQ * D), sc(kTileQ * kTileK), mrow(kTileQ), lrow(kTileQ),
        row1(D);
    Visibility vis(p);
    int64_t r0, r1;
    vis.rowRange(r0, r1);
    const int64_t kEnd = vis.keyEnd();
#pragma omp for schedule(dynamic)
    for (int64_t w = 0; w < work; ++w) {
      const int64_t t = w % nQT, h = (w / nQT) % s.headsQ,
                    b = w / (nQT * s.headsQ);
      vis.b = b; vis.h = h;
      const int64_t i0 = t * kTileQ, i1 = std::min(Sq, i0 + kTileQ),
                    nI = i1 - i0;
      std::fill(acc.begin(), acc.begin() + nI * D, 0.f);
      std::fill(mrow.begin(), mrow.end(), kNegInf);
      std::fill(lrow.begin(), lrow.end(), 0.f);
      const int64_t a0 = std::max(i0, r0), a1 = std::min(i1, r1);
      if (a0 < a1) {
        loadRows(a.q, b, h, i0, nI, D, qt.data());
        for (int64_t j0 = 0; j0 < kEnd; j0 += kTileK) {
          const int64_t j1 = std::min(kEnd, j0 + kTileK), nJ = j1 - j0;
          const int cls = vis.classify(a0, a1, j0, j1);
          if (cls == 0) continue;
          loadRowsT(a.k, b, h / group, j0, nJ, D, row1.data(), kt.data());
          loadRows(a.v, b, h / group, j0, nJ, D, vt.data());
          float *sq = sc.data() + (a0 - i0) * kTileK;
          scoreTile(qt.data() + (a0 - i0) * D, a1 - a0, kt.data(), D, scale, sq);
          if (cls == 2) vis.apply(sq, kTileK, a0, a1, j0, j1);
          for (int64_t i = a0; i < a1; ++i) {
            const int64_t li = i - i0;
            float *row = sc.data() + li * kTileK;
            float mx = kNegInf;
#pragma omp simd reduction(max : mx)
            for (int64_t j = 0; j < nJ; ++j) mx = std::max(mx, row[j]);
            if (mx == kNegInf) { // nothing visible in this tile: p = 0
              std::fill(row, row + nJ, 0.f);
              continue;
            }
            const float mNew = std::max(mrow[li], mx);
            const float corr = std::exp(mrow[li] - mNew); // 0 when old -inf
            expRow(row, mNew, row, nJ); // exp(-inf) = 0
            float sum = 0.f;
#pragma omp simd reduction(+ : sum)
            for (int64_t j = 0; j < nJ; ++j) sum += row[j];
            lrow[li] = lrow[li] * corr + sum;
            mrow[li] = mNew;
            float *ai = acc.data() + li * D;
            if (corr != 1.f)
#pragma omp simd
              for (int64_t x = 0; x < D; ++x) ai[x] *= corr;
          }
          accumulatePM(acc.data() + (a0 - i0) * D, sc.data() + (a0 - i0) * kTileK,
                       a1 - a0, nJ, vt.data(), D);
        }
      }
      float *lse = a.lse + (b * s.headsQ + h) * Sq;
      if (a.accumulate) {
        // Merge each row that saw something into the fp32 partial in place;
        // rows with nothing visible (l == 0) keep out and lse bit for bit.
        float *ob = static_cast<float *>(a.out.data) + b * a.out.stride[0] +
                    h * a.out.stride[1];
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t li = i - i0;
          if (!(lrow[li] > 0.f)) continue;
          float *ai = acc.data() + li * D;
          const float inv = 1.f / lrow[li];
          for (int64_t x = 0; x < D; ++x) ai[x] *= inv;
          const float lb = mrow[li] + std::log(lrow[li]);
          mergePartialF32(ob + i * a.out.stride[2], lse + i, ai, &lb, 1, D);
        }
        continue;
      }
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t li = i - i0;
        float *ai = acc.data() + li * D;
        if (lrow[li] > 0.f) {
          const float inv = 1.f / lrow[li];
          for (int64_t x = 0; x < D; ++x) ai[x] *= inv;
          lse[i] = mrow[li] + std::log(lrow[li]);
        } else {
          std::fill(ai, ai + D, 0.f); // fully masked row: out 0, lse -inf
          lse[i] = kNegInf;
        }
      }
      storeRows(a.out, b, h, i0, nI, D, acc.data(), false);
    }
  }
}

void CpuBackend::backward(const AttentionParams &p, const BackwardArgs &a) {
  validateParams(p);
  checkPositions(p);
  const AttentionShape &s = p.shape;
  if (s.batch == 0) return;
  const int64_t D = s.headDim, Sq = s.seqQ, Skv = s.seqKV,
                group = s.headsQ / s.headsKV;
  if (a.accumulate)
    check(a.dq.dtype == DType::F32 && a.dk.dtype == DType::F32 &&
              a.dv.dtype == DType::F32,
          "attention backward: accumulate needs fp32 dq/dk/dv");
  if (Sq > 0) {
    checkView(a.q, "q"); checkView(a.dq, "dq"); checkView(a.dout, "dout");
    check(a.lse != nullptr, "attention backward: null lse");
    if (!a.delta) checkView(a.out, "out");
  }
  if (Skv > 0) {
    checkView(a.k, "k"); checkView(a.v, "v");
    checkView(a.dk, "dk"); checkView(a.dv, "dv");
  }
  const float scale = p.effectiveScale();
  const int nt = numThreads();

  // delta[b,h,i] = rowsum(dout * out), the softmax-gradient correction.
  std::vector<float> deltaBuf;
  const float *delta = a.delta;
  if (!delta && Sq > 0) {
    deltaBuf.resize(s.batch * s.headsQ * Sq);
#pragma omp parallel num_threads(nt)
    {
      std::vector<float> o(D), g(D);
#pragma omp for
      for (int64_t bh = 0; bh < s.batch * s.headsQ; ++bh)
        for (int64_t i = 0; i < Sq; ++i) {
          loadRows(a.out, bh / s.headsQ, bh % s.headsQ, i, 1, D, o.data());
          loadRows(a.dout, bh / s.headsQ, bh % s.headsQ, i, 1, D, g.data());
          float acc = 0.f;
          for (int64_t x = 0; x < D; ++x) acc += o[x] * g[x];
          deltaBuf[bh * Sq + i] = acc;
        }
    }
    delta = deltaBuf.data();
  }

  // Pass 1: dq, parallel over query tiles.
  const int64_t nQT = (Sq + kTileQ - 1) / kTileQ;
  if (Sq > 0) {
#pragma omp parallel num_threads(nt)
    {
      std::vector<float> qt(kTileQ * D), gt(kTileQ * D), kt(kTileK * D),
          kT(kTileK * D), vT(kTileK * D), dqt(kTileQ * D),
          sc(kTileQ * kTileK), dp(kTileQ * kTileK), row1(D);
      Visibility vis(p);
      int64_t r0, r1;
      vis.rowRange(r0, r1);
      const int64_t kEnd = vis.keyEnd();
#pragma omp for schedule(dynamic)
      for (int64_t w = 0; w < s.batch * s.headsQ * nQT; ++w) {
        const int64_t t = w % nQT, h = (w / nQT) % s.headsQ,
                      b = w / (nQT * s.headsQ);
        vis.b = b; vis.h = h;
        const int64_t i0 = t * kTileQ, i1 = std::min(Sq, i0 + kTileQ),
                      nI = i1 - i0;
        std::fill(dqt.begin(), dqt.begin() + nI * D, 0.f);
        const int64_t a0 = std::max(i0, r0), a1 = std::min(i1, r1);
        const float *lse = a.lse + (b * s.headsQ + h) * Sq;
        const float *dl = delta + (b * s.headsQ + h) * Sq;
        if (a0 < a1) {
          loadRows(a.q, b, h, i0, nI, D, qt.data());
          loadRows(a.dout, b, h, i0, nI, D, gt.data());
          for (int64_t j0 = 0; j0 < kEnd; j0 += kTileK) {
            const int64_t j1 = std::min(kEnd, j0 + kTileK), nJ = j1 - j0;
            const int cls = vis.classify(a0, a1, j0, j1);
            if (cls == 0) continue;
            loadRows(a.k, b, h / group, j0, nJ, D, kt.data());
            loadRowsT(a.k, b, h / group, j0, nJ, D, row1.data(), kT.data());
            loadRowsT(a.v, b, h / group, j0, nJ, D, row1.data(), vT.data());
            const int64_t off = a0 - i0, n = a1 - a0;
            float *sp = sc.data() + off * kTileK, *dpp = dp.data() + off * kTileK;
            scoreTile(qt.data() + off * D, n, kT.data(), D, scale, sp);
            if (cls == 2) vis.apply(sp, kTileK, a0, a1, j0, j1);
            scoreTile(gt.data() + off * D, n, vT.data(), D, 1.f, dpp);
            // sp <- dS * scale = P * (dP - delta) * scale
            for (int64_t i = a0; i < a1; ++i) {
              float *row = sc.data() + (i - i0) * kTileK;
              const float *dr = dp.data() + (i - i0) * kTileK;
              const float l = lse[i], di = dl[i];
              if (l == kNegInf) { // fully masked row
                std::fill(row, row + nJ, 0.f);
                continue;
              }
              expRow(row, l, row, nJ);
#pragma omp simd
              for (int64_t j = 0; j < nJ; ++j)
                row[j] = row[j] * (dr[j] - di) * scale;
            }
            accumulatePM(dqt.data() + off * D, sp, n, nJ, kt.data(), D);
          }
        }
        storeRows(a.dq, b, h, i0, nI, D, dqt.data(), a.accumulate);
      }
    }
  }

  // Pass 2: dk, dv, parallel over KV tiles; sums the GQA group's query heads.
  const int64_t nKT = (Skv + kTileK - 1) / kTileK;
  if (Skv > 0) {
#pragma omp parallel num_threads(nt)
    {
      std::vector<float> qt(kTileQ * D), gt(kTileQ * D), kT(kTileK * D),
          vT(kTileK * D), dkt(kTileK * D), dvt(kTileK * D),
          sc(kTileQ * kTileK), dp(kTileQ * kTileK), pT(kTileK * kTileQ),
          dsT(kTileK * kTileQ), row1(D);
      Visibility vis(p);
      int64_t r0, r1;
      vis.rowRange(r0, r1);
      const int64_t kEnd = vis.keyEnd();
#pragma omp for schedule(dynamic)
      for (int64_t w = 0; w < s.batch * s.headsKV * nKT; ++w) {
        const int64_t t = w % nKT, g = (w / nKT) % s.headsKV,
                      b = w / (nKT * s.headsKV);
        const int64_t j0 = t * kTileK, j1 = std::min(Skv, j0 + kTileK),
                      nJ = j1 - j0;
        std::fill(dkt.begin(), dkt.begin() + nJ * D, 0.f);
        std::fill(dvt.begin(), dvt.begin() + nJ * D, 0.f);
        const int64_t e1 = std::min(j1, kEnd);
        if (j0 < e1 && r0 < r1) {
          const int64_t nE = e1 - j0;
          loadRowsT(a.k, b, g, j0, nE, D, row1.data(), kT.data());
          loadRowsT(a.v, b, g, j0, nE, D, row1.data(), vT.data());
          for (int64_t h = g * group; h < (g + 1) * group; ++h) {
            vis.b = b; vis.h = h;
            const float *lse = a.lse + (b * s.headsQ + h) * Sq;
            const float *dl = delta + (b * s.headsQ + h) * Sq;
            for (int64_t i0 = r0 - r0 % kTileQ; i0 < r1; i0 += kTileQ) {
              const int64_t a0 = std::max(i0, r0),
                            a1 = std::min(r1, i0 + kTileQ), n = a1 - a0;
              const int cls = vis.classify(a0, a1, j0, e1);
              if (cls == 0) continue;
              loadRows(a.q, b, h, a0, n, D, qt.data());
              loadRows(a.dout, b, h, a0, n, D, gt.data());
              scoreTile(qt.data(), n, kT.data(), D, scale, sc.data());
              if (cls == 2) vis.apply(sc.data(), kTileK, a0, a1, j0, e1);
              scoreTile(gt.data(), n, vT.data(), D, 1.f, dp.data());
              // sc <- P, dp <- dS * scale
              for (int64_t li = 0; li < n; ++li) {
                float *row = sc.data() + li * kTileK;
                float *dr = dp.data() + li * kTileK;
                const float l = lse[a0 + li], di = dl[a0 + li];
                if (l == kNegInf) {
                  std::fill(row, row + nE, 0.f);
                  std::fill(dr, dr + nE, 0.f);
                  continue;
                }
                expRow(row, l, row, nE);
#pragma omp simd
                for (int64_t j = 0; j < nE; ++j)
                  dr[j] = row[j] * (dr[j] - di) * scale;
              }
              // dv += P^T dO, dk += dS^T Q through the register-blocked
              // row kernel on transposed tiles.
              static_assert(kTileQ == kTileK, "square tiles for transposes");
              for (int64_t li = 0; li < n; ++li)
                for (int64_t j = 0; j < nE; ++j) {
                  pT[j * kTileK + li] = sc[li * kTileK + j];
                  dsT[j * kTileK + li] = dp[li * kTileK + j];
                }
              accumulatePM(dvt.data(), pT.data(), nE, n, gt.data(), D);
              accumulatePM(dkt.data(), dsT.data(), nE, n, qt.data(), D);
            }
          }
        }
        storeRows(a.dk, b, g, j0, nJ, D, dkt.data(), a.accumulate);
        storeRows(a.dv, b, g, j0, nJ, D, dvt.data(), a.accumulate);
      }
    }
  }
}

void mergePartialF32(float *out, float *lse, const float *outB,
                     const float *lseB, int64_t rows, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    const float la = lse[r], lb = lseB[r];
    if (lb == kNegInf) continue;           // nothing to add
    float *o = out + r * d;
    const float *ob = outB + r * d;
    if (la == kNegInf) {                   // take b as is
      std::copy_n(ob, d, o);
      lse[r] = lb;
      continue;
    }
    const float mx = std::max(la, lb);
    const float l = mx + std::log1p(std::exp(-std::fabs(la - lb)));
    const float wa = std::exp(la - l), wb = std::exp(lb - l);
#pragma omp simd
    for (int64_t x = 0; x < d; ++x) o[x] = wa * o[x] + wb * ob[x];
    lse[r] = l;
  }
}

void CpuBackend::mergePartial(float *out, float *lse, const float *outB,
                              const float *lseB, int64_t rows, int64_t d) {
  const int nt = numThreads();
  const int64_t chunk = 256;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r0 = 0; r0 < rows; r0 += chunk)
    mergePartialF32(out + r0 * d, lse + r0, outB + r0 * d, lseB + r0,
                    std::min(chunk, rows - r0), d);
}

} // namespace cprt
