//===- Reference.h - Naive float64 attention oracle for tests ---*- C++ -*-===//
//
// Deliberately naive O(S^2) float64 implementation, written independently of
// the kernels (its own visibility rule), for contiguous BHSD tensors.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_TEST_REFERENCE_H
#define CPRT_TEST_REFERENCE_H

#include "cprt/Attention.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cprt/LoadBalancer.h"
#include "cprt/RingAttention.h"

#include <ostream>

namespace cprt {
// Readable GoogleTest parameter names in test output.
inline void PrintTo(DType t, std::ostream *os) { *os << dtypeName(t); }
inline void PrintTo(StepCausal c, std::ostream *os) { *os << stepCausalName(c); }
inline void PrintTo(Balancer b, std::ostream *os) { *os << balancerName(b); }
inline void PrintTo(RotateMethod m, std::ostream *os) { *os << rotateName(m); }
} // namespace cprt

namespace cprt::test {

struct RefResult {
  std::vector<double> out, lse;        // [B,Hq,Sq,D], [B,Hq,Sq]
  std::vector<double> dq, dk, dv;      // filled by refBackward
};

/// True if (b, h, i, j) is visible; adds the additive mask value to *add.
bool refVisible(const AttentionParams &p, int64_t b, int64_t h, int64_t i,
                int64_t j, double *add);

RefResult refForward(const AttentionParams &p, const std::vector<double> &q,
                     const std::vector<double> &k,
                     const std::vector<double> &v);
void refBackward(const AttentionParams &p, const std::vector<double> &q,
                 const std::vector<double> &k, const std::vector<double> &v,
                 const std::vector<double> &dout, RefResult &r);

/// Storage buffer holding values of a dtype plus their exact double values.
struct Buffer {
  DType dtype = DType::F32;
  std::vector<uint16_t> half;
  std::vector<float> f32;
  std::vector<double> ref; // the exact value of each stored element
  void *data() { return dtype == DType::F32 ? (void *)f32.data() : (void *)half.data(); }
  size_t size() const { return ref.size(); }
  /// Reads back element i as double (after a kernel wrote the buffer).
  double get(size_t i) const;
  void resize(size_t n);
};

Buffer randomBuffer(DType t, size_t n, std::mt19937_64 &rng, double lo = -1,
                    double hi = 1);
Buffer zeroBuffer(DType t, size_t n);

/// Tolerance check: |got - want| <= atol + rtol * |want|, NaN never passes,
/// -inf must match -inf. Returns an empty string or a description of the
/// first few mismatches.
std::string compare(const std::string &what, const std::vector<double> &got,
                    const std::vector<double> &want, double atol, double rtol);

struct Tol {
  double atol, rtol;
};
Tol tolFor(DType t);

} // namespace cprt::test

#endif
