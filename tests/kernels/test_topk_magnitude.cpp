// Property tests of the exact magnitude top-k (kernels/primitives.hpp): exactly k, optimal,
// values equal inputs, unique and ascending indices, lowest-index tie-break, over the sizes and
// distributions (normal, uniform, all-equal, +-0, denormals, low-entropy).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "kernels/primitives.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::kernels {
namespace {
using testing::Dist;

const std::size_t kSizes[] = {0, 1, 2, 31, 32, 33, 1023, 1024, 1025, (1u << 20) + 7};

std::vector<std::size_t> ks_for(std::size_t n) {
  if (n == 0) return {0};
  std::mt19937_64 g(n);
  std::set<std::size_t> ks = {1, 1 + g() % n, n};
  return {ks.begin(), ks.end()};
}

// The oracle: stable sort of indices by descending key, first k, sorted ascending.
std::vector<std::uint32_t> oracle(const std::vector<float>& x, std::size_t k) {
  std::vector<std::uint32_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return magnitude_key(x[a]) > magnitude_key(x[b]); });
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

struct Case {
  Dist dist;
  std::size_t n, k;
};
std::vector<Case> all_cases() {
  std::vector<Case> c;
  for (Dist d : testing::kAllDists)
    for (std::size_t n : kSizes)
      for (std::size_t k : ks_for(n)) c.push_back({d, n, k});
  return c;
}

class TopK : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    x = testing::make_input(GetParam().dist, GetParam().n, 42 + GetParam().n);
    idx.assign(GetParam().k, 0xffffffffu);
    topk_magnitude(x.data(), x.size(), GetParam().k, idx.data());
  }
  std::vector<float> x;
  std::vector<std::uint32_t> idx;
};

TEST_P(TopK, SelectsExactlyKUniqueAscendingIndicesInRange) {
  ASSERT_EQ(idx.size(), GetParam().k);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    ASSERT_LT(idx[i], x.size());
    if (i) { ASSERT_LT(idx[i - 1], idx[i]) << "indices must be unique and ascending"; }
  }
}

TEST_P(TopK, SelectionIsOptimal) {
  std::vector<char> in(x.size(), 0);
  std::uint32_t min_sel = std::numeric_limits<std::uint32_t>::max(), max_unsel = 0;
  bool any_unsel = false;
  for (auto i : idx) {
    in[i] = 1;
    min_sel = std::min(min_sel, magnitude_key(x[i]));
  }
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!in[i]) {
      any_unsel = true;
      max_unsel = std::max(max_unsel, magnitude_key(x[i]));
    }
  if (!idx.empty() && any_unsel) {
    EXPECT_GE(min_sel, max_unsel);
    // And in terms of |x| for these finite inputs.
    float min_abs = INFINITY, max_abs = 0;
    for (std::size_t i = 0; i < x.size(); ++i) (in[i] ? min_abs = std::min(min_abs, std::fabs(x[i])) : max_abs = std::max(max_abs, std::fabs(x[i])));
    EXPECT_GE(min_abs, max_abs);
  }
}

TEST_P(TopK, GatheredValuesEqualInputsBitForBit) {
  std::vector<float> vals(idx.size());
  gather(x.data(), idx.data(), idx.size(), vals.data());
  for (std::size_t i = 0; i < idx.size(); ++i) ASSERT_EQ(testing::bits_of(vals[i]), testing::bits_of(x[idx[i]]));
}

TEST_P(TopK, TiesGoToTheLowestIndex) {
  if (idx.empty()) return;
  // Everything above the smallest selected key is selected; of the elements at that key, the
  // selected ones are exactly the lowest-index ones.
  std::uint32_t t = 0xffffffffu;
  for (auto i : idx) t = std::min(t, magnitude_key(x[i]));
  std::vector<char> in(x.size(), 0);
  for (auto i : idx) in[i] = 1;
  bool gap = false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::uint32_t key = magnitude_key(x[i]);
    if (key > t) { ASSERT_TRUE(in[i]) << i; }
    if (key == t) {
      if (!in[i]) gap = true;
      else ASSERT_FALSE(gap) << "a tie at index " << i << " was taken after a lower-index tie was skipped";
    }
  }
}

TEST_P(TopK, MatchesTheStableSortOracle) {
  // The oracle sorts n log n; on the 2^20+7 inputs a strided subsample keeps it cheap.
  std::vector<float> sub = x;
  std::size_t k = GetParam().k;
  if (x.size() > 70000) {
    sub.clear();
    for (std::size_t i = 0; i < x.size(); i += 97) sub.push_back(x[i]);
    k = std::min(k, sub.size());
  }
  std::vector<std::uint32_t> got(k);
  topk_magnitude(sub.data(), sub.size(), k, got.data());
  EXPECT_EQ(got, oracle(sub, k));
}

TEST_P(TopK, DeterministicAcrossRuns) {
  std::vector<std::uint32_t> again(GetParam().k);
  topk_magnitude(x.data(), x.size(), GetParam().k, again.data());
  EXPECT_EQ(idx, again);
}

INSTANTIATE_TEST_SUITE_P(Inputs, TopK, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  return std::string(testing::dist_name(info.param.dist)) + "_n" + std::to_string(info.param.n) + "_k" +
         std::to_string(info.param.k);
});

TEST(TopKPolicy, NegativeAndPositiveZeroAreTies) {
  const float x[] = {-0.0f, 0.0f, -0.0f};
  std::uint32_t idx[2];
  topk_magnitude(x, 3, 2, idx);
  EXPECT_EQ(idx[0], 0u);
  EXPECT_EQ(idx[1], 1u);
}

TEST(TopKPolicy, NanRanksAboveInfinity) {
  const float x[] = {1.0f, INFINITY, std::numeric_limits<float>::quiet_NaN(), -INFINITY, 2.0f};
  std::uint32_t idx[1];
  topk_magnitude(x, 5, 1, idx);
  EXPECT_EQ(idx[0], 2u);
  std::uint32_t idx3[3];
  topk_magnitude(x, 5, 3, idx3);
  EXPECT_EQ(std::vector<std::uint32_t>(idx3, idx3 + 3), (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(TopKPolicy, KLargerThanNIsRejected) {
  const float x[] = {1.0f, 2.0f};
  std::uint32_t idx[3];
  EXPECT_THROW(topk_magnitude(x, 2, 3, idx), std::invalid_argument);
}

TEST(TopKRows, PicksLargestScoresLowestIndexOnTies) {
  const float s[] = {1.0f, 3.0f, 2.0f, 3.0f, 3.0f};
  std::uint32_t idx[2];
  topk_rows(s, 5, 2, idx);
  EXPECT_EQ(idx[0], 1u);
  EXPECT_EQ(idx[1], 3u);
}

}  // namespace
}  // namespace arcsim::kernels
