// Each stage of the sweep on its own: check_inputs, the plan cache, task planning, running, row
// assembly and writing, with a closed-form stand-in for SimGrid.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/json_fields.hpp"
#include "experiments/plan_cache.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/sweep_output.hpp"
#include "experiments/sweep_rows.hpp"
#include "experiments/sweep_run.hpp"
#include "experiments/sweep_tasks.hpp"
#include "sweep_fixture.hpp"

namespace ex = arcsim::experiments;
namespace fs = std::filesystem;
using nlohmann::json;
using sweep_test::Scratch;

namespace {

ex::ExperimentSpec small(const std::string& dir, json changes = json::object()) {
  json j = sweep_test::small_spec_json();
  j.update(changes);
  return ex::parse_spec(j, dir + "/spec.json");
}

std::size_t shape_count(const ex::PlanSet& p) {
  std::size_t n = 0;
  for (const auto& c : p.configs)
    for (const auto& ids : c.shape_plans) n += ids.size();
  return n;
}

}  // namespace

TEST(SweepStages, CheckInputsReadsTraceTimingAndTopologies) {
  Scratch s("stage-inputs");
  const ex::ExperimentSpec spec = small(s.dir);
  const ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  EXPECT_EQ(in.trace_checksum.size(), 64u);
  EXPECT_FALSE(in.buckets.empty());
  EXPECT_FALSE(in.compute.layers.empty());
  EXPECT_TRUE(in.timer);
  EXPECT_NE(in.timing_source.find("H100"), std::string::npos) << in.timing_source;
  ASSERT_EQ(in.topology_args.size(), 1u);
  EXPECT_EQ(in.topology_args[0], "star");
}

TEST(SweepStages, CheckInputsRefusesAMissingTraceNamingTheField) {
  Scratch s("stage-inputs-bad");
  const ex::ExperimentSpec spec = small(s.dir, {{"trace", s.dir + "/no-such-trace"}});
  try {
    ex::check_inputs(spec, s.dir);
    FAIL() << "expected a ConfigError";
  } catch (const arcsim::json::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(spec.file + ": trace: "), std::string::npos) << e.what();
  }
}

TEST(SweepStages, PlanCacheReplaysOnceThenReusesAndSharesIdenticalPlans) {
  Scratch s("stage-plans");
  const ex::ExperimentSpec spec = small(s.dir);
  const ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  const ex::PlanSet first = ex::build_plan_cache(spec, in, {s.dir + "/plans", true, nullptr});
  ASSERT_EQ(first.configs.size(), 3u);
  EXPECT_EQ(first.reused, 0u);
  EXPECT_GT(first.replayed, 0u);
  // dense's steady plan and every configuration's dense warm-up are one plan.
  EXPECT_LT(first.plans.size(), shape_count(first));
  std::set<std::string> hashes;
  for (const auto& p : first.plans) {
    EXPECT_TRUE(hashes.insert(p.hash).second) << "plan kept twice: " << p.hash;
    EXPECT_GT(p.ops, 0u);
  }
  const std::string file = s.dir + "/plans/topk--steady.json";
  ASSERT_TRUE(fs::exists(file)) << file;
  const std::string bytes = sweep_test::slurp(file);

  const ex::PlanSet second = ex::build_plan_cache(spec, in, {s.dir + "/plans", false, nullptr});
  EXPECT_EQ(second.replayed, 0u);
  EXPECT_EQ(second.reused, first.replayed);
  ASSERT_EQ(second.plans.size(), first.plans.size());
  for (std::size_t i = 0; i < first.plans.size(); ++i) EXPECT_EQ(second.plans[i].hash, first.plans[i].hash);
  EXPECT_EQ(sweep_test::slurp(file), bytes);
  EXPECT_EQ(second.configs[1].relative_error, first.configs[1].relative_error);
}

TEST(SweepStages, PlanCacheWithoutReplayRefusesAnUnpreparedDirectory) {
  Scratch s("stage-plans-unprepared");
  const ex::ExperimentSpec spec = small(s.dir);
  const ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  try {
    ex::build_plan_cache(spec, in, {s.dir + "/plans", false, nullptr});
    FAIL() << "expected a ConfigError";
  } catch (const arcsim::json::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--prepare"), std::string::npos) << e.what();
  }
}

class PlannedSweep : public ::testing::Test {
 protected:
  Scratch s{"stage-tasks"};
  ex::ExperimentSpec spec = small(s.dir);
  ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  ex::PlanSet plans = ex::build_plan_cache(spec, in, {s.dir + "/plans", true, nullptr});
};

TEST_F(PlannedSweep, PointsHaveUniqueKeysAndTasksAreDeduplicated) {
  const std::vector<ex::PointWork> points = ex::plan_points(spec, in, plans);
  ASSERT_EQ(points.size(), 3u * 3u * 2u);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].point.index, i);
    EXPECT_TRUE(keys.insert(points[i].key).second);
  }
  const ex::TaskPlan tp = ex::plan_tasks(points, plans, {});
  EXPECT_EQ(tp.reused, 0u);
  std::size_t needed = 0;
  for (const auto& w : tp.points)
    for (const auto& ts : w.shape_tasks) needed += ts.size();
  EXPECT_LT(tp.tasks.size(), needed);  // the shared dense warm-up is simulated once per network point
  std::set<std::string> ids;
  for (const auto& t : tp.tasks) EXPECT_TRUE(ids.insert(t.id).second);
  // A task serves only points of its own network point.
  for (const auto& t : tp.tasks)
    for (auto pi : t.points) EXPECT_EQ(tp.points[pi].net_key, tp.points[t.points.front()].net_key);
}

TEST_F(PlannedSweep, RowsOfAnEarlierRunWithTheSameKeyAreReused) {
  const std::vector<ex::PointWork> points = ex::plan_points(spec, in, plans);
  std::map<std::string, ex::ResultRow> previous;
  ex::ResultRow r;
  r.key = points[4].key;
  r.status = "ok";
  previous.emplace(r.key, r);
  const ex::TaskPlan tp = ex::plan_tasks(points, plans, previous);
  EXPECT_EQ(tp.reused, 1u);
  ASSERT_TRUE(tp.reuse[4]);
  EXPECT_EQ(tp.reuse[4]->key, points[4].key);
  EXPECT_TRUE(tp.points[4].shape_tasks.empty());
  for (const auto& t : tp.tasks)
    for (auto pi : t.points) EXPECT_NE(pi, 4u);
}

TEST_F(PlannedSweep, EachPointCompletesWithItsLastTaskExactlyOnce) {
  const ex::TaskPlan tp = ex::plan_tasks(ex::plan_points(spec, in, plans), plans, {});
  std::vector<bool> done(tp.tasks.size(), false);
  std::vector<int> completed(tp.points.size(), 0);
  for (std::size_t ti = tp.tasks.size(); ti-- > 0;) {  // reverse order: completion order is arbitrary
    done[ti] = true;
    for (auto pi : ex::points_completed_by(tp, ti, done)) ++completed[pi];
  }
  for (std::size_t pi = 0; pi < completed.size(); ++pi) EXPECT_EQ(completed[pi], 1) << "point " << pi;
}

TEST_F(PlannedSweep, RunningReportsEveryTaskOnceWithItsResultOrError) {
  const ex::TaskPlan tp = ex::plan_tasks(ex::plan_points(spec, in, plans), plans, {});
  std::vector<int> seen(tp.tasks.size(), 0);
  std::vector<ex::TaskResult> results(tp.tasks.size());
  ex::run_simulations(spec, in, plans, tp.tasks, sweep_test::closed_form(16), 2,
                      [&](std::size_t ti, const ex::TaskResult& r) {
                        ++seen[ti];
                        results[ti] = r;
                      });
  for (std::size_t ti = 0; ti < tp.tasks.size(); ++ti) {
    EXPECT_EQ(seen[ti], 1);
    EXPECT_TRUE(results[ti].done);
    if (tp.tasks[ti].net.nodes == 16) {
      EXPECT_FALSE(results[ti].times);
      EXPECT_NE(results[ti].error.find("boom at 16 nodes"), std::string::npos) << results[ti].error;
    } else {
      ASSERT_TRUE(results[ti].times) << results[ti].error;
      EXPECT_GT(results[ti].times->total_s, 0.008);
    }
  }
}

TEST_F(PlannedSweep, RowAssemblyMeansShapesAndReportsTheFirstFailingShape) {
  const ex::TaskPlan tp = ex::plan_tasks(ex::plan_points(spec, in, plans), plans, {});
  std::vector<ex::TaskResult> results(tp.tasks.size());
  for (std::size_t ti = 0; ti < tp.tasks.size(); ++ti) {
    results[ti].done = true;
    ex::IterationTimes t;
    t.total_s = 0.01 * (1 + static_cast<double>(tp.tasks[ti].plan));
    results[ti].times = t;
  }
  const std::size_t topk = 1;  // point 1: topk at the first network point (warm-up, ramp, steady)
  const ex::ConfigPlans& cp = plans.configs[tp.points[topk].point.compressor];
  ex::ResultRow row = ex::pending_row(spec, in, tp.points[topk], cp);
  EXPECT_EQ(row.status, "pending");
  ex::assemble_simulated(row, tp.points[topk], cp, results, spec.target);
  ASSERT_EQ(row.status, "ok");
  ASSERT_EQ(row.shapes.size(), cp.schedule.shapes.size());
  EXPECT_EQ(row.shapes.back().id, "steady");
  EXPECT_DOUBLE_EQ(row.steady.total_s, row.shapes.back().times.total_s);
  EXPECT_EQ(row.shapes.front().kind, "warmup");

  const std::size_t failing = tp.points[topk].shape_tasks.back().front();
  results[failing].times.reset();
  results[failing].error = "timed out";
  ex::ResultRow bad = ex::pending_row(spec, in, tp.points[topk], cp);
  ex::assemble_simulated(bad, tp.points[topk], cp, results, spec.target);
  EXPECT_EQ(bad.status, "failed");
  EXPECT_EQ(bad.error, "steady iteration: timed out");
  EXPECT_EQ(bad.tta_note, "point failed");

  ex::ResultRow again = ex::pending_row(spec, in, tp.points[topk], cp);
  ex::assemble_reused(again, row, cp, spec.target);
  EXPECT_EQ(ex::row_to_json(again), ex::row_to_json(row));

  ex::IterationTimes a, b;
  a.total_s = 1;
  b.total_s = 3;
  a.bytes_per_node = 10;
  EXPECT_DOUBLE_EQ(ex::mean_times({a, b}).total_s, 2.0);
  EXPECT_DOUBLE_EQ(ex::mean_times({a, b}).bytes_per_node, 5.0);
}

TEST_F(PlannedSweep, WritingGivesTheSameBytesForTheSameRows) {
  const ex::TaskPlan tp = ex::plan_tasks(ex::plan_points(spec, in, plans), plans, {});
  std::vector<ex::ResultRow> rows;
  for (const auto& w : tp.points) rows.push_back(ex::pending_row(spec, in, w, plans.configs[w.point.compressor]));
  const json prov = ex::sweep_provenance(spec, in, plans);
  for (const char* k : {"arcsim_version", "git_commit", "trace_checksum", "kernel_timing", "gradients", "target"})
    EXPECT_TRUE(prov.contains(k)) << k;
  EXPECT_EQ(prov["trace_checksum"], "sha256:" + in.trace_checksum);
  const ex::ResultsWriter w(s.dir + "/out", spec.to_json(), prov);
  w.write(rows);
  const std::string a = sweep_test::slurp(s.dir + "/out/results.json");
  EXPECT_NE(a.find("\"pending\": " + std::to_string(rows.size())), std::string::npos);
  w.write(rows);
  EXPECT_EQ(sweep_test::slurp(s.dir + "/out/results.json"), a);
}
