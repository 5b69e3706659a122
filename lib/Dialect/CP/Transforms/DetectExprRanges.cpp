//===- DetectExprRanges.cpp - range-aware affine simplification -----------===//
//
// simplifyWithRanges (see DetectExpr.h): interval bounds of affine
// expressions over dims of known sizes, used to drop unit dims and fold
// floordiv/mod of reshaped indices.
//
//===----------------------------------------------------------------------===//

#include "DetectExpr.h"
#include "DetectExprUtils.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::cp::detect;

//===----------------------------------------------------------------------===//
// Range-aware affine simplification
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kInf = int64_t(1) << 60;

struct IndexRange {
  int64_t lo, hi;
};

int64_t satAdd(int64_t a, int64_t b) {
  if (a >= kInf || b >= kInf)
    return kInf;
  if (a <= -kInf || b <= -kInf)
    return -kInf;
  return a + b;
}

int64_t satMul(int64_t a, int64_t k) {
  if (a >= kInf || a <= -kInf)
    return k == 0 ? 0 : ((a > 0) == (k > 0) ? kInf : -kInf);
  __int128 r = (__int128)a * k;
  if (r >= kInf)
    return kInf;
  if (r <= -kInf)
    return -kInf;
  return (int64_t)r;
}
} // namespace

namespace mlir::cp::detect {

int64_t floorDiv(int64_t a, int64_t c) {
  if (a >= kInf || a <= -kInf)
    return a;
  int64_t q = a / c;
  if ((a % c != 0) && ((a < 0) != (c < 0)))
    --q;
  return q;
}

} // namespace mlir::cp::detect

namespace {

IndexRange rangeOf(AffineExpr e, ArrayRef<int64_t> sizes) {
  switch (e.getKind()) {
  case AffineExprKind::DimId: {
    unsigned pos = cast<AffineDimExpr>(e).getPosition();
    int64_t s = pos < sizes.size() ? sizes[pos] : ShapedType::kDynamic;
    return {0, ShapedType::isDynamic(s) ? kInf : s - 1};
  }
  case AffineExprKind::Constant: {
    int64_t c = cast<AffineConstantExpr>(e).getValue();
    return {c, c};
  }
  case AffineExprKind::Add: {
    auto b = cast<AffineBinaryOpExpr>(e);
    IndexRange l = rangeOf(b.getLHS(), sizes), r = rangeOf(b.getRHS(), sizes);
    return {satAdd(l.lo, r.lo), satAdd(l.hi, r.hi)};
  }
  case AffineExprKind::Mul: {
    auto b = cast<AffineBinaryOpExpr>(e);
    auto c = dyn_cast<AffineConstantExpr>(b.getRHS());
    if (!c)
      return {-kInf, kInf};
    IndexRange l = rangeOf(b.getLHS(), sizes);
    int64_t x = satMul(l.lo, c.getValue()), y = satMul(l.hi, c.getValue());
    return {std::min(x, y), std::max(x, y)};
  }
  case AffineExprKind::FloorDiv: {
    auto b = cast<AffineBinaryOpExpr>(e);
    auto c = dyn_cast<AffineConstantExpr>(b.getRHS());
    if (!c || c.getValue() <= 0)
      return {-kInf, kInf};
    IndexRange l = rangeOf(b.getLHS(), sizes);
    return {floorDiv(l.lo, c.getValue()), floorDiv(l.hi, c.getValue())};
  }
  case AffineExprKind::Mod: {
    auto b = cast<AffineBinaryOpExpr>(e);
    auto c = dyn_cast<AffineConstantExpr>(b.getRHS());
    if (!c || c.getValue() <= 0)
      return {-kInf, kInf};
    return {0, c.getValue() - 1};
  }
  default:
    return {-kInf, kInf};
  }
}

/// Flattens a sum into (atom, coefficient) terms plus a constant.
void collectTerms(AffineExpr e, int64_t coeff,
                  SmallVectorImpl<std::pair<AffineExpr, int64_t>> &terms,
                  int64_t &cst) {
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    cst += coeff * c.getValue();
    return;
  }
  if (e.getKind() == AffineExprKind::Add) {
    auto b = cast<AffineBinaryOpExpr>(e);
    collectTerms(b.getLHS(), coeff, terms, cst);
    collectTerms(b.getRHS(), coeff, terms, cst);
    return;
  }
  if (e.getKind() == AffineExprKind::Mul) {
    auto b = cast<AffineBinaryOpExpr>(e);
    if (auto c = dyn_cast<AffineConstantExpr>(b.getRHS())) {
      collectTerms(b.getLHS(), coeff * c.getValue(), terms, cst);
      return;
    }
  }
  terms.push_back({e, coeff});
}
} // namespace

AffineExpr mlir::cp::detect::simplifyWithRanges(AffineExpr e,
                                                ArrayRef<int64_t> sizes) {
  MLIRContext *ctx = e.getContext();
  switch (e.getKind()) {
  case AffineExprKind::DimId: {
    unsigned p = cast<AffineDimExpr>(e).getPosition();
    if (p < sizes.size() && sizes[p] == 1)
      return getAffineConstantExpr(0, ctx);
    return e;
  }
  case AffineExprKind::Constant:
  case AffineExprKind::SymbolId:
    return e;
  default:
    break;
  }
  auto bin = cast<AffineBinaryOpExpr>(e);
  AffineExpr l = simplifyWithRanges(bin.getLHS(), sizes);
  AffineExpr r = simplifyWithRanges(bin.getRHS(), sizes);
  switch (e.getKind()) {
  case AffineExprKind::Add: {
    // (x floordiv c)·c·k + (x mod c)·k == x·k: a split index put together.
    SmallVector<std::pair<AffineExpr, int64_t>> terms;
    int64_t cst = 0;
    collectTerms(l + r, 1, terms, cst);
    bool merged = true;
    while (merged) {
      merged = false;
      for (unsigned a = 0; a < terms.size() && !merged; ++a) {
        if (terms[a].first.getKind() != AffineExprKind::Mod)
          continue;
        auto m = cast<AffineBinaryOpExpr>(terms[a].first);
        auto c = dyn_cast<AffineConstantExpr>(m.getRHS());
        if (!c)
          continue;
        for (unsigned b = 0; b < terms.size() && !merged; ++b) {
          if (terms[b].first != m.getLHS().floorDiv(c.getValue()) ||
              terms[b].second != terms[a].second * c.getValue())
            continue;
          int64_t k = terms[a].second;
          terms[a] = {m.getLHS(), k};
          terms.erase(terms.begin() + b);
          merged = true;
        }
      }
    }
    AffineExpr sum = getAffineConstantExpr(cst, ctx);
    for (auto [atom, coeff] : terms)
      sum = sum + atom * coeff;
    return sum;
  }
  case AffineExprKind::Mul:
    return l * r;
  case AffineExprKind::CeilDiv:
    return l.ceilDiv(r);
  case AffineExprKind::FloorDiv:
  case AffineExprKind::Mod: {
    auto c = dyn_cast<AffineConstantExpr>(r);
    if (!c || c.getValue() <= 0)
      return e.getKind() == AffineExprKind::Mod ? l % r : l.floorDiv(r);
    int64_t k = c.getValue();
    SmallVector<std::pair<AffineExpr, int64_t>> terms;
    int64_t cst = 0;
    collectTerms(l, 1, terms, cst);
    int64_t rem = ((cst % k) + k) % k;
    AffineExpr divisible = getAffineConstantExpr((cst - rem) / k, ctx);
    AffineExpr rest = getAffineConstantExpr(rem, ctx);
    for (auto [atom, coeff] : terms) {
      if (coeff % k == 0)
        divisible = divisible + atom * (coeff / k);
      else
        rest = rest + atom * coeff;
    }
    IndexRange rr = rangeOf(rest, sizes);
    bool small = rr.lo >= 0 && rr.hi < k;
    if (small)
      return e.getKind() == AffineExprKind::Mod ? rest : divisible;
    // (A + R) with g | A, g | k and 0 <= R < g (a reshape's linearised
    // index): floordiv k = (A/g) floordiv (k/g);
    // mod k = ((A/g) mod (k/g))·g + R.
    for (int64_t g = k / 2; g > 1; --g) {
      if (k % g != 0)
        continue;
      AffineExpr a = getAffineConstantExpr(0, ctx);
      AffineExpr small2 = getAffineConstantExpr(0, ctx);
      int64_t cg = cst - (((cst % g) + g) % g);
      a = a + cg / g;
      small2 = small2 + (cst - cg);
      for (auto [atom, coeff] : terms) {
        if (coeff % g == 0)
          a = a + atom * (coeff / g);
        else
          small2 = small2 + atom * coeff;
      }
      IndexRange r2 = rangeOf(small2, sizes);
      if (r2.lo < 0 || r2.hi >= g)
        continue;
      if (e.getKind() == AffineExprKind::FloorDiv)
        return simplifyWithRanges(a.floorDiv(k / g), sizes);
      return simplifyWithRanges(a % (k / g), sizes) * g + small2;
    }
    if (e.getKind() == AffineExprKind::Mod)
      return rest % k;
    return divisible + rest.floorDiv(k);
  }
  default:
    return e;
  }
}

AffineMap mlir::cp::detect::simplifyWithRanges(AffineMap m,
                                               ArrayRef<int64_t> sizes) {
  SmallVector<AffineExpr> rs;
  for (AffineExpr e : m.getResults())
    rs.push_back(simplifyWithRanges(e, sizes));
  return AffineMap::get(m.getNumDims(), 0, rs, m.getContext());
}
