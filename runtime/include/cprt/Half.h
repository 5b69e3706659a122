//===- Half.h - bf16 / fp16 <-> fp32 conversion -----------------*- C++ -*-===//
//
// Small, dependency-free conversions with round-to-nearest-even. NaN stays
// NaN (quiet), overflow rounds to +-inf, fp16 subnormals are exact.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_HALF_H
#define CPRT_HALF_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace cprt {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float bf16ToFloat(uint16_t h) { return bitsFloat(uint32_t(h) << 16); }

inline uint16_t floatToBf16(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: keep sign, force quiet bit
    return uint16_t((x >> 16) | 0x0040u);
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb; // RNE; overflow carries into the exponent -> inf
  return uint16_t(x >> 16);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) { // zero or subnormal: mant * 2^-24
    float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  return bitsFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

inline uint16_t floatToF16(float f) {
  uint32_t x = floatBits(f);
  uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u)
    return sign | 0x7e00u; // NaN
  if (ax >= 0x477ff000u)   // >= 65520 rounds to inf
    return sign | 0x7c00u;
  if (ax < 0x38800000u) { // below 2^-14: subnormal (or zero)
    // a * 2^24 is exact; nearbyint rounds to nearest even (default mode).
    float m = std::nearbyint(bitsFloat(ax) * 16777216.0f);
    return sign | uint16_t(m); // m == 1024 yields the smallest normal
  }
  uint32_t mant = ax & 0x7fffffu;
  uint32_t exp = (ax >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
    ++h; // carry may move into the exponent: still correct
  return sign | uint16_t(h);
}

} // namespace cprt

#endif // CPRT_HALF_H
