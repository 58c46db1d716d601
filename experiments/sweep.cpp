#include "sweep.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "experiments/compute_model.hpp"
#include "experiments/limits.hpp"
#include "experiments/convergence.hpp"
#include "experiments/plan_cache.hpp"
#include "experiments/progress.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/sweep_output.hpp"
#include "experiments/sweep_rows.hpp"
#include "experiments/sweep_tasks.hpp"

namespace arcsim::experiments {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Before the replay. A configuration that differs from every log of its compressor in an option
// that changes training would get its TTA from another configuration: an error, unless the spec
// names the stand-in log ("convergence"). One whose compressor has no log at all gets an empty TTA:
// said on stderr even with --quiet, since an empty column is easy to miss.
void check_convergence_match(const ExperimentSpec& spec, const traces::Trace& trace) {
  if (trace.convergence.empty()) return;
  for (std::size_t i = 0; i < spec.compressors.size(); ++i) {
    const CompressorConfig& c = spec.compressors[i];
    const std::string w = mismatch_warning(trace, c);
    if (w.empty()) continue;
    if (!c.convergence.empty() || has_logs_of(trace, c.name))
      throw arcsim::json::ConfigError(spec.file + ": compressors[" + std::to_string(i) + "]: " + w +
                        (c.convergence.empty() ? "; to use such a log anyway, name it: \"convergence\": \"<config id>\""
                                               : ""));
    std::fprintf(stderr, "[sweep] warning: %s\n", w.c_str());
  }
}

std::string human_bw(double Bps) { return io::format_number(std::round(Bps * 8 / 1e9 * 1e9) / 1e9) + "Gbps"; }

std::map<std::string, ResultRow> ok_rows(std::vector<ResultRow> rows) {
  std::map<std::string, ResultRow> out;
  for (auto& r : rows)
    if (r.status == "ok") out.emplace(r.key, std::move(r));
  return out;
}

// Every point's row: the identity columns, and the whole row where an earlier one is reused.
std::vector<ResultRow> initial_rows(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans,
                                    const TaskPlan& work) {
  std::vector<ResultRow> rows;
  for (std::size_t pi = 0; pi < work.points.size(); ++pi) {
    const PointWork& w = work.points[pi];
    const ConfigPlans& cp = plans.configs[w.point.compressor];
    rows.push_back(pending_row(spec, in, w, cp));
    rows.back().compute_source = in.compute_source;
    if (work.reuse[pi]) assemble_reused(rows.back(), *work.reuse[pi], cp, spec.target);
  }
  return rows;
}

std::string point_line(const ResultRow& r, const ConfigPlans& cp, std::size_t finished,
                       std::size_t points, std::size_t done_tasks, std::size_t tasks, std::size_t failed,
                       Clock::time_point t_start) {
  const std::string outcome = r.status == "ok"
                                  ? io::format_number(std::round(r.steady.total_s * 1e7) / 1e4) + " ms/iteration"
                                  : "FAILED: " + r.error;
  char buf[400];
  std::snprintf(buf, sizeof buf, "[sweep] %zu/%zu points (%zu/%zu simulations, %zu failed, %.0f s)  %s N=%d %s %s: %s",
                finished, points, done_tasks, tasks, failed,
                std::chrono::duration<double>(Clock::now() - t_start).count(), cp.cfg->label.c_str(), r.nodes,
                human_bw(r.bandwidth_Bps).c_str(), r.topology.c_str(), outcome.c_str());
  return buf;
}

// Runs the simulations; each point's row is assembled and both files rewritten as soon as the
// last of its simulations ends, so an interrupted sweep keeps every finished point.
void simulate_points(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans, const TaskPlan& work,
                     std::vector<ResultRow>& rows, const ResultsWriter& writer, const SweepOptions& options,
                     const Progress& progress, Clock::time_point t_start) {
  std::vector<TaskResult> results(work.tasks.size());
  std::vector<bool> done(work.tasks.size(), false);
  std::size_t finished = work.reused, failed = 0, done_tasks = 0;
  RewriteLimiter rewrite(options.write_interval_s);  // while points finish; run_sweep writes the last
  run_simulations(spec, in, plans, work.tasks, options.simulate, options.jobs, [&](std::size_t ti, const TaskResult& r) {
    results[ti] = r;
    done[ti] = true;
    ++done_tasks;
    for (std::size_t pi : points_completed_by(work, ti, done)) {
      const ConfigPlans& cp = plans.configs[work.points[pi].point.compressor];
      assemble_simulated(rows[pi], work.points[pi], cp, results, spec.target);
      ++finished;
      if (rows[pi].status != "ok") ++failed;
      if (rewrite.due()) writer.write(rows);
      progress.update(point_line(rows[pi], cp, finished, rows.size(), done_tasks, work.tasks.size(), failed, t_start),
                      finished == rows.size());
    }
  });
}

SweepSummary summarize(std::vector<ResultRow> rows, const TaskPlan& work, const PlanSet& plans, std::string dir) {
  SweepSummary sum;
  sum.points = rows.size();
  for (const auto& r : rows) sum.failed += r.status == "failed" ? 1 : 0;
  sum.ok = sum.points - sum.failed;
  sum.reused = work.reused;
  sum.simulations = work.tasks.size();
  sum.rows = std::move(rows);
  compute_speedups(sum.rows);
  for (const auto& g : plans.gradient_notes) sum.replay_note += (sum.replay_note.empty() ? "" : "; ") + g;
  sum.results_dir = std::move(dir);
  return sum;
}

}  // namespace

SweepSummary run_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  const auto t_start = Clock::now();
  const Progress progress(options.progress);
  const std::string& out = options.out_dir;
  const std::string dir = options.shard ? shard_dir(out, *options.shard) : out;

  const SweepInputs in = check_inputs(spec, out);
  if (options.check_convergence) check_convergence_match(spec, in.trace);
  if (const auto w = cpu_compute_warning(spec.compute, in.trace, spec.profiles); !w.empty())
    std::fprintf(stderr, "[sweep] warning: %s\n", w.c_str());
  // A shard only reads the plans: shards replaying at once could disagree (measured timings).
  const PlanSet plans = build_plan_cache(spec, in, {out + "/plans", !options.shard, &progress});
  std::vector<PointWork> points = plan_points(spec, in, plans);
  if (options.shard) points = shard_points(std::move(points), plans, *options.shard);
  if (options.keep) std::erase_if(points, [&](const PointWork& w) { return !options.keep(w.point); });
  const std::map<std::string, ResultRow> previous = ok_rows(load_previous_rows(dir));
  const TaskPlan work = plan_tasks(std::move(points), plans, previous);
  std::vector<ResultRow> rows = initial_rows(spec, in, plans, work);

  json provenance = sweep_provenance(spec, in, plans);
  if (options.shard) provenance["shard"] = to_json(*options.shard);
  const ResultsWriter writer(dir, spec.to_json(), provenance);
  if (work.reused > 0)
    progress.line("[sweep] resuming: " + std::to_string(work.reused) + " of " + std::to_string(rows.size()) +
                  " points already in " + dir + "/results.json");
  writer.write(rows);
  simulate_points(spec, in, plans, work, rows, writer, options, progress, t_start);
  writer.write(rows);
  return summarize(std::move(rows), work, plans, dir);
}

PrepareSummary prepare_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  const Progress progress(options.progress);
  const SweepInputs in = check_inputs(spec, options.out_dir);
  if (options.check_convergence) check_convergence_match(spec, in.trace);
  const PlanSet plans = build_plan_cache(spec, in, {options.out_dir + "/plans", true, &progress});
  PrepareSummary s;
  s.plans = plans.plans.size();
  s.replayed = plans.replayed;
  s.reused = plans.reused;
  s.points = expand_points(spec).size();
  for (const auto& g : plans.gradient_notes) s.replay_note += (s.replay_note.empty() ? "" : "; ") + g;
  return s;
}

SweepSummary merge_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  const Progress progress(options.progress);
  const std::string& out = options.out_dir;
  const SweepInputs in = check_inputs(spec, out);
  const PlanSet plans = build_plan_cache(spec, in, {out + "/plans", false, &progress});
  std::vector<PointWork> points = plan_points(spec, in, plans);
  const json config = spec.to_json(), provenance = sweep_provenance(spec, in, plans);

  // Every point's row comes from its shard, exactly as a resumed sweep takes it from its own
  // earlier files: the merged bytes are those of an unsharded run by construction.
  const ShardRows shards = read_shards(spec, out, points, plans, config, provenance);
  const TaskPlan work = plan_tasks(std::move(points), plans, shards.rows);
  if (!work.tasks.empty()) throw std::logic_error("merge: a point was left without a row after the shard checks");
  const std::vector<ResultRow> rows = initial_rows(spec, in, plans, work);
  ResultsWriter(out, config, provenance).write(rows);
  progress.line("[sweep] merged " + std::to_string(shards.count) + " shard(s) of " + out + "/shards: " +
                std::to_string(rows.size()) + " points");
  SweepSummary sum = summarize(rows, work, plans, out);
  sum.reused = 0;
  return sum;
}

}  // namespace arcsim::experiments
