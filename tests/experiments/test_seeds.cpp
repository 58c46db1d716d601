// Seeds and uncertainty: interval arithmetic on hand-made multi-seed logs (known mean, sd and
// t-interval), the interpolated crossing, interpolation and extrapolation across N and their
// marking, paired speedup intervals, and the warning for a spec that matches no log.
#include <gtest/gtest.h>

#include <cmath>

#include "experiments/convergence.hpp"
#include "experiments/results.hpp"
#include "experiments/stats.hpp"
#include "experiments/tta.hpp"

namespace ex = arcsim::experiments;
namespace tr = arcsim::traces;
using nlohmann::json;

namespace {

// A log whose accuracy rises linearly and crosses 0.85 exactly at step `cross`, evaluated every 25.
tr::ConvergenceLog linear_log(const std::string& config, int world, std::int64_t seed, double cross,
                              const json& compressor = {{"compressor", "dense"}}) {
  tr::ConvergenceLog l;
  l.config = config;
  l.world = world;
  l.seed = seed;
  l.compressor = compressor;
  l.target_accuracy = 0.85;
  l.eval_every = 25;
  for (std::int64_t s = 0; s <= 1000; s += 25) {
    tr::CurvePoint p;
    p.step = s;
    p.accuracy = std::min(0.95, 0.85 * static_cast<double>(s) / cross);
    p.loss = 1.0 / (1.0 + s);
    l.points.push_back(p);
  }
  return l;
}

ex::ResultRow steady_row(int nodes, double step_s) {
  ex::ResultRow r;
  r.status = "ok";
  r.nodes = nodes;
  r.compressor = {{"name", "dense"}, {"label", "dense"}};
  ex::ShapeResult s;
  s.id = s.kind = "steady";
  s.times.total_s = step_s;
  r.shapes.push_back(s);
  r.steady = s.times;
  return r;
}

std::vector<const tr::ConvergenceLog*> ptrs(const std::vector<tr::ConvergenceLog>& v) {
  std::vector<const tr::ConvergenceLog*> out;
  for (const auto& l : v) out.push_back(&l);
  return out;
}

}  // namespace

TEST(Seeds, SummaryMeanSdAndTInterval) {
  const ex::Summary s = ex::summarize({10, 12, 14});
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 12);
  ASSERT_TRUE(s.sd);
  EXPECT_NEAR(*s.sd, 2.0, 1e-12);
  // t(0.975, 2) = 4.302653 (any table); half width 4.302653 * 2 / sqrt(3) = 4.968275.
  EXPECT_NEAR(ex::t975(2), 4.302653, 1e-6);
  ASSERT_TRUE(s.ci95);
  EXPECT_NEAR(s.ci95->lo, 12 - 4.968275, 1e-5);
  EXPECT_NEAR(s.ci95->hi, 12 + 4.968275, 1e-5);
  const ex::Summary one = ex::summarize({5});
  EXPECT_FALSE(one.sd);
  EXPECT_FALSE(one.ci95);
}

TEST(Seeds, PairedRatioCancelsSharedNoise) {
  // b varies by seed, a = 2 b exactly: paired, the ratio is 2 with no uncertainty at all;
  // unpaired, the same numbers give a wide interval around 2.
  const std::vector<double> b = {1.0, 1.5, 2.5}, a = {2.0, 3.0, 5.0};
  const auto p = ex::ratio_of_means(a, b, true);
  ASSERT_TRUE(p && p->ci95);
  EXPECT_NEAR(p->value, 2.0, 1e-12);
  EXPECT_NEAR(p->ci95->lo, 2.0, 1e-9);
  EXPECT_NEAR(p->ci95->hi, 2.0, 1e-9);
  const auto u = ex::ratio_of_means(a, b, false);
  ASSERT_TRUE(u && u->ci95);
  EXPECT_LT(u->ci95->lo, 1.5);
  EXPECT_GT(u->ci95->hi, 2.5);
  EXPECT_NEAR(u->ci95->lo * u->ci95->hi, 4.0, 1e-9);  // symmetric on the log scale
}

TEST(Seeds, CrossingIsInterpolatedBetweenEvaluations) {
  ex::Target acc{"accuracy", 0.85, "max"};
  const std::vector<ex::LogPoint> log = {{0, 0.5}, {25, 0.8}, {50, 0.9}, {75, 0.95}};
  EXPECT_DOUBLE_EQ(*ex::crossing_step(log, acc), 37.5);
  EXPECT_EQ(*ex::steps_to_target(log, acc), 50);  // the old rule: the first evaluated step, an upper bound
  ex::Target loss{"loss", 0.3, "min"};
  const std::vector<ex::LogPoint> l2 = {{0, 1.0}, {100, 0.5}, {200, 0.2}};
  EXPECT_NEAR(*ex::crossing_step(l2, loss), 100 + 100 * (0.3 - 0.5) / (0.2 - 0.5), 1e-9);
  EXPECT_FALSE(ex::crossing_step({{0, 0.1}, {10, 0.2}}, acc));
  EXPECT_DOUBLE_EQ(*ex::crossing_step({{10, 0.9}}, acc), 10);  // reached at the first evaluation
}

TEST(Seeds, CrossingOnAnExtraMetricWithDirection) {
  tr::ConvergenceLog l = linear_log("dense", 8, 1, 100);
  for (auto& p : l.points) p.extra["perplexity"] = 100.0 - 0.5 * static_cast<double>(p.step);
  ex::Target ppl{"perplexity", 40, "min"};
  EXPECT_NEAR(*ex::crossing_step(ex::log_points(l, ppl), ppl), 120, 1e-9);
}

TEST(Seeds, RowMeanSdAndIntervalOverThreeSeeds) {
  const std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 120),
                                                linear_log("dense", 8, 3, 140)};
  ex::ResultRow r = steady_row(8, 0.01);
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(r.seeds, 3);
  ASSERT_TRUE(r.steps_to_target && r.steps_to_target_sd && r.tta_s && r.tta_s_lo && r.tta_s_hi);
  EXPECT_NEAR(*r.steps_to_target, 120, 1e-9);
  EXPECT_NEAR(*r.steps_to_target_sd, 20, 1e-9);
  EXPECT_NEAR(*r.tta_s, 1.2, 1e-12);
  const double half = 4.302653 * 0.2 / std::sqrt(3.0);
  EXPECT_NEAR(*r.tta_s_lo, 1.2 - half, 1e-6);
  EXPECT_NEAR(*r.tta_s_hi, 1.2 + half, 1e-6);
  EXPECT_EQ(r.convergence_estimate, "recorded");
  EXPECT_EQ(r.tta_note, "");
  ASSERT_EQ(r.seed_curves.size(), 3u);
  EXPECT_EQ(r.seed_tta.size(), 3u);
}

TEST(Seeds, SeedThatMissesTheTargetIsNamed) {
  std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 120)};
  for (auto& p : logs[1].points) p.accuracy = 0.5;
  ex::ResultRow r = steady_row(8, 0.01);
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(r.seeds, 1);
  EXPECT_NE(r.tta_note.find("1 of 2 seeds reached the target"), std::string::npos) << r.tta_note;
  EXPECT_NE(r.tta_note.find("seed 2"), std::string::npos) << r.tta_note;
}

TEST(Seeds, AcrossNInterpolatedLogLogAndExtrapolatedConstant) {
  const std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 200),
                                                linear_log("dense", 32, 1, 400), linear_log("dense", 32, 2, 800)};
  ex::ResultRow r = steady_row(16, 0.01);
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  ASSERT_EQ(r.seed_tta.size(), 2u);
  EXPECT_NEAR(r.seed_tta[0].steps, 200, 1e-9);  // sqrt(100 * 400): halfway on log N
  EXPECT_NEAR(r.seed_tta[1].steps, 400, 1e-9);
  EXPECT_EQ(r.convergence_estimate, "interpolated");
  EXPECT_NE(r.tta_note.find("interpolated log-log between N=8 and N=32"), std::string::npos) << r.tta_note;

  ex::ResultRow far = steady_row(64, 0.01);
  ex::fill_row_convergence(far, ptrs(logs), "none", std::nullopt);
  EXPECT_NEAR(far.seed_tta[0].steps, 400, 1e-9);
  EXPECT_EQ(far.convergence_estimate, "extrapolated");
  EXPECT_NE(far.tta_note.find("extrapolated"), std::string::npos);
  EXPECT_EQ(*far.convergence_nodes, 32);

  ex::ResultRow at = steady_row(8, 0.01);
  ex::fill_row_convergence(at, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(at.convergence_estimate, "recorded");
}

TEST(Seeds, SpeedupIntervalPairsSeeds) {
  const json topk = {{"compressor", "topk"}, {"ratio", 0.2}};
  const std::vector<tr::ConvergenceLog> d = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 150),
                                             linear_log("dense", 8, 3, 250)};
  const std::vector<tr::ConvergenceLog> t = {linear_log("t", 8, 1, 100, topk), linear_log("t", 8, 2, 150, topk),
                                             linear_log("t", 8, 3, 250, topk)};
  std::vector<ex::ResultRow> rows = {steady_row(8, 0.02), steady_row(8, 0.01)};
  rows[1].compressor = {{"name", "topk"}, {"label", "topk"}};
  ex::fill_row_convergence(rows[0], ptrs(d), "", std::nullopt);
  ex::fill_row_convergence(rows[1], ptrs(t), "", std::nullopt);
  ex::compute_speedups(rows);
  ASSERT_TRUE(rows[1].speedup_vs_dense && rows[1].speedup_vs_dense_lo && rows[1].speedup_vs_dense_hi);
  EXPECT_NEAR(*rows[1].speedup_vs_dense, 2.0, 1e-9);
  // Same seeds, same steps, step times 2:1: every paired ratio is 2, so the interval is [2, 2].
  EXPECT_NEAR(*rows[1].speedup_vs_dense_lo, 2.0, 1e-6);
  EXPECT_NEAR(*rows[1].speedup_vs_dense_hi, 2.0, 1e-6);
  EXPECT_NEAR(*rows[1].iteration_speedup_vs_dense, 2.0, 1e-12);
}

TEST(Seeds, MismatchedSpecNamesTheDifferingOption) {
  tr::Trace trace;
  trace.convergence.push_back(
      linear_log("topk-0.2-ef14", 8, 1, 100, {{"compressor", "topk"}, {"ratio", 0.2}, {"ef", "ef14"}, {"ramp", true}}));
  ex::CompressorConfig c;
  c.name = c.label = "topk";
  c.ratio = 0.2;
  c.ef = "ef14";
  c.ramp = false;
  const std::string w = ex::mismatch_warning(trace, c);
  EXPECT_NE(w.find("closest is topk-0.2-ef14"), std::string::npos) << w;
  EXPECT_NE(w.find("ramp: the trace's topk logs were recorded with ramp true"), std::string::npos) << w;
  c.ramp = true;
  EXPECT_EQ(ex::mismatch_warning(trace, c), "");
}
