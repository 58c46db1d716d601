// The counter-based Gaussian (kernels/philox.hpp): accurate against libm, N(0,1) moments, a pure
// function of its counter, and pinned bits (so a change that would break host/device identity or
// reproducibility of recorded plans is caught).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/philox.hpp"
#include "kernels/primitives.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::rng {
namespace {

TEST(Philox, LogMatchesLibmToFloatPrecision) {
  double worst = 0;
  for (std::uint32_t j = 1; j <= (1u << 24); j += 13) {
    const double exact = std::log(j / 16777216.0);
    worst = std::max(worst, std::fabs(log_unit24(j) - exact) / std::max(1.0, std::fabs(exact)));
  }
  EXPECT_LT(worst, 4e-7);
}

TEST(Philox, CosSinMatchLibmToFloatPrecision) {
  double worst = 0;
  for (std::uint32_t j = 1; j <= (1u << 24); j += 11) {
    float c, s;
    cos_sin_turn24(j, c, s);
    const double t = 2 * M_PI * (j / 16777216.0);
    worst = std::max({worst, std::fabs(c - std::cos(t)), std::fabs(s - std::sin(t))});
  }
  EXPECT_LT(worst, 2e-7);
}

TEST(Philox, GaussianMomentsAreStandardNormal) {
  const std::size_t n = 1 << 20;
  double s1 = 0, s2 = 0, s4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = sketch_entry(7, 3, 5, i);
    s1 += z;
    s2 += z * z;
    s4 += z * z * z * z;
  }
  EXPECT_NEAR(s1 / n, 0.0, 0.005);
  EXPECT_NEAR(s2 / n, 1.0, 0.01);
  EXPECT_NEAR(s4 / n, 3.0, 0.05);
}

TEST(Philox, EntryIsPureFunctionOfSeedStepTensorIndex) {
  EXPECT_EQ(sketch_entry(1, 2, 3, 4), sketch_entry(1, 2, 3, 4));
  EXPECT_NE(sketch_entry(1, 2, 3, 4), sketch_entry(2, 2, 3, 4));
  EXPECT_NE(sketch_entry(1, 2, 3, 4), sketch_entry(1, 3, 3, 4));
  EXPECT_NE(sketch_entry(1, 2, 3, 4), sketch_entry(1, 2, 4, 4));
  EXPECT_NE(sketch_entry(1, 2, 3, 4), sketch_entry(1, 2, 3, 5));
}

TEST(Philox, PinnedBits) {
  // Golden values of this implementation; the CUDA backend must reproduce them exactly.
  const std::uint32_t got[4] = {arcsim::kernels::testing::bits_of(sketch_entry(1, 0, 0, 0)),
                                arcsim::kernels::testing::bits_of(sketch_entry(1, 0, 0, 1)),
                                arcsim::kernels::testing::bits_of(sketch_entry(1234, 7, 65537, 1000001)),
                                arcsim::kernels::testing::bits_of(sketch_entry(~0ull, 99, 3, 1ull << 34))};
  const std::uint32_t golden[4] = {0xbf2bac06u, 0xbfc73f8eu, 0xbccc66b0u, 0x3e140f68u};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i], golden[i]) << "entry " << i;
}

TEST(Philox, SketchMatrixEqualsEntries) {
  std::vector<float> v(33 * 3);
  arcsim::kernels::sketch_matrix(33, 3, 9, 1, 2, v.data());
  for (std::size_t i = 0; i < v.size(); ++i)
    ASSERT_EQ(arcsim::kernels::testing::bits_of(v[i]), arcsim::kernels::testing::bits_of(sketch_entry(9, 1, 2, i)));
}

}  // namespace
}  // namespace arcsim::rng
