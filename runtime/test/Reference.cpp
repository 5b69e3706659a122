#include "Reference.h"

#include "cprt/CpuBackend.h"
#include "cprt/Half.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace cprt::test {

static constexpr double kInf = std::numeric_limits<double>::infinity();

bool refVisible(const AttentionParams &p, int64_t b, int64_t h, int64_t i,
                int64_t j, double *add) {
  const int64_t sq = p.shape.seqQ, skv = p.shape.seqKV;
  switch (p.stepCausal) {
  case StepCausal::Skip: return false;
  case StepCausal::NotCausal: break;
  case StepCausal::Causal: if (!(j <= i)) return false; break;
  case StepCausal::CausalStrict: if (!(j < i)) return false; break;
  case StepCausal::KvHeadHalf: if (!(2 * j < skv - skv % 2)) return false; break;
  case StepCausal::QTailHalf: if (!(i >= sq / 2)) return false; break;
  }
  const MaskSpec &m = p.mask;
  const int64_t qp = m.qPos ? m.qPos[i] : i;
  const int64_t kp = m.kvPos ? m.kvPos[j] : j;
  if (qp < 0 || kp < 0) return false;
  if (m.causal && kp > qp) return false;
  if (m.windowLeft > 0 && !(qp - m.windowLeft < kp && kp <= qp)) return false;
  if (m.docIds && m.docIds[qp] != m.docIds[kp]) return false;
  const int64_t off = b * m.maskBStride + h * m.maskHStride + qp * m.maskRowStride + kp;
  if (m.boolMask && m.boolMask[off] == 0) return false;
  if (m.addMask) *add += m.addMask[off];
  return true;
}

RefResult refForward(const AttentionParams &p, const std::vector<double> &q,
                     const std::vector<double> &k,
                     const std::vector<double> &v) {
  const auto &s = p.shape;
  const int64_t D = s.headDim, G = s.headsQ / s.headsKV;
  const double scale = p.scale != 0 ? p.scale : 1.0 / std::sqrt(double(D));
  RefResult r;
  r.out.assign(s.batch * s.headsQ * s.seqQ * D, 0.0);
  r.lse.assign(s.batch * s.headsQ * s.seqQ, -kInf);
  std::vector<double> sc(s.seqKV);
  std::vector<char> vis(s.seqKV);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.headsQ; ++h) {
      const int64_t g = h / G;
      for (int64_t i = 0; i < s.seqQ; ++i) {
        const double *qi = &q[((b * s.headsQ + h) * s.seqQ + i) * D];
        double mx = -kInf;
        for (int64_t j = 0; j < s.seqKV; ++j) {
          double add = 0;
          vis[j] = refVisible(p, b, h, i, j, &add);
          if (!vis[j]) continue;
          const double *kj = &k[((b * s.headsKV + g) * s.seqKV + j) * D];
          double d = 0;
          for (int64_t x = 0; x < D; ++x) d += qi[x] * kj[x];
          sc[j] = d * scale + add;
          if (sc[j] == -kInf) vis[j] = 0;
          else mx = std::max(mx, sc[j]);
        }
        if (mx == -kInf) continue;
        double sum = 0;
        for (int64_t j = 0; j < s.seqKV; ++j)
          if (vis[j]) sum += std::exp(sc[j] - mx);
        double *o = &r.out[((b * s.headsQ + h) * s.seqQ + i) * D];
        for (int64_t j = 0; j < s.seqKV; ++j) {
          if (!vis[j]) continue;
          const double pj = std::exp(sc[j] - mx) / sum;
          const double *vj = &v[((b * s.headsKV + g) * s.seqKV + j) * D];
          for (int64_t x = 0; x < D; ++x) o[x] += pj * vj[x];
        }
        r.lse[(b * s.headsQ + h) * s.seqQ + i] = mx + std::log(sum);
      }
    }
  return r;
}

void refBackward(const AttentionParams &p, const std::vector<double> &q,
                 const std::vector<double> &k, const std::vector<double> &v,
                 const std::vector<double> &dout, RefResult &r) {
  const auto &s = p.shape;
  const int64_t D = s.headDim, G = s.headsQ / s.headsKV;
  const double scale = p.scale != 0 ? p.scale : 1.0 / std::sqrt(double(D));
  r.dq.assign(q.size(), 0.0);
  r.dk.assign(k.size(), 0.0);
  r.dv.assign(v.size(), 0.0);
  std::vector<double> P(s.seqKV), dP(s.seqKV);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.headsQ; ++h) {
      const int64_t g = h / G;
      for (int64_t i = 0; i < s.seqQ; ++i) {
        const int64_t row = (b * s.headsQ + h) * s.seqQ + i;
        const double lse = r.lse[row];
        if (lse == -kInf) continue;
        const double *qi = &q[row * D], *gi = &dout[row * D];
        double rowDot = 0;
        for (int64_t j = 0; j < s.seqKV; ++j) {
          double add = 0;
          P[j] = dP[j] = 0;
          if (!refVisible(p, b, h, i, j, &add)) continue;
          const double *kj = &k[((b * s.headsKV + g) * s.seqKV + j) * D];
          const double *vj = &v[((b * s.headsKV + g) * s.seqKV + j) * D];
          double d = 0, e = 0;
          for (int64_t x = 0; x < D; ++x) { d += qi[x] * kj[x]; e += gi[x] * vj[x]; }
          P[j] = std::exp(d * scale + add - lse);
          dP[j] = e;
          rowDot += P[j] * e;
        }
        for (int64_t j = 0; j < s.seqKV; ++j) {
          if (P[j] == 0) continue;
          const int64_t kr = (b * s.headsKV + g) * s.seqKV + j;
          const double ds = P[j] * (dP[j] - rowDot) * scale;
          for (int64_t x = 0; x < D; ++x) {
            r.dq[row * D + x] += ds * k[kr * D + x];
            r.dk[kr * D + x] += ds * qi[x];
            r.dv[kr * D + x] += P[j] * gi[x];
          }
        }
      }
    }
}

double Buffer::get(size_t i) const {
  switch (dtype) {
  case DType::F32: return f32[i];
  case DType::BF16: return bf16ToFloat(half[i]);
  case DType::F16: return f16ToFloat(half[i]);
  }
  return 0;
}

void Buffer::resize(size_t n) {
  ref.assign(n, 0.0);
  if (dtype == DType::F32) f32.assign(n, 0.f);
  else half.assign(n, 0);
}

Buffer zeroBuffer(DType t, size_t n) {
  Buffer b;
  b.dtype = t;
  b.resize(n);
  return b;
}

Buffer randomBuffer(DType t, size_t n, std::mt19937_64 &rng, double lo,
                    double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Buffer b = zeroBuffer(t, n);
  for (size_t i = 0; i < n; ++i) {
    float f = float(u(rng));
    if (f == 0.f) f = 0.5f; // never zeros
    switch (t) {
    case DType::F32: b.f32[i] = f; break;
    case DType::BF16: b.half[i] = floatToBf16(f); break;
    case DType::F16: b.half[i] = floatToF16(f); break;
    }
    b.ref[i] = b.get(i);
  }
  return b;
}

std::string compare(const std::string &what, const std::vector<double> &got,
                    const std::vector<double> &want, double atol,
                    double rtol) {
  std::ostringstream os;
  if (got.size() != want.size()) {
    os << what << ": size " << got.size() << " != " << want.size();
    return os.str();
  }
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    bool ok;
    if (std::isnan(g) || std::isnan(w)) ok = false;
    else if (std::isinf(w) || std::isinf(g)) ok = g == w;
    else {
      const double e = std::fabs(g - w);
      ok = e <= atol + rtol * std::fabs(w);
      worst = std::max(worst, e / (atol + rtol * std::fabs(w)));
    }
    if (!ok && bad++ < 5)
      os << what << "[" << i << "]: got " << g << " want " << w << "\n";
  }
  if (bad) os << what << ": " << bad << " of " << got.size() << " mismatch";
  return os.str();
}

Tol tolFor(DType t) {
  // fp32: accumulation-order differences only. bf16/fp16: one rounding of
  // the stored result (2^-8 / 2^-11 relative) plus fp32 accumulation.
  switch (t) {
  case DType::F32: return {2e-5, 2e-5};
  case DType::BF16: return {1e-2, 1e-2};
  case DType::F16: return {2e-3, 2e-3};
  }
  return {0, 0};
}

} // namespace cprt::test
