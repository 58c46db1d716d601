// The fast Box-Muller of the synthetic gradients (traces/synthetic_normal.hpp): its approximations
// of sqrt(-2 log u1) and cos(2 pi u2) are checked against libm on every one of the 2^26 inputs
// each (so the bounds the generator's rounding guard relies on hold everywhere), and whole rows
// are checked bit for bit against the libm formula.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "traces/synthetic_normal.hpp"

namespace arcsim::traces::detail {
namespace {

template <class Fast, class Exact>
double max_error_over_domain(Fast fast, Exact exact) {
  constexpr std::uint32_t kDomain = 1u << 26, kChunk = 1u << 16;
  std::vector<std::uint32_t> m(kChunk);
  std::vector<double> out(kChunk);
  double worst = 0;
  for (std::uint32_t lo = 0; lo < kDomain; lo += kChunk) {
    for (std::uint32_t i = 0; i < kChunk; ++i) m[i] = lo + i;
    fast(m.data(), kChunk, out.data());
    for (std::uint32_t i = 0; i < kChunk; ++i) worst = std::max(worst, std::fabs(out[i] - exact(m[i])));
  }
  return worst;
}

TEST(SyntheticNormal, RadialApproximationWithinItsBoundOnTheWholeDomain) {
  const double worst = max_error_over_domain(radial_fast, radial_exact);
  std::printf("radial: max |fast - libm| = %.3g (bound %.3g)\n", worst, kRadialError);
  EXPECT_LE(worst, kRadialError);
  EXPECT_EQ(radial_exact((1u << 26) - 1), 0.0);  // u1 = 1
}

TEST(SyntheticNormal, AngularApproximationWithinItsBoundOnTheWholeDomain) {
  const double worst = max_error_over_domain(angular_fast, angular_exact);
  std::printf("angular: max |fast - libm| = %.3g (bound %.3g)\n", worst, kAngularError);
  EXPECT_LE(worst, kAngularError);
}

TEST(SyntheticNormal, RowsAreTheLibmFormulaBitForBit) {
  std::size_t mismatches = 0, total = 0;
  for (std::uint64_t head : {1ull, 0x9e3779b97f4a7c15ull, 0xdeadbeefull})
    for (std::size_t cols : {1ul, 7ul, 256ul, 1000ul, 300000ul})
      for (double scale : {1e-2, 3.7e-5, 0.8}) {
        const double a_w = std::sqrt(0.5), b_w = std::sqrt(0.5);
        std::vector<double> shared(cols);
        std::vector<float> out(cols);
        synthetic_row(head * 3, head, 12345, cols, scale, a_w, b_w, shared.data(), true, out.data());
        for (std::size_t c = 0; c < cols; ++c) {
          const std::uint64_t e = 12345 + c;
          const float want = static_cast<float>(
              scale * (a_w * normal_exact(mix((head * 3) ^ e)) + b_w * normal_exact(mix(head ^ e))));
          std::uint32_t a, b;
          std::memcpy(&a, &out[c], 4);
          std::memcpy(&b, &want, 4);
          mismatches += a != b;
          ++total;
        }
      }
  EXPECT_EQ(mismatches, 0u) << "of " << total;
}

}  // namespace
}  // namespace arcsim::traces::detail
