// Sketch, row scores, row gather/scatter and Rand-K index generation (kernels/primitives.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/primitives.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::kernels {
namespace {

TEST(Sketch, EqualsTheDocumentedFmaOrderBitForBit) {
  const std::size_t n = 37, m = 33;
  const int r = 4;
  auto G = testing::make_input(testing::Dist::kNormal, n * m, 3);
  std::vector<float> V(m * r), P(n * r);
  sketch_matrix(m, r, 11, 2, 5, V.data());
  sketch(G.data(), n, m, r, 11, 2, 5, P.data());
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < r; ++c) {
      float acc = 0.0f;
      for (std::size_t j = 0; j < m; ++j) acc = std::fma(G[i * m + j], V[j * r + c], acc);
      ASSERT_EQ(testing::bits_of(P[i * r + c]), testing::bits_of(acc)) << i << "," << c;
    }
}

TEST(Sketch, IsLinearSoTheAverageOfSketchesSketchesTheAverage) {
  const std::size_t n = 16, m = 64;
  auto A = testing::make_input(testing::Dist::kNormal, n * m, 1), B = testing::make_input(testing::Dist::kNormal, n * m, 2);
  std::vector<float> S(n * m), PA(n * 4), PB(n * 4), PS(n * 4);
  for (std::size_t i = 0; i < S.size(); ++i) S[i] = A[i] + B[i];
  sketch(A.data(), n, m, 4, 1, 0, 0, PA.data());
  sketch(B.data(), n, m, 4, 1, 0, 0, PB.data());
  sketch(S.data(), n, m, 4, 1, 0, 0, PS.data());
  for (std::size_t i = 0; i < PS.size(); ++i) EXPECT_NEAR(PA[i] + PB[i], PS[i], 1e-4f * (1 + std::fabs(PS[i])));
}

TEST(Sketch, EmptyMatrixIsFine) {
  std::vector<float> P(1, 7.0f);
  sketch(nullptr, 0, 5, 4, 1, 0, 0, P.data());
  EXPECT_EQ(P[0], 7.0f);
}

TEST(RowScores, AreSquaredNormsInFmaOrder) {
  const float P[] = {1, 2, 3, 4, -0.5f, 0.25f};
  float s[2];
  row_scores(P, 2, 3, s);
  EXPECT_EQ(s[0], 14.0f);
  EXPECT_EQ(s[1], std::fma(0.25f, 0.25f, std::fma(-0.5f, -0.5f, 16.0f)));
}

TEST(GatherScatterRows, RoundTripLeavesOtherRowsUntouched) {
  std::vector<float> src(5 * 3);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i);
  const std::uint32_t rows[] = {1, 4};
  std::vector<float> block(6), dst(15, -1.0f);
  gather_rows(src.data(), 3, rows, 2, block.data());
  EXPECT_EQ(block, (std::vector<float>{3, 4, 5, 12, 13, 14}));
  scatter_rows(block.data(), 3, rows, 2, dst.data());
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(dst[r * 3 + c], (r == 1 || r == 4) ? src[r * 3 + c] : -1.0f);
}

TEST(ScatterAdd, AddsInOrder) {
  std::vector<float> dst(3, 0.0f);
  const float v[] = {1, 2, 3};
  const std::uint32_t idx[] = {2, 0, 2};
  scatter_add(v, idx, 3, dst.data());
  EXPECT_EQ(dst, (std::vector<float>{2, 0, 4}));
}

class RandK : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RandK, GivesKDistinctIndicesInRange) {
  const std::size_t n = GetParam();
  for (std::size_t k : {std::size_t{0}, std::min<std::size_t>(1, n), n / 3, n}) {
    std::vector<std::uint32_t> idx(k);
    randk_indices(n, k, 5, 1, 2, idx.data());
    std::set<std::uint32_t> uniq(idx.begin(), idx.end());
    EXPECT_EQ(uniq.size(), k) << "n=" << n << " k=" << k;
    for (auto i : idx) EXPECT_LT(i, n);
  }
}

TEST_P(RandK, IsTheBijectionsFirstKImagesInAscendingOrder) {
  const std::size_t n = GetParam();
  if (n == 0) return;
  std::uint32_t keys[kFeistelRounds];
  randk_keys(5, 1, 2, keys);
  for (std::size_t k : {std::min<std::size_t>(1, n), n / 3, n}) {
    std::vector<std::uint32_t> idx(k), want(k);
    randk_indices(n, k, 5, 1, 2, idx.data());
    for (std::size_t i = 0; i < k; ++i) want[i] = randk_permute(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n), keys);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(idx, want) << "n=" << n << " k=" << k;
  }
}

TEST_P(RandK, IsAPureFunctionOfSeedStepTensor) {
  const std::size_t n = GetParam(), k = n / 2;
  std::vector<std::uint32_t> a(k), b(k), c(k);
  randk_indices(n, k, 5, 1, 2, a.data());
  randk_indices(n, k, 5, 1, 2, b.data());
  randk_indices(n, k, 5, 2, 2, c.data());
  EXPECT_EQ(a, b);
  if (n > 16) { EXPECT_NE(a, c) << "a new step must draw new indices"; }
}

INSTANTIATE_TEST_SUITE_P(Sizes, RandK, ::testing::Values(0, 1, 2, 31, 32, 33, 1023, 1024, 1025, (1u << 20) + 7));

TEST(RandKStats, EveryIndexIsEquallyLikelyOverSteps) {
  // n = 10, k = 3 over 30000 steps: each index should be chosen 9000 +- ~5 sigma (sigma ~ 79).
  std::vector<int> count(10, 0);
  std::uint32_t idx[3];
  for (std::uint32_t s = 0; s < 30000; ++s) {
    randk_indices(10, 3, 77, s, 0, idx);
    for (auto i : idx) ++count[i];
  }
  for (int c : count) EXPECT_NEAR(c, 9000, 400);
}

TEST(RandKStats, KLargerThanNIsRejected) {
  std::uint32_t idx[4];
  EXPECT_THROW(randk_indices(3, 4, 1, 0, 0, idx), std::invalid_argument);
}

TEST(ErrorFeedbackHelpers, Ef14ResidualConservesTheInputExactly) {
  auto u = testing::make_input(testing::Dist::kNormal, 1025, 8);
  std::vector<std::uint32_t> idx(100);
  topk_magnitude(u.data(), u.size(), idx.size(), idx.data());
  std::vector<float> c(u.size(), 0.0f), e(u.size());
  std::vector<float> vals(idx.size());
  gather(u.data(), idx.data(), idx.size(), vals.data());
  scatter(vals.data(), idx.data(), idx.size(), c.data());
  ef14_residual(u.data(), c.data(), u.size(), e.data());
  for (std::size_t i = 0; i < u.size(); ++i) ASSERT_EQ(testing::bits_of(c[i] + e[i]), testing::bits_of(u[i])) << i;
}

TEST(ErrorFeedbackHelpers, MomentumIsOneFmaOfTheFormula) {
  std::vector<float> h = {1.0f, -2.0f}, g = {3.0f, 0.5f};
  momentum_update(h.data(), g.data(), 2, 0.25f);
  EXPECT_EQ(h[0], std::fma(0.25f, 3.0f, 0.75f * 1.0f));
  EXPECT_EQ(h[1], std::fma(0.25f, 0.5f, 0.75f * -2.0f));
}

}  // namespace
}  // namespace arcsim::kernels
