// Time-to-accuracy arithmetic on hand-made schedules and convergence logs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "experiments/results.hpp"
#include "experiments/tta.hpp"
#include "kernels/compressor_options.hpp"

namespace ex = arcsim::experiments;

namespace {

ex::CompressorConfig topk_ramped(std::int64_t warmup) {
  ex::CompressorConfig c;
  c.name = c.label = "topk";
  c.ratio = 0.2;
  c.warmup = warmup;
  c.ramp = true;
  c.options = arcsim::kernels::build_config("topk", {{"ratio", 0.2}, {"warmup", warmup}, {"ramp", true}});
  return c;
}

const std::vector<ex::LogPoint> kLog = {{0, 0.10}, {50, 0.50}, {100, 0.80}, {150, 0.86}, {200, 0.90}};

}  // namespace

TEST(Tta, DenseHasOneSteadyShape) {
  ex::CompressorConfig c;
  c.name = c.label = "dense";
  const ex::StepSchedule s = ex::step_schedule(c, 4);
  ASSERT_EQ(s.shapes.size(), 1u);
  EXPECT_EQ(s.shapes[0].id, "steady");
  EXPECT_EQ(s.shapes[0].ratio, 1.0);
  EXPECT_DOUBLE_EQ(ex::time_for_steps(s, {0.25}, 150), 150 * 0.25);
}

TEST(Tta, WarmupRampSteadySegments) {
  const ex::CompressorConfig c = topk_ramped(10);  // ramp L = 10 + 100 = 110 steps after the warm-up
  const ex::StepSchedule s = ex::step_schedule(c, 4);
  ASSERT_EQ(s.shapes.size(), 6u);
  const std::vector<std::string> ids = {"warmup", "ramp0", "ramp1", "ramp2", "ramp3", "steady"};
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(s.shapes[i].id, ids[i]);
  EXPECT_EQ(s.shapes[0].ratio, 1.0);
  EXPECT_EQ(s.shapes[5].ratio, 0.2);
  // Segments: warm-up 1..10, the ramp's t in [0,27) [27,55) [55,82) [82,110) -> steps 11..120.
  const std::vector<std::pair<std::int64_t, std::int64_t>> want = {{1, 10},   {11, 37},  {38, 65},
                                                                   {66, 92},  {93, 120}, {121, -1}};
  ASSERT_EQ(s.segments.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(s.segments[i].first, want[i].first) << i;
    EXPECT_EQ(s.segments[i].last, want[i].second) << i;
    EXPECT_EQ(s.segments[i].shape, i);
  }
  // ramp0 runs at the mean ratio of t = 0..26: 0.8 - 0.6 * 13 / 110.
  EXPECT_NEAR(s.shapes[1].ratio, 0.8 - 0.6 * 13.0 / 110.0, 1e-12);
  for (std::size_t i = 1; i + 1 < s.shapes.size(); ++i) EXPECT_LT(s.shapes[i + 1].ratio, s.shapes[i].ratio);
}

TEST(Tta, RampRatioFormula) {
  const ex::CompressorConfig c = topk_ramped(0);  // L = 100
  EXPECT_DOUBLE_EQ(ex::ramp_ratio(c, 0), 0.8);
  EXPECT_DOUBLE_EQ(ex::ramp_ratio(c, 50), 0.5);
  EXPECT_DOUBLE_EQ(ex::ramp_ratio(c, 100), 0.2);
  EXPECT_DOUBLE_EQ(ex::ramp_ratio(c, 1000), 0.2);
  ex::CompressorConfig flat = c;
  flat.ramp = flat.options.ramp = false;
  EXPECT_DOUBLE_EQ(ex::ramp_ratio(flat, 0), 0.2);
  EXPECT_EQ(ex::step_schedule(flat, 4).shapes.size(), 1u);
}

TEST(Tta, StepsToTargetAccuracyAndLoss) {
  EXPECT_EQ(ex::steps_to_target(kLog, {"accuracy", 0.85, ""}), 150);
  EXPECT_EQ(ex::steps_to_target(kLog, {"accuracy", 0.80, ""}), 100);  // reached when >= value
  EXPECT_EQ(ex::steps_to_target(kLog, {"accuracy", 0.95, ""}), std::nullopt);
  const std::vector<ex::LogPoint> loss = {{10, 2.0}, {20, 1.0}, {30, 0.5}};
  EXPECT_EQ(ex::steps_to_target(loss, {"loss", 1.0, ""}), 20);  // reached when <= value
  EXPECT_EQ(ex::steps_to_target(loss, {"loss", 0.1, ""}), std::nullopt);
  EXPECT_EQ(ex::steps_to_target({}, {"accuracy", 0.5, ""}), std::nullopt);
  EXPECT_THROW(ex::steps_to_target({{50, 0.5}, {25, 0.9}}, {"accuracy", 0.8, ""}), std::invalid_argument);
}

TEST(Tta, TimeIsTheSumOfPerStepTimesOverShapes) {
  const ex::StepSchedule s = ex::step_schedule(topk_ramped(10), 4);
  const std::vector<double> step_s = {1.0, 0.5, 0.4, 0.3, 0.25, 0.2};
  const std::int64_t steps = *ex::steps_to_target(kLog, {"accuracy", 0.85, ""});
  // 10 warm-up steps, 27 + 28 + 27 + 28 ramp steps, then 30 steady steps.
  const double want = 10 * 1.0 + 27 * 0.5 + 28 * 0.4 + 27 * 0.3 + 28 * 0.25 + 30 * 0.2;
  EXPECT_NEAR(ex::time_for_steps(s, step_s, steps), want, 1e-9);
  // Inside the warm-up and inside a ramp segment.
  EXPECT_NEAR(ex::time_for_steps(s, step_s, 7), 7.0, 1e-12);
  EXPECT_NEAR(ex::time_for_steps(s, step_s, 40), 10 + 27 * 0.5 + 3 * 0.4, 1e-12);
  EXPECT_EQ(ex::time_for_steps(s, step_s, 0), 0.0);
  EXPECT_THROW(ex::time_for_steps(s, {1.0}, 10), std::invalid_argument);
}

TEST(Tta, SpeedupsAgainstDenseAndTopkOnTheSameNetworkPoint) {
  auto row = [](std::size_t point, const char* name, int nodes, double it, std::optional<double> tta) {
    ex::ResultRow r;
    r.point = point;
    r.compressor = {{"name", name}, {"label", name}};
    r.nodes = nodes;
    r.bandwidth_Bps = 1.25e9;
    r.latency_s = 5e-6;
    r.topology = "star";
    r.profile = "nccl";
    r.status = "ok";
    r.steady.total_s = it;
    r.tta_s = tta;
    if (tta) r.seed_tta.push_back({1, 100, *tta});  // one seed: speedups without an interval
    return r;
  };
  std::vector<ex::ResultRow> rows = {row(0, "dense", 8, 0.4, 40.0), row(1, "topk", 8, 0.2, 30.0),
                                     row(2, "arctopk", 8, 0.1, 10.0), row(3, "randk", 8, 0.1, std::nullopt),
                                     row(4, "arctopk", 16, 0.1, 10.0)};
  ex::compute_speedups(rows);
  EXPECT_DOUBLE_EQ(*rows[2].speedup_vs_dense, 4.0);
  EXPECT_DOUBLE_EQ(*rows[2].speedup_vs_topk, 3.0);
  EXPECT_DOUBLE_EQ(*rows[2].iteration_speedup_vs_dense, 4.0);
  EXPECT_DOUBLE_EQ(*rows[2].iteration_speedup_vs_topk, 2.0);
  EXPECT_DOUBLE_EQ(*rows[0].speedup_vs_dense, 1.0);
  EXPECT_FALSE(rows[3].speedup_vs_dense);  // no TTA: no TTA speedup, but an iteration speedup
  EXPECT_DOUBLE_EQ(*rows[3].iteration_speedup_vs_dense, 4.0);
  EXPECT_FALSE(rows[4].speedup_vs_dense);  // no dense row at 16 nodes
  EXPECT_FALSE(rows[4].iteration_speedup_vs_topk);
}
