// Compressors through the Communicator (kernels/compressor.hpp, sparsifier.hpp): aggregate
// semantics, identical selections on every worker, error-feedback conservation, the paper's
// contraction facts, determinism and the plan's byte counts.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "kernels/compressor.hpp"
#include "kernels/primitives.hpp"
#include "kernels/sparsifier.hpp"
#include "tests/kernels/compress_fixture.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::kernels {
namespace {
using testing::bits_of;
using testing::config;
using testing::run_step;

// N workers with heterogeneous gradients: a shared part plus worker noise, row energies log-normal.
std::vector<std::vector<float>> grads(std::size_t workers, std::size_t rows, std::size_t cols, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> nd;
  std::vector<float> row_scale(rows);
  for (auto& s : row_scale) s = std::exp(1.5f * nd(g));
  std::vector<std::vector<float>> out(workers, std::vector<float>(rows * cols));
  for (std::size_t i = 0; i < rows * cols; ++i) {
    const float shared = nd(g) * row_scale[i / cols];
    for (auto& w : out) w[i] = shared + 2.0f * nd(g) * row_scale[i / cols];
  }
  return out;
}

std::vector<float> mean_of(const std::vector<std::vector<float>>& g) {
  std::vector<float> m(g[0].size(), 0.0f);
  for (const auto& w : g)
    for (std::size_t i = 0; i < m.size(); ++i) m[i] += w[i];
  for (auto& v : m) v /= static_cast<float>(g.size());
  return m;
}

const std::vector<PlanOp> collectives(const StepReport& r) {
  std::vector<PlanOp> c;
  for (const auto& op : r.ops)
    if (op.kind == PlanOp::Kind::kCollective) c.push_back(op);
  return c;
}

BucketLayout matrix(std::size_t n, std::size_t m) { return BucketLayout{{{std::int64_t(n), std::int64_t(m)}}, {}}; }

TEST(Dense, AggregateIsTheMeanAndOneAllreduce) {
  auto g = grads(4, 8, 5, 1);
  Compressor c(4, config("dense", 1.0));
  auto r = run_step(c, matrix(8, 5), g);
  EXPECT_EQ(r.agg, mean_of(g));
  ASSERT_EQ(collectives(r.report).size(), 1u);
  EXPECT_EQ(collectives(r.report)[0].bytes_per_rank, 8u * 5 * 4);
  EXPECT_LT(r.report.relative_error, 1e-12);
}

TEST(TopK, PropositionOneCaseIsNotContractiveForTheAggregate) {
  // arctopk.md section 6: x1 = (1, -0.9), x2 = (-0.8, 0.9), k = 1: error = 36.25 ||mean||^2.
  Compressor c(2, config("topk", 0.5));
  auto r = run_step(c, BucketLayout{{{2}}, {}}, {{1.0f, -0.9f}, {-0.8f, 0.9f}});
  EXPECT_EQ(r.agg, (std::vector<float>{0.5f, 0.45f}));
  EXPECT_NEAR(r.report.relative_error, 36.25, 1e-5);
  EXPECT_GT(r.report.relative_error, 1.0);
}

TEST(TopK, PlanIsTwoAllgathersOfKValuesAndKIndices) {
  auto g = grads(3, 10, 10, 2);
  Compressor c(3, config("topk", 0.2));
  BucketLayout layout{{{10, 10}, {7}}, {"w", "b"}};
  g = {std::vector<float>(107, 1.0f), std::vector<float>(107, 2.0f), std::vector<float>(107, 3.0f)};
  auto r = run_step(c, layout, g);
  const std::size_t k = 20 + 1;  // per tensor: floor(0.2 * 100), max(1, floor(0.2 * 7))
  EXPECT_EQ(r.report.k, k);
  auto col = collectives(r.report);
  ASSERT_EQ(col.size(), 2u);
  EXPECT_EQ(col[0].op, "allgather");
  EXPECT_EQ(col[0].dtype, DType::kFloat32);
  EXPECT_EQ(col[1].dtype, DType::kInt32);
  EXPECT_EQ(col[0].bytes_per_rank + col[1].bytes_per_rank, k * 8);
}

TEST(TopK, AggregateIsTheAverageOfEachWorkersOwnTopK) {
  auto g = grads(3, 1, 50, 3);
  Compressor c(3, config("topk", 0.1));
  auto r = run_step(c, BucketLayout{{{50}}, {}}, g);
  std::vector<float> expect(50, 0.0f);
  for (const auto& w : g) {
    std::vector<std::uint32_t> idx(5);
    topk_magnitude(w.data(), 50, 5, idx.data());
    for (auto i : idx) expect[i] += w[i];
  }
  for (auto& v : expect) v /= 3.0f;
  EXPECT_EQ(r.agg, expect);
}

TEST(RandK, AggregateIsTheMeanOnSharedIndicesAndOneAllreduceOfKValues) {
  auto g = grads(4, 1, 1000, 4);
  Compressor c(4, config("randk", 0.05));
  auto r = run_step(c, BucketLayout{{{1000}}, {}}, g);
  const auto mean = mean_of(g);
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < 1000; ++i)
    if (r.agg[i] != 0.0f) {
      ++nonzero;
      EXPECT_EQ(r.agg[i], mean[i]);
    }
  EXPECT_EQ(nonzero, 50u);
  auto col = collectives(r.report);
  ASSERT_EQ(col.size(), 1u);
  EXPECT_EQ(col[0].op, "allreduce");
  EXPECT_EQ(col[0].bytes_per_rank, 50u * 4);
}

TEST(RandK, UnbiasedOptionScalesByDOverK) {
  auto g = grads(2, 1, 100, 5);
  auto cfg = config("randk", 0.1);
  cfg.unbiased = true;
  Compressor c(2, cfg), plain(2, config("randk", 0.1));
  auto r = run_step(c, BucketLayout{{{100}}, {}}, g), p = run_step(plain, BucketLayout{{{100}}, {}}, g);
  for (std::size_t i = 0; i < 100; ++i) EXPECT_FLOAT_EQ(r.agg[i], p.agg[i] * 10.0f);
}

// Runs a sparsifier directly to see every worker's own message C_i(x_i) and the sent positions.
struct Direct {
  std::vector<std::vector<float>> local;
  std::vector<std::uint8_t> selected;
  std::vector<float> agg;
};
Direct run_direct(Sparsifier& s, const BucketLayout& layout, const std::vector<std::vector<float>>& g, double ratio) {
  EmulatedCommunicator comm(static_cast<int>(g.size()));
  Direct d;
  d.local.assign(g.size(), std::vector<float>(layout.numel()));
  d.agg.assign(layout.numel(), 0.0f);
  std::vector<const float*> in;
  std::vector<float*> out;
  for (std::size_t w = 0; w < g.size(); ++w) {
    in.push_back(g[w].data());
    out.push_back(d.local[w].data());
  }
  SparsifyArgs a;
  a.ratio = ratio;
  a.in = in;
  a.local_out = out;
  a.agg = d.agg.data();
  a.selected = &d.selected;
  s.run(comm, layout, a);
  return d;
}

TEST(ArcTopK, EveryWorkerSendsTheSameRows) {
  auto g = grads(5, 40, 16, 6);
  auto arc = make_arctopk(ArcOptions{});
  auto d = run_direct(*arc, matrix(40, 16), g, 0.2);
  for (std::size_t w = 0; w < g.size(); ++w)
    for (std::size_t i = 0; i < g[w].size(); ++i)
      ASSERT_EQ(bits_of(d.local[w][i]), bits_of(d.selected[i] ? g[w][i] : 0.0f)) << "worker " << w << " element " << i;
  std::size_t rows = 0;
  for (std::size_t r = 0; r < 40; ++r) rows += d.selected[r * 16];
  EXPECT_EQ(rows, 8u);
}

TEST(RandK, EveryWorkerSendsTheSameIndices) {
  auto g = grads(5, 1, 333, 7);
  auto rk = make_randk(3, false);
  auto d = run_direct(*rk, BucketLayout{{{333}}, {}}, g, 0.1);
  for (std::size_t w = 0; w < g.size(); ++w)
    for (std::size_t i = 0; i < 333; ++i)
      ASSERT_EQ(bits_of(d.local[w][i]), bits_of(d.selected[i] ? g[w][i] : 0.0f));
}

TEST(ArcTopK, AggregateIsTheMeanOnTheSelectedRows) {
  auto g = grads(3, 20, 8, 8);
  Compressor c(3, config("arctopk", 0.25));
  auto r = run_step(c, matrix(20, 8), g);
  const auto mean = mean_of(g);
  std::size_t rows = 0;
  for (std::size_t row = 0; row < 20; ++row) {
    bool kept = r.agg[row * 8] != 0.0f;
    rows += kept;
    for (std::size_t j = 0; j < 8; ++j) EXPECT_EQ(r.agg[row * 8 + j], kept ? mean[row * 8 + j] : 0.0f);
  }
  EXPECT_EQ(rows, 5u);
  EXPECT_EQ(r.report.k, 5u);
  EXPECT_EQ(r.report.k_unit, "rows");
}

TEST(ArcTopK, ExactRowScoresKeepAtLeastKOverNOfTheMeansEnergy) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    auto g = grads(8, 50, 12, 100 + seed);
    auto cfg = config("arctopk", 0.2);
    cfg.row_scores = "exact";
    Compressor c(8, cfg);
    auto r = run_step(c, matrix(50, 12), g);
    EXPECT_GE(r.report.retained_energy, 10.0 / 50.0) << "seed " << seed;
    EXPECT_DOUBLE_EQ(*r.report.row_recall, 1.0);
  }
}

TEST(ArcTopK, SketchFindsADominantRow) {
  auto g = grads(4, 30, 64, 9);
  for (auto& w : g)
    for (std::size_t j = 0; j < 64; ++j) w[17 * 64 + j] *= 1000.0f;
  Compressor c(4, config("arctopk", 1.0 / 30));
  auto r = run_step(c, matrix(30, 64), g);
  EXPECT_NE(r.agg[17 * 64], 0.0f);
  EXPECT_DOUBLE_EQ(*r.report.row_recall, 1.0);
}

TEST(ArcTopK, PlanBytesAreSketchNR4AndValuesKM4) {
  auto g = grads(2, 64, 32, 10);
  Compressor c(2, config("arctopk", 0.2));
  auto r = run_step(c, matrix(64, 32), g);
  auto col = collectives(r.report);
  ASSERT_EQ(col.size(), 2u);
  EXPECT_EQ(col[0].bytes_per_rank, 64u * 4 * 4);       // n * r * 4
  EXPECT_EQ(col[1].bytes_per_rank, 12u * 32 * 4);      // k * m * 4, k = floor(0.2 * 64)
  for (const auto& op : col) EXPECT_TRUE(op.blocking);
}

TEST(ArcTopK, OneDimensionalTensorIsItsOwnSketch) {
  std::vector<std::vector<float>> g = {{1, -5, 2, 0.5f, 3}, {1, 4, -2, 0.5f, 3}};
  Compressor c(2, config("arctopk", 0.4));
  auto r = run_step(c, BucketLayout{{{5}}, {}}, g);
  // mean = (1, -0.5, 0, 0.5, 3): the 2 largest |mean| are entries 4 and 0.
  EXPECT_EQ(r.agg, (std::vector<float>{1, 0, 0, 0, 3}));
  auto col = collectives(r.report);
  ASSERT_EQ(col.size(), 2u);
  EXPECT_EQ(col[0].bytes_per_rank, 5u * 4);
  EXPECT_EQ(col[1].bytes_per_rank, 2u * 4);
}

TEST(ArcTopK, PerBucketSketchAllreduceGivesTheSameBitsWithFewerCollectives) {
  BucketLayout layout{{{16, 8}, {8}, {4, 2, 3, 3}}, {}};
  auto g = grads(3, 1, layout.numel(), 11);
  auto per_tensor = config("arctopk", 0.3), per_bucket = per_tensor;
  per_bucket.sketch_allreduce = "bucket";
  Compressor a(3, per_tensor), b(3, per_bucket);
  auto ra = run_step(a, layout, g), rb = run_step(b, layout, g);
  EXPECT_EQ(ra.agg, rb.agg);
  EXPECT_EQ(collectives(ra.report).size(), 4u);  // 3 sketches + values
  EXPECT_EQ(collectives(rb.report).size(), 2u);  // 1 sketch + values
}

TEST(ShapeRules, ReferenceViewsConvAsRowsOfTwoTSquared) {
  const RowView ref = row_view({8, 4, 3, 3}, ShapeRule::kReference, 4, false, "conv");
  EXPECT_EQ(ref.rows, 16u);
  EXPECT_EQ(ref.cols, 18u);
  EXPECT_FALSE(ref.own_sketch);
  const RowView rows = row_view({8, 4, 3, 3}, ShapeRule::kRows, 4, false, "conv");
  EXPECT_EQ(rows.rows, 8u);
  EXPECT_EQ(rows.cols, 36u);
  // 1x1 conv: the reference sketches rows of 2 with r = 4; the rows rule sends them as their own sketch.
  EXPECT_FALSE(row_view({64, 32, 1, 1}, ShapeRule::kReference, 4, false, "c").own_sketch);
  EXPECT_TRUE(row_view({64, 2}, ShapeRule::kRows, 4, false, "c").own_sketch);
  EXPECT_THROW(row_view({5, 3, 3}, ShapeRule::kReference, 4, false, "bad"), std::invalid_argument);
}

TEST(ErrorFeedback, Ef14ConservesEveryWorkersInputBitForBit) {
  for (const char* name : {"topk", "randk", "arctopk"}) {
    Compressor c(3, config(name, 0.1, "ef14"));
    BucketLayout layout = matrix(30, 10);
    std::vector<std::vector<float>> e_old(3, std::vector<float>(300, 0.0f));
    for (std::uint64_t step = 0; step < 4; ++step) {
      auto g = grads(3, 30, 10, 50 + step);
      auto r = run_step(c, layout, g);
      std::vector<float> sum(300, 0.0f);
      for (int w = 0; w < 3; ++w) {
        const auto& e_new = c.error(0, w);
        for (std::size_t i = 0; i < 300; ++i) {
          const float u = g[w][i] + e_old[w][i];
          const float sent = u - e_new[i];  // C(u) reconstructed: u at sent positions, else 0
          ASSERT_TRUE(sent == 0.0f || bits_of(sent) == bits_of(u)) << name << " step " << step;
          ASSERT_EQ(bits_of(sent + e_new[i]), bits_of(u)) << name << " u == C(u) + e";
          sum[i] += sent;
        }
        e_old[w] = e_new;
      }
      for (auto& v : sum) v /= 3.0f;
      for (std::size_t i = 0; i < 300; ++i)
        if (std::string(name) != "topk") ASSERT_EQ(bits_of(r.agg[i]), bits_of(sum[i])) << name;
        else ASSERT_FLOAT_EQ(r.agg[i], sum[i]);
    }
  }
}

TEST(ErrorFeedback, Ef21FirstCallIsDenseThenAccumulates) {
  auto cfg = config("topk", 0.1, "ef21");
  Compressor c(2, cfg);
  BucketLayout layout = matrix(10, 10);
  auto g0 = grads(2, 10, 10, 60);
  auto r0 = run_step(c, layout, g0);
  EXPECT_EQ(r0.report.phase, "ef21-init-dense");
  EXPECT_EQ(r0.agg, mean_of(g0));
  EXPECT_EQ(c.error(0, 1), g0[1]);
  // Same gradient again: g - e = 0, so nothing changes and the output stays the mean.
  auto r1 = run_step(c, layout, g0);
  EXPECT_EQ(r1.report.phase, "compressed");
  EXPECT_EQ(r1.agg, mean_of(g0));
  // A new gradient: out = previous out + Agg(C(g - e)).
  auto g2 = grads(2, 10, 10, 61);
  auto r2 = run_step(c, layout, g2);
  EXPECT_NE(r2.agg, r1.agg);
  EXPECT_EQ(collectives(r2.report).size(), 2u);
}

TEST(ErrorFeedback, Ef21mWithEtaOneIsEf21) {
  auto a_cfg = config("arctopk", 0.2, "ef21"), b_cfg = config("arctopk", 0.2, "ef21m");
  b_cfg.eta = 1.0;
  Compressor a(3, a_cfg), b(3, b_cfg);
  for (std::uint64_t s = 0; s < 4; ++s) {
    auto g = grads(3, 20, 8, 70 + s);
    EXPECT_EQ(run_step(a, matrix(20, 8), g).agg, run_step(b, matrix(20, 8), g).agg) << "step " << s;
  }
}

TEST(ErrorFeedback, Ef21mMomentumChangesTheOutput) {
  auto a_cfg = config("arctopk", 0.2, "ef21"), b_cfg = config("arctopk", 0.2, "ef21m");
  Compressor a(3, a_cfg), b(3, b_cfg);
  bool differs = false;
  for (std::uint64_t s = 0; s < 3; ++s) {
    auto g = grads(3, 20, 8, 80 + s);
    differs |= run_step(a, matrix(20, 8), g).agg != run_step(b, matrix(20, 8), g).agg;
  }
  EXPECT_TRUE(differs);
}

TEST(Schedule, WarmupCallsAreDense) {
  auto cfg = config("arctopk", 0.2);
  cfg.warmup = 2;
  Compressor c(2, cfg);
  auto g = grads(2, 10, 6, 90);
  for (int s = 0; s < 2; ++s) {
    auto r = run_step(c, matrix(10, 6), g);
    EXPECT_EQ(r.report.phase, "warmup-dense");
    EXPECT_EQ(r.agg, mean_of(g));
  }
  EXPECT_EQ(run_step(c, matrix(10, 6), g).report.phase, "compressed");
}

TEST(Schedule, RampFollowsTheReferenceFormula) {
  auto cfg = config("topk", 0.2);
  cfg.ramp = true;
  cfg.warmup = 10;
  Compressor c(1, cfg);
  std::vector<std::vector<float>> g = {std::vector<float>(1000, 1.0f)};
  for (int t = 0; t < 130; ++t) {
    auto r = run_step(c, BucketLayout{{{1000}}, {}}, g);
    if (t < 10) continue;
    const double expect = (t - 10 < 110) ? std::max(0.2, 0.8 - 0.6 * (t - 10) / 110.0) : 0.2;
    ASSERT_NEAR(r.report.ratio, expect, 1e-12) << "call " << t;
  }
}

TEST(Determinism, SameInputsAndSeedGiveTheSameBits) {
  for (const char* name : {"topk", "randk", "arctopk"}) {
    Compressor a(4, config(name, 0.1, "ef14")), b(4, config(name, 0.1, "ef14"));
    for (std::uint64_t s = 0; s < 3; ++s) {
      auto g = grads(4, 33, 31, 200 + s);
      auto ra = run_step(a, matrix(33, 31), g), rb = run_step(b, matrix(33, 31), g);
      ASSERT_EQ(std::memcmp(ra.agg.data(), rb.agg.data(), ra.agg.size() * 4), 0) << name;
    }
  }
}

TEST(Validation, NonFiniteGradientsAreRejected) {
  Compressor c(2, config("topk", 0.5));
  std::vector<std::vector<float>> g = {{1, 2}, {std::nanf(""), 1}};
  EXPECT_THROW(run_step(c, BucketLayout{{{2}}, {}}, g), std::invalid_argument);
  g[1][0] = INFINITY;
  EXPECT_THROW(run_step(c, BucketLayout{{{2}}, {}}, g), std::invalid_argument);
}

TEST(Validation, BadOptionsAreRejected) {
  EXPECT_THROW(Compressor(2, config("topk", 0.0)), std::invalid_argument);
  EXPECT_THROW(Compressor(2, config("topk", 1.5)), std::invalid_argument);
  EXPECT_THROW(Compressor(2, config("nope", 0.5)), std::invalid_argument);
  EXPECT_THROW(Compressor(2, config("topk", 0.5, "ef99")), std::invalid_argument);
}

TEST(Validation, BucketSizeMayNotChange) {
  Compressor c(1, config("topk", 0.5));
  run_step(c, BucketLayout{{{4}}, {}}, {{1, 2, 3, 4}});
  EXPECT_THROW(run_step(c, BucketLayout{{{3}}, {}}, {{1, 2, 3}}), std::invalid_argument);
}

TEST(Plan, BucketJsonFollowsTheContract) {
  Compressor c(2, config("arctopk", 0.5));
  BucketLayout layout{{{4, 8}}, {"fc.weight"}};
  auto r = run_step(c, layout, grads(2, 4, 8, 300), 3);
  auto j = Compressor::plan_bucket(r.report, layout);
  EXPECT_EQ(j["bucket"], 3);
  EXPECT_EQ(j["elements"], 32);
  EXPECT_EQ(j["tensors"][0], "fc.weight");
  ASSERT_FALSE(j["ops"].empty());
  EXPECT_EQ(j["ops"][0]["kind"], "kernel");
  EXPECT_EQ(c.plan_header()["format"], "arcsim-plan/1");
  EXPECT_EQ(c.plan_header()["compressor"]["shape_rule"], "rows");
}

}  // namespace
}  // namespace arcsim::kernels
