#include "cprt/Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace cprt;

TEST(Half, Bf16RoundTripAndRne) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties to even (1).
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6: rounds up.
  EXPECT_EQ(floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
  EXPECT_EQ(bf16ToFloat(floatToBf16(-std::numeric_limits<float>::infinity())),
            -std::numeric_limits<float>::infinity());
  EXPECT_EQ(floatToBf16(3.4e38f), 0x7f80); // overflows to +inf
}

TEST(Half, F16RoundTripAndRne) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(f16ToFloat(0x3c00), 1.0f);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65519.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00);
  EXPECT_EQ(floatToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie -> even
  EXPECT_EQ(floatToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Subnormals: 2^-24 is the smallest; 2^-25 ties to even (0).
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(floatToF16(std::ldexp(3.0f, -25)), 0x0002);
  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16ToFloat(0x8400), -std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(std::nanf("")))));
}

TEST(Half, ExhaustiveF16RoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16ToFloat(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(floatToF16(f), h) << std::hex << h;
  }
}

TEST(Half, ExhaustiveBf16RoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = bf16ToFloat(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(floatToBf16(f), h) << std::hex << h;
  }
}
