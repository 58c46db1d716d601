// DDP buckets (PyTorch's rule and the strict variant) and synthetic gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "traces/buckets.hpp"
#include "traces/synthetic.hpp"

using namespace arcsim::traces;

namespace {

Layout layout_of(const std::vector<std::int64_t>& sizes) {
  Layout l;
  l.model = "sizes";
  for (std::size_t i = 0; i < sizes.size(); ++i)
    l.parameters.push_back({"p" + std::to_string(i), {sizes[i]}, "float32", "l" + std::to_string(i)});
  return l;
}

std::vector<std::vector<int>> params_of(const std::vector<Bucket>& bs) {
  std::vector<std::vector<int>> out;
  for (const auto& b : bs) out.push_back(b.params);
  return out;
}

}  // namespace

// Same case as torch.distributed._compute_bucket_assignment_by_size(reversed(params), [1 MiB, 25 MiB])
// -> [[0, 1, 2], [3, 4, 5, 6]] in reversed positions (checked with torch 1.13).
TEST(Buckets, PytorchRuleMatchesTorch) {
  const Layout l = layout_of({100, 300000, 10, 200000, 7000000, 5, 50});
  const auto bs = ddp_buckets(l);
  EXPECT_EQ(params_of(bs), (std::vector<std::vector<int>>{{6, 5, 4}, {3, 2, 1, 0}}));
  EXPECT_EQ(bs[0].bytes, (50 + 5 + 7000000) * 4);
  EXPECT_EQ(bs[1].elements, 200000 + 10 + 300000 + 100);
  EXPECT_EQ(bs[0].tensors.front(), "p6");
}

TEST(Buckets, StrictRuleNeverExceedsTheCapExceptAlone) {
  const Layout l = layout_of({100, 300000, 10, 200000, 7000000, 5, 50});
  BucketOptions o;
  o.rule = BucketOptions::Rule::strict;
  const auto bs = ddp_buckets(l, o);
  EXPECT_EQ(params_of(bs), (std::vector<std::vector<int>>{{6, 5}, {4}, {3, 2, 1, 0}}));
}

TEST(Buckets, CapsAreConfigurableAndEveryTensorIsInOneBucket) {
  std::vector<std::int64_t> sizes(40);
  for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = 1000 + 37 * std::int64_t(i * i);
  const Layout l = layout_of(sizes);
  BucketOptions o;
  o.first_cap_bytes = 8000;
  o.cap_bytes = 40000;
  const auto bs = ddp_buckets(l, o);
  std::vector<int> seen;
  for (const auto& b : bs) {
    seen.insert(seen.end(), b.params.begin(), b.params.end());
    if (&b != &bs.back()) { EXPECT_GE(b.bytes, b.index == 0 ? 8000 : 40000); }  // closed at its cap
    const std::int64_t without_last = b.bytes - l.parameters[b.params.back()].bytes();
    EXPECT_LT(without_last, b.index == 0 ? 8000 : 40000);  // and not before
  }
  std::vector<int> want(40);
  std::iota(want.rbegin(), want.rend(), 0);
  EXPECT_EQ(seen, want);  // reverse registration order, each tensor once
}

TEST(Buckets, DtypesAreBucketedSeparately) {
  Layout l = layout_of({10, 20, 30});
  l.parameters[1].dtype = "float16";
  const auto bs = ddp_buckets(l);
  ASSERT_EQ(bs.size(), 2u);
  EXPECT_EQ(bs[0].params, (std::vector<int>{2, 0}));
  EXPECT_EQ(bs[1].params, (std::vector<int>{1}));
  EXPECT_EQ(bs[1].dtype, "float16");
}

TEST(Synthetic, DeterministicAndOrderFree) {
  Layout l;
  l.parameters = {{"w", {64, 32}, "float32", "a"}, {"b", {64}, "float32", "a"}};
  SyntheticSpec s;
  const auto g1 = synthetic_gradients(l, {"w", "b"}, {0, 1, 2}, 5, s);
  const auto g2 = synthetic_gradients(l, {"w", "b"}, {0, 1, 2}, 5, s);
  EXPECT_EQ(g1, g2);
  // Worker 2 alone gives worker 2's row of the 3-worker draw; tensor order only permutes.
  const auto w2 = synthetic_gradients(l, {"w", "b"}, {2}, 5, s);
  EXPECT_TRUE(std::equal(w2.begin(), w2.end(), g1.begin() + 2 * 2112));
  const auto b_only = synthetic_gradients(l, {"b"}, {0}, 5, s);
  EXPECT_TRUE(std::equal(b_only.begin(), b_only.end(), g1.begin() + 2048));
  EXPECT_NE(synthetic_gradients(l, {"w"}, {0}, 6, s), synthetic_gradients(l, {"w"}, {0}, 5, s));
  s.seed = 2;
  EXPECT_NE(synthetic_gradients(l, {"w"}, {0}, 5, s), synthetic_gradients(l, {"w"}, {0}, 5, SyntheticSpec{}));
  EXPECT_THROW(synthetic_gradients(l, {"nope"}, {0}, 5, s), TraceError);
}

TEST(Synthetic, SharedFractionAndHeavyTailedRows) {
  Layout l;
  l.parameters = {{"w", {512, 64}, "float32", "a"}};
  SyntheticSpec s;
  s.shared = 0.5;
  const auto g = synthetic_gradients(l, {"w"}, {0, 1}, 0, s);
  const std::size_t n = 512 * 64;
  // Correlation between two workers' values = shared fraction (per row, scales cancel).
  double c = 0, v0 = 0, v1 = 0;
  std::vector<double> row_energy(512, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = 1.0;  // correlation within rows; rows have different scales, so normalise by row
    (void)scale;
    row_energy[i / 64] += double(g[i]) * g[i];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double norm = std::sqrt(row_energy[i / 64] / 64);
    const double a = g[i] / norm, b = g[n + i] / norm;
    c += a * b;
    v0 += a * a;
    v1 += b * b;
  }
  EXPECT_NEAR(c / std::sqrt(v0 * v1), 0.5, 0.03);
  // Log row energies spread like 2 * row_sigma * N(0,1): std about 2.
  double m = 0, m2 = 0;
  for (double e : row_energy) m += std::log(e) / 512;
  for (double e : row_energy) m2 += (std::log(e) - m) * (std::log(e) - m) / 512;
  EXPECT_NEAR(std::sqrt(m2), 2.0, 0.3);
}

TEST(Synthetic, SpecIsStrict) {
  EXPECT_THROW(synthetic_spec(nlohmann::json{{"shared", 1.5}}, "t.json"), TraceError);
  EXPECT_THROW(synthetic_spec(nlohmann::json{{"sharde", 0.5}}, "t.json"), TraceError);
  EXPECT_EQ(synthetic_spec(nlohmann::json{{"seed", 7}}, "t.json").seed, 7u);
}
