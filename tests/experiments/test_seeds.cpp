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

TEST(Seeds, UncensoredCentreIsTheMeanWithTheStudentTInterval) {
  const auto c = ex::censored_center({{10}, {12}, {14}});
  ASSERT_TRUE(c && c->ci95);
  EXPECT_FALSE(c->maximum_likelihood);
  EXPECT_DOUBLE_EQ(c->center, 12);
  // t(0.975, 2) = 4.302653 (any table); sd 2; half width 4.302653 * 2 / sqrt(3) = 4.968275.
  EXPECT_NEAR(ex::t975(2), 4.302653, 1e-6);
  EXPECT_NEAR(c->ci95->lo, 12 - 4.968275, 1e-5);
  EXPECT_NEAR(c->ci95->hi, 12 + 4.968275, 1e-5);
  const auto one = ex::censored_center({{5}});
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->ci95);
  EXPECT_FALSE(ex::censored_center({{5, ex::Censoring::above}}));  // nothing exact: nothing to say
}

TEST(Seeds, CensoredCentreIsTheTobitMaximumLikelihood) {
  // Reference values from an independent fit: scipy.optimize.minimize (Nelder-Mead, xatol 1e-12)
  // of -sum(norm.logpdf(exact) + norm.logsf(above) + norm.logcdf(below)) over (mu, log sigma).
  const auto c = ex::censored_center({{0.0}, {0.1}, {0.3}, {0.5, ex::Censoring::above}, {-0.2, ex::Censoring::below}});
  ASSERT_TRUE(c && c->ci95);
  EXPECT_TRUE(c->maximum_likelihood);
  EXPECT_EQ(c->exact, 3);
  EXPECT_EQ(c->censored, 2);
  EXPECT_NEAR(c->center, 0.13908748637361112, 1e-7);
  EXPECT_LT(c->ci95->lo, c->center);
  EXPECT_GT(c->ci95->hi, c->center);
  // Two equal exact ratios and one seed bounded below 1/3: scipy gives mu = -0.5080339.
  const auto m = ex::censored_center({{0.0}, {0.0}, {std::log(1.0 / 3), ex::Censoring::below}});
  ASSERT_TRUE(m);
  EXPECT_NEAR(m->center, -0.5080338992741684, 1e-6);
}

TEST(Seeds, LogNormalTimesAreNeverNegative) {
  // Skewed TTAs whose arithmetic t-interval goes below zero: 10 +- 4.30 * 15.6 / sqrt(3) < 0.
  const auto t = ex::lognormal_time({{1.0}, {2.0}, {30.0}});
  ASSERT_TRUE(t && t->ci95);
  EXPECT_NEAR(t->center, std::cbrt(60.0), 1e-12);  // the geometric mean
  EXPECT_GT(t->ci95->lo, 0);
  EXPECT_NEAR(t->ci95->lo * t->ci95->hi, t->center * t->center, 1e-9);  // symmetric on the log scale
}

TEST(Seeds, PairedSpeedupByHand) {
  // Per seed dense / compressor: 1.0/0.8, 1.5/1.5, 2.5/2.0 = 1.25, 1, 1.25. Logs 0.223144, 0,
  // 0.223144: mean 0.148762, sd 0.128833; t(0.975, 2) = 4.302653; interval
  // exp(0.148762 +- 4.302653 * 0.128833 / sqrt(3)) = [0.842591, 1.598073], centre exp(mean) = 1.160397.
  const auto p = ex::paired_speedup({{1.0}, {1.5}, {2.5}}, {{0.8}, {1.5}, {2.0}});
  ASSERT_TRUE(p && p->ci95);
  EXPECT_NEAR(p->value, 1.1603972084031948, 1e-9);
  EXPECT_NEAR(p->ci95->lo, 0.8425906417858489, 1e-6);
  EXPECT_NEAR(p->ci95->hi, 1.5980733875895057, 1e-6);
  EXPECT_EQ(p->exact, 3);
  // A seed where both sides missed carries no information; one reached pair is too few.
  const auto q = ex::paired_speedup({{1.0}, {1.5, false}, {2.5, false}}, {{0.8}, {1.5, false}, {2.0}});
  EXPECT_FALSE(q);
}

TEST(Seeds, PairedRatioCancelsSharedNoise) {
  // The compressor is exactly twice as fast on every seed while the seeds differ 2.5x: paired,
  // the speedup is 2 with no uncertainty at all.
  const auto p = ex::paired_speedup({{2.0}, {3.0}, {5.0}}, {{1.0}, {1.5}, {2.5}});
  ASSERT_TRUE(p && p->ci95);
  EXPECT_NEAR(p->value, 2.0, 1e-12);
  EXPECT_NEAR(p->ci95->lo, 2.0, 1e-9);
  EXPECT_NEAR(p->ci95->hi, 2.0, 1e-9);
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
  EXPECT_EQ(r.seeds_reached, 3);
  EXPECT_EQ(r.tta_status, "ok");
  ASSERT_TRUE(r.steps_to_target && r.steps_to_target_sd && r.tta_s && r.tta_s_lo && r.tta_s_hi);
  // Geometric means: (100 * 120 * 140)^(1/3) steps, (1.0 * 1.2 * 1.4)^(1/3) s; the interval is
  // exp(mean log +- t(0.975, 2) sd(log) / sqrt(3)) (numpy: 0.7823302, 1.8064090).
  EXPECT_NEAR(*r.steps_to_target, 118.87843905526259, 1e-9);
  EXPECT_NEAR(*r.steps_to_target_sd, 20, 1e-9);
  EXPECT_NEAR(*r.tta_s, 1.1887843905526259, 1e-12);
  EXPECT_NEAR(*r.tta_s_lo, 0.7823301891821453, 1e-6);
  EXPECT_NEAR(*r.tta_s_hi, 1.8064090415569396, 1e-6);
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
  EXPECT_EQ(r.seeds, 2);
  EXPECT_EQ(r.seeds_reached, 1);
  EXPECT_EQ(r.tta_status, "partial");
  EXPECT_FALSE(r.tta_s);  // one reached seed among misses: too few to estimate, never a number
  EXPECT_NE(r.tta_note.find("1 of 2 seeds"), std::string::npos) << r.tta_note;
  EXPECT_NE(r.tta_note.find("seed 2"), std::string::npos) << r.tta_note;
  ASSERT_EQ(r.seed_tta.size(), 2u);
  EXPECT_FALSE(r.seed_tta[1].reached);
  EXPECT_NEAR(r.seed_tta[1].steps, 1000, 1e-9);  // censored at the run's last logged step
}

TEST(Seeds, NoSeedReachedIsStatusNone) {
  std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 120)};
  for (auto& l : logs)
    for (auto& p : l.points) p.accuracy = 0.5;
  ex::ResultRow r = steady_row(8, 0.01);
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(r.tta_status, "none");
  EXPECT_EQ(r.seeds, 2);
  EXPECT_EQ(r.seeds_reached, 0);
  EXPECT_FALSE(r.tta_s);
  EXPECT_NE(r.tta_note.find("no seed reached the target"), std::string::npos) << r.tta_note;
}

TEST(Seeds, AMissedSeedIsCensoredNotDropped) {
  // Dense and Top-K with identical step times and identical crossings on seeds 1 and 3; Top-K
  // misses the target on seed 2 (dense reaches it there). Dropping seed 2 would give Top-K a
  // speedup from seeds 1 and 3 only; censored, its speedup must not be above 1 beyond its interval,
  // and the point is flagged partial.
  const json topk = {{"compressor", "topk"}, {"ratio", 0.2}};
  const std::vector<tr::ConvergenceLog> d = {linear_log("dense", 8, 1, 300), linear_log("dense", 8, 2, 100),
                                             linear_log("dense", 8, 3, 250)};
  std::vector<tr::ConvergenceLog> t = {linear_log("t", 8, 1, 300, topk), linear_log("t", 8, 2, 100, topk),
                                       linear_log("t", 8, 3, 250, topk)};
  for (auto& p : t[1].points) p.accuracy = std::min(p.accuracy, 0.84);
  std::vector<ex::ResultRow> rows = {steady_row(8, 0.01), steady_row(8, 0.01)};
  rows[1].compressor = {{"name", "topk"}, {"label", "topk"}};
  ex::fill_row_convergence(rows[0], ptrs(d), "", std::nullopt);
  ex::fill_row_convergence(rows[1], ptrs(t), "", std::nullopt);
  ex::compute_speedups(rows);
  const ex::ResultRow& r = rows[1];
  EXPECT_EQ(r.tta_status, "partial");
  EXPECT_EQ(r.seeds, 3);
  EXPECT_EQ(r.seeds_reached, 2);
  ASSERT_TRUE(r.tta_s && r.speedup_vs_dense);
  // Top-K's TTA is at least dense's: its two exact seeds equal dense's, the third is over 10 s.
  EXPECT_GT(*r.tta_s, *rows[0].tta_s);
  EXPECT_TRUE(*r.speedup_vs_dense < 1 || (r.speedup_vs_dense_hi && *r.speedup_vs_dense_hi >= 1));
  EXPECT_LT(*r.speedup_vs_dense, 1.0);
  // By hand: log ratios 0, 0 (seeds 1, 3) and, on seed 2, below log(1.0 / 10.0) (dense 1.0 s at
  // step 100, Top-K still short of the target at its last logged step 1000 = 10 s).
  const auto ref = ex::censored_center({{0.0}, {0.0}, {std::log(0.1), ex::Censoring::below}});
  EXPECT_NEAR(*r.speedup_vs_dense, std::exp(ref->center), 1e-12);
  EXPECT_NE(r.speedup_note.find("3 paired seeds, 1 censored"), std::string::npos) << r.speedup_note;
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
  auto topk = [](bool ramp) {
    return ex::parse_spec({{"trace", "unused"},
                           {"compressors", json::array({{{"name", "topk"}, {"ratio", 0.2}, {"ef", "ef14"}, {"ramp", ramp}}})},
                           {"nodes", json::array({8})},
                           {"bandwidths", json::array({"10Gbps"})}},
                          "spec.json")
        .compressors.at(0);
  };
  ex::CompressorConfig c = topk(false);
  const std::string w = ex::mismatch_warning(trace, c);
  EXPECT_NE(w.find("closest is topk-0.2-ef14"), std::string::npos) << w;
  EXPECT_NE(w.find("ramp: the trace's topk logs were recorded with ramp true"), std::string::npos) << w;
  EXPECT_EQ(ex::mismatch_warning(trace, topk(true)), "");
}

TEST(Seeds, EveryOptionThatChangesTrainingIsPartOfTheIdentity) {
  // PowerSGD recorded at rank 2: a spec asking for rank 4 or 8 does not silently match it.
  tr::Trace trace;
  trace.convergence.push_back(linear_log("powersgd-0.2-ef14-rank=2", 8, 1, 100,
                                         {{"compressor", "powersgd"}, {"ratio", 0.2}, {"ef", "ef14"}, {"rank", 2}}));
  auto powersgd = [](int rank) {
    return ex::parse_spec({{"trace", "unused"},
                           {"compressors", json::array({{{"name", "powersgd"}, {"ef", "ef14"}, {"rank", rank}}})},
                           {"nodes", json::array({8})},
                           {"bandwidths", json::array({"10Gbps"})}},
                          "spec.json")
        .compressors.at(0);
  };
  EXPECT_EQ(ex::mismatch_warning(trace, powersgd(2)), "");
  const std::string w = ex::mismatch_warning(trace, powersgd(8));
  EXPECT_NE(w.find("rank: the trace's powersgd logs were recorded with rank 2 (the spec has 8)"), std::string::npos) << w;
}

TEST(Seeds, LogsAreMatchedOnRanksNotNodes) {
  // 8 nodes of 8 GPUs are 64 data-parallel ranks: the 64-worker logs stand for them, and 16 nodes
  // (128 ranks), beyond every recorded world, are extrapolated and say so.
  const std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 64, 1, 400)};
  ex::ResultRow r = steady_row(8, 0.01);
  r.shapes[0].times.ranks = 64;
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(ex::row_ranks(r), 64);
  EXPECT_EQ(*r.convergence_nodes, 64);
  EXPECT_EQ(r.convergence_estimate, "recorded");
  EXPECT_NEAR(*r.steps_to_target, 400, 1e-9);
  ex::ResultRow far = steady_row(16, 0.01);
  far.shapes[0].times.ranks = 128;
  ex::fill_row_convergence(far, ptrs(logs), "none", std::nullopt);
  EXPECT_EQ(far.tta_status, "extrapolated");
  EXPECT_EQ(far.convergence_estimate, "extrapolated");
}

TEST(Seeds, ATargetMetAtInitialisationCountsOneStep) {
  // Reached at the step-0 evaluation: one step, never a zero time the log-normal model cannot take.
  std::vector<tr::ConvergenceLog> logs = {linear_log("dense", 8, 1, 100), linear_log("dense", 8, 2, 100)};
  for (auto& l : logs)
    for (auto& p : l.points) p.accuracy = 0.9;
  ex::ResultRow r = steady_row(8, 0.01);
  ex::fill_row_convergence(r, ptrs(logs), "none", std::nullopt);
  ASSERT_TRUE(r.tta_s);
  EXPECT_NEAR(*r.tta_s, 0.01, 1e-15);
  EXPECT_EQ(r.tta_status, "ok");
}
