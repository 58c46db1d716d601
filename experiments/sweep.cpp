#include "sweep.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "arcsim/version.hpp"
#include "experiments/convergence.hpp"
#include "experiments/limits.hpp"
#include "experiments/fork_pool.hpp"
#include "common/format.hpp"
#include "experiments/replay.hpp"
#include "experiments/tta.hpp"
#include "kernels/timing.hpp"
#include "common/json_fields.hpp"
#include "topologies/topology.hpp"
#include "common/atomic_file.hpp"
#include "traces/buckets.hpp"
#include "common/sha256.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;
using nlohmann::json;

IterationTimes simulate_with_simgrid(const sim::NetworkConfig& net, const sim::Plan& plan,
                                     const sim::ComputeProfile& compute, const sim::IterationOptions& options) {
  const sim::IterationBreakdown b = sim::simulate_iteration(net, plan, compute, options);
  IterationTimes t;
  t.total_s = b.total_s;
  t.compute_s = b.compute_s;
  t.compression_s = b.compression_s;
  t.exposed_comm_s = b.exposed_comm_s;
  t.comm_s = b.comm_s;
  t.bytes_per_node = b.bytes_per_node;
  return t;
}

namespace {

using Clock = std::chrono::steady_clock;

// A replayed plan, shared by every point (and shape) that uses the same bytes.
struct PlanEntry {
  std::string hash;
  sim::Plan plan;
};

// Everything about one compressor configuration that does not depend on the network point.
struct ConfigPrep {
  const CompressorConfig* cfg = nullptr;
  StepSchedule schedule;
  std::vector<std::vector<std::size_t>> shape_plans;  // per shape: PlanEntry indices, one per sample
  std::optional<double> relative_error, retained_energy;  // steady shape, mean over samples
  std::vector<const traces::ConvergenceLog*> logs;
  std::string no_log_note;
};

struct Task {
  NetworkPoint net;
  std::size_t plan = 0;
  std::vector<std::size_t> points;  // points waiting on it
  std::optional<IterationTimes> result;
  std::string error;
  bool done = false;
};

struct PointState {
  Point point;
  std::string key;
  std::vector<std::vector<std::size_t>> shape_tasks;  // per shape, per sample: Task indices
  bool finished = false;
};

kernels::CompressorConfig kernel_config(const CompressorConfig& c, const Shape& s, std::uint64_t seed) {
  kernels::CompressorConfig k;
  k.seed = seed;
  if (c.name == "dense" || s.kind == "warmup") return k;  // dense: ratio 1, no EF
  k.compressor = c.name;
  k.ratio = s.ratio;
  k.ef = c.ef;
  k.rank = c.rank;
  k.row_scores = c.row_scores;
  k.shape_rule = c.shape_rule;
  k.sketch_allreduce = c.sketch_allreduce;
  k.unbiased = c.rescale;
  return k;  // warmup 0, ramp off: the shape's own steady behaviour
}

std::string net_key(const NetworkPoint& n) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d|%a|%a|%zu|", n.nodes, n.bandwidth_Bps, n.latency_s, n.topology);
  return buf + n.profile;
}

std::string human_bw(double Bps) { return io::format_number(std::round(Bps * 8 / 1e9 * 1e9) / 1e9) + "Gbps"; }

sim::ComputeProfile to_sim_profile(const traces::ComputeProfile& c) {
  sim::ComputeProfile p;
  p.device = c.device;
  p.forward_s = c.forward_s;
  p.optimizer_s = c.optimizer_s;
  for (const auto& l : c.layers) p.layers.push_back({l.name, l.params, l.forward_s, l.backward_s});
  return p;
}

IterationTimes mean_times(const std::vector<IterationTimes>& v) {
  IterationTimes m;
  for (const auto& t : v) {
    m.total_s += t.total_s;
    m.compute_s += t.compute_s;
    m.compression_s += t.compression_s;
    m.exposed_comm_s += t.exposed_comm_s;
    m.comm_s += t.comm_s;
    m.bytes_per_node += t.bytes_per_node;
  }
  const double n = static_cast<double>(v.size());
  m.total_s /= n;
  m.compute_s /= n;
  m.compression_s /= n;
  m.exposed_comm_s /= n;
  m.comm_s /= n;
  m.bytes_per_node /= n;
  return m;
}

// Steps to target, TTA and the accuracy-vs-time curve of a finished row, from its shapes.
void fill_convergence(ResultRow& r, const ConfigPrep& prep, const std::optional<Target>& spec_target) {
  r.steps_to_target.reset();
  r.convergence_nodes.reset();
  r.convergence_config.clear();
  r.tta_s.reset();
  r.tta_note.clear();
  r.curve.clear();
  if (r.status != "ok") {
    r.tta_note = "point failed";
    return;
  }
  const traces::ConvergenceLog* log = nearest_log(prep.logs, r.nodes);
  if (!log) {
    r.tta_note = prep.no_log_note;
    return;
  }
  Target target;
  if (spec_target) {
    target = *spec_target;
  } else if (log->target_accuracy > 0) {
    target = Target{"accuracy", log->target_accuracy};
  } else {
    r.tta_note = "no target: the experiment sets none and the trace's log " + log->config + " has none";
    return;
  }
  r.convergence_nodes = log->world;
  r.convergence_config = log->config;
  StepSchedule sched;
  std::vector<double> step_s;
  for (const auto& s : r.shapes) {
    sched.shapes.push_back({s.id, s.kind, s.ratio});
    sched.segments.push_back({s.first_step, s.last_step, sched.shapes.size() - 1});
    step_s.push_back(s.times.total_s);
  }
  const std::vector<LogPoint> pts = log_points(*log, target);
  for (const auto& p : log->points)
    r.curve.push_back({p.step, time_for_steps(sched, step_s, p.step), p.accuracy, p.loss});
  const std::optional<std::int64_t> steps = steps_to_target(pts, target);
  const std::string nearest =
      log->world == r.nodes ? "" : "convergence log of N=" + std::to_string(log->world) + " (nearest recorded)";
  if (!steps) {
    double best = pts.empty() ? 0 : pts.front().value;
    for (const auto& p : pts) best = target.metric == "loss" ? std::min(best, p.value) : std::max(best, p.value);
    r.tta_note = "target " + target.metric + " " + io::format_number(target.value) + " not reached in " + log->config +
                 " N=" + std::to_string(log->world) + " (best " + io::format_number(best) + " by step " +
                 std::to_string(pts.empty() ? 0 : pts.back().step) + ")";
    return;
  }
  r.steps_to_target = *steps;
  r.tta_s = time_for_steps(sched, step_s, *steps);
  r.tta_note = nearest;
}

void progress(bool tty, const std::string& line, bool final) {
  if (tty) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

SweepSummary run_sweep(const ExperimentSpec& spec, const SweepOptions& options) {
  const auto t_start = Clock::now();
  const std::string& out = options.out_dir;
  const bool tty = options.progress && ::isatty(STDERR_FILENO);
  auto say = [&](const std::string& line) {
    if (options.progress) progress(false, line, true);
  };

  // ---- The trace: everything in it is checked before any work starts.
  traces::Trace trace;
  try {
    trace = traces::validate_trace(spec.trace);
  } catch (const std::exception& e) {
    throw ConfigError(spec.file + ": trace: " + e.what());
  }
  if (!trace.compute)
    throw ConfigError(spec.file + ": trace: expected a trace with a compute profile, got " + spec.trace +
                      " without one");
  const std::string trace_checksum = io::sha256_hex(io::read_file(spec.trace + "/trace.json"));
  const sim::ComputeProfile compute = to_sim_profile(*trace.compute);

  traces::BucketOptions bopt;
  bopt.cap_bytes = static_cast<std::int64_t>(spec.bucket_cap_bytes);
  bopt.first_cap_bytes = static_cast<std::int64_t>(spec.first_bucket_cap_bytes);
  const std::vector<traces::Bucket> buckets = traces::ddp_buckets(trace.layout, bopt);

  std::optional<kernels::KernelTimeModel> timer;
  if (spec.kernel_timing != "measured-cpu") {
    try {
      timer = kernels::KernelTimeModel::from_spec(spec.kernel_timing);
    } catch (const std::exception& e) {
      throw ConfigError(spec.file + ": kernel_timing: " + e.what());
    }
  }
  const std::string timing_source = timer ? timer->source() : "measured-cpu";

  // ---- Topologies: resolved at every node count now, so a bad one fails before the replay.
  fs::create_directories(out);
  std::vector<std::string> topo_arg;
  for (std::size_t i = 0; i < spec.topologies.size(); ++i) {
    const auto& t = spec.topologies[i];
    std::string arg;
    if (t.spec.is_object()) {
      fs::create_directories(out + "/topologies");
      arg = out + "/topologies/" + io::safe_name(t.name) + ".json";
      io::write_file_atomic(arg, t.spec.dump(2) + "\n");
    } else {
      arg = t.spec.get<std::string>();
    }
    const std::string field = spec.file + ": topologies[" + std::to_string(i) + "]";
    try {
      const topo::TopologySpec ts = topo::load_topology(arg);
      for (int n : spec.nodes)
        for (double bw : spec.bandwidths_Bps)
          for (double lat : spec.latencies_s) {
            try {
              topo::resolve(ts, n, bw, lat);
            } catch (const std::exception& e) {
              throw std::runtime_error(std::string(e.what()) + " (at nodes = " + std::to_string(n) + ")");
            }
          }
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw ConfigError(field + ": " + what);
    }
    topo_arg.push_back(arg);
  }

  // ---- Replay: one plan per (configuration, shape, sample), cached in DIR/plans.
  fs::create_directories(out + "/plans");
  std::vector<PlanEntry> plans;
  std::map<std::string, std::size_t> plan_by_hash;
  std::map<std::string, std::pair<std::size_t, ShapePlan>> replayed;  // replay key -> plan, quality
  std::map<std::string, std::unique_ptr<GradientSource>> sources;
  std::vector<ConfigPrep> preps(spec.compressors.size());
  std::size_t replays = 0, cached = 0;
  std::set<std::string> grad_notes;
  const auto t_replay = Clock::now();

  for (std::size_t ci = 0; ci < spec.compressors.size(); ++ci) {
    const CompressorConfig& cfg = spec.compressors[ci];
    ConfigPrep& prep = preps[ci];
    prep.cfg = &cfg;
    prep.schedule = step_schedule(cfg, spec.replay.ramp_shapes);
    prep.logs = matching_logs(trace, cfg);
    if (prep.logs.empty()) prep.no_log_note = no_match_note(trace, cfg);
    const std::string prefer = prep.logs.empty() ? "dense" : prep.logs.front()->config;
    auto& src = sources[prefer];
    if (!src) src = std::make_unique<GradientSource>(trace, buckets, spec.replay.workers, prefer);
    grad_notes.insert(src->description());

    std::vector<double> err, kept;
    for (const Shape& shape : prep.schedule.shapes) {
      const kernels::CompressorConfig kc = kernel_config(cfg, shape, spec.seed);
      const int samples = shape.kind == "steady" ? std::min(spec.replay.samples, src->steps_available()) : 1;
      std::vector<std::size_t> ids;
      for (int s = 0; s < samples; ++s) {
        const json key_doc = {{"trace", trace_checksum},  {"compressor", kc.to_json()},     {"sample", s},
                              {"gradients", src->description()}, {"bucket_cap", spec.bucket_cap_bytes},
                              {"first_bucket_cap", spec.first_bucket_cap_bytes}, {"timing", timing_source},
                              {"commit", kGitCommit}};
        const std::string rkey = fnv_hex(key_doc.dump());
        const std::string file = out + "/plans/" + io::safe_name(cfg.label) + "--" + shape.id +
                                 (samples > 1 ? "--s" + std::to_string(s) : "") + ".json";
        auto it = replayed.find(rkey);
        if (it == replayed.end()) {
          ShapePlan sp;
          bool have = false;
          if (fs::exists(file)) {  // a previous run's plan with the same inputs: reuse its bytes
            try {
              const json doc = json::parse(io::read_file(file));
              if (doc.value("key", "") == rkey) {
                sp.plan = doc.at("plan");
                if (!doc.at("relative_error").is_null()) sp.relative_error = doc["relative_error"].get<double>();
                if (!doc.at("retained_energy").is_null()) sp.retained_energy = doc["retained_energy"].get<double>();
                sp.kernel_s = doc.at("kernel_s").get<double>();
                have = true;
                ++cached;
              }
            } catch (const std::exception&) {
              have = false;  // unreadable cache: replay again
            }
          }
          if (!have) {
            if (options.progress)
              progress(tty, "[sweep] replay " + cfg.label + " " + shape.id + " (ratio " + io::format_number(shape.ratio) + ")",
                       false);
            try {
              sp = replay_shape(*src, kc, s, timer ? &*timer : nullptr);
            } catch (const std::exception& e) {
              throw std::runtime_error("replay of " + cfg.label + " (" + shape.id + "): " + e.what());
            }
            ++replays;
          }
          const std::string text = sp.plan.dump();
          const std::string hash = fnv_hex(text);
          auto ph = plan_by_hash.find(hash);
          if (ph == plan_by_hash.end()) {
            PlanEntry pe;
            pe.hash = hash;
            pe.plan = sim::parse_plan(sp.plan, file);
            ph = plan_by_hash.emplace(hash, plans.size()).first;
            plans.push_back(std::move(pe));
          }
          it = replayed.emplace(rkey, std::make_pair(ph->second, sp)).first;
        }
        const ShapePlan& sp = it->second.second;
        // Every (configuration, shape) has its plan file, so users can inspect or simulate it.
        const json doc = {{"key", rkey},
                          {"compressor", cfg.label},
                          {"shape", shape.id},
                          {"ratio", shape.ratio},
                          {"sample", s},
                          {"gradients", src->description()},
                          {"kernel_timing", timing_source},
                          {"kernel_s", sp.kernel_s},
                          {"relative_error", sp.relative_error ? json(*sp.relative_error) : json(nullptr)},
                          {"retained_energy", sp.retained_energy ? json(*sp.retained_energy) : json(nullptr)},
                          {"plan", sp.plan}};
        const std::string text = doc.dump(1) + "\n";
        if (!fs::exists(file) || io::read_file(file) != text) io::write_file_atomic(file, text);
        ids.push_back(it->second.first);
        if (shape.kind == "steady") {
          if (sp.relative_error) err.push_back(*sp.relative_error);
          if (sp.retained_energy) kept.push_back(*sp.retained_energy);
        }
      }
      prep.shape_plans.push_back(ids);
    }
    auto mean = [](const std::vector<double>& v) -> std::optional<double> {
      if (v.empty()) return std::nullopt;
      double s = 0;
      for (double x : v) s += x;
      return s / static_cast<double>(v.size());
    };
    prep.relative_error = mean(err);
    prep.retained_energy = mean(kept);
  }
  if (options.progress) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "[sweep] replay: %zu shape(s) replayed, %zu reused from %s/plans, %.1f s",
                  replays, cached, out.c_str(), std::chrono::duration<double>(Clock::now() - t_replay).count());
    progress(tty, buf, true);
  }

  // ---- Config and provenance: the same bytes on every run of the same inputs.
  std::optional<Target> eff_target = spec.target;
  if (!eff_target)
    for (const auto& log : trace.convergence)
      if (log.target_accuracy > 0) {
        eff_target = Target{"accuracy", log.target_accuracy};
        break;
      }
  json provenance = {{"arcsim_version", kVersion},
                     {"git_commit", kGitCommit},
                     {"spec_file", spec.file},
                     {"trace", spec.trace},
                     {"trace_name", trace.name},
                     {"trace_checksum", "sha256:" + trace_checksum},
                     {"compute_device", trace.compute->device},
                     {"network_profiles", spec.profiles},
                     {"kernel_timing", timing_source},
                     {"gradients", json(std::vector<std::string>(grad_notes.begin(), grad_notes.end()))},
                     {"buckets", buckets.size()},
                     {"target", eff_target ? json{{"metric", eff_target->metric}, {"value", eff_target->value}}
                                           : json(nullptr)},
                     {"simulator", "SimGrid (one forked process per simulation)"}};
  const json config = spec.to_json();

  // ---- Points and the simulations they need.
  const std::vector<Point> points = expand_points(spec);
  std::map<std::string, ResultRow> previous;
  for (auto& r : load_previous_rows(out))
    if (r.status == "ok") previous.emplace(r.key, std::move(r));

  std::vector<PointState> states(points.size());
  std::vector<ResultRow> rows(points.size());
  std::vector<Task> tasks;
  std::map<std::string, std::size_t> task_by_key;
  std::size_t reused = 0;
  for (const Point& p : points) {
    PointState& st = states[p.index];
    st.point = p;
    const ConfigPrep& prep = preps[p.compressor];
    json plan_hashes = json::array();
    for (const auto& ids : prep.shape_plans) {
      json h = json::array();
      for (auto id : ids) h.push_back(plans[id].hash);
      plan_hashes.push_back(h);
    }
    const json key_doc = {{"compressor", prep.cfg->to_json()},
                          {"nodes", p.net.nodes},
                          {"bandwidth_Bps", p.net.bandwidth_Bps},
                          {"latency_s", p.net.latency_s},
                          {"topology", spec.topologies[p.net.topology].spec},
                          {"profile", p.net.profile},
                          {"algorithm", spec.algorithm},
                          {"collectives", spec.collectives},
                          {"plans", plan_hashes},
                          {"trace", trace_checksum},
                          {"commit", kGitCommit}};
    st.key = fnv_hex(key_doc.dump());

    ResultRow& r = rows[p.index];
    r.point = p.index;
    r.key = st.key;
    r.compressor = prep.cfg->to_json();
    r.nodes = p.net.nodes;
    r.bandwidth_Bps = p.net.bandwidth_Bps;
    r.latency_s = p.net.latency_s;
    r.topology = spec.topologies[p.net.topology].name;
    r.profile = p.net.profile;
    r.algorithm = spec.algorithm;
    r.collectives = spec.collectives;
    r.kernel_timing = timing_source;
    r.relative_error = prep.relative_error;
    r.retained_energy = prep.retained_energy;

    if (auto it = previous.find(st.key); it != previous.end()) {
      r.shapes = it->second.shapes;
      r.steady = it->second.steady;
      r.status = "ok";
      fill_convergence(r, prep, spec.target);
      st.finished = true;
      ++reused;
      continue;
    }
    for (const auto& ids : prep.shape_plans) {
      std::vector<std::size_t> ts;
      for (auto id : ids) {
        const std::string tk = net_key(p.net) + "#" + plans[id].hash;
        auto it = task_by_key.find(tk);
        if (it == task_by_key.end()) {
          Task t;
          t.net = p.net;
          t.plan = id;
          it = task_by_key.emplace(tk, tasks.size()).first;
          tasks.push_back(std::move(t));
        }
        tasks[it->second].points.push_back(p.index);
        ts.push_back(it->second);
      }
      st.shape_tasks.push_back(ts);
    }
  }

  // ---- Simulate.
  std::size_t finished_points = reused, failed_points = 0, done_tasks = 0;
  RewriteLimiter rewrite;  // results files: at most once a second while points finish, always at the end
  auto write_now = [&]() {
    std::vector<ResultRow> snapshot = rows;
    compute_speedups(snapshot);
    write_results(out, config, provenance, snapshot);
  };
  if (reused > 0 && options.progress)
    say("[sweep] resuming: " + std::to_string(reused) + " of " + std::to_string(points.size()) +
        " points already in " + out + "/results.json");
  write_now();

  auto finish_point = [&](std::size_t pi) {
    PointState& st = states[pi];
    ResultRow& r = rows[pi];
    const ConfigPrep& prep = preps[st.point.compressor];
    std::string error;
    for (std::size_t s = 0; s < st.shape_tasks.size() && error.empty(); ++s)
      for (auto ti : st.shape_tasks[s])
        if (!tasks[ti].result) {
          error = prep.schedule.shapes[s].id + " iteration: " + tasks[ti].error;
          break;
        }
    if (!error.empty()) {
      r.status = "failed";
      r.error = error;
      ++failed_points;
    } else {
      r.status = "ok";
      r.shapes.clear();
      for (std::size_t s = 0; s < st.shape_tasks.size(); ++s) {
        std::vector<IterationTimes> v;
        for (auto ti : st.shape_tasks[s]) v.push_back(*tasks[ti].result);
        const Shape& sh = prep.schedule.shapes[s];
        ShapeResult sr;
        sr.id = sh.id;
        sr.kind = sh.kind;
        sr.ratio = sh.ratio;
        for (const auto& seg : prep.schedule.segments)
          if (seg.shape == s) {
            sr.first_step = seg.first;
            sr.last_step = seg.last;
          }
        sr.times = mean_times(v);
        r.shapes.push_back(sr);
        if (sh.kind == "steady") r.steady = sr.times;
      }
    }
    fill_convergence(r, prep, spec.target);
    st.finished = true;
    ++finished_points;
    if (rewrite.due()) write_now();
    if (options.progress) {
      const auto& n = st.point.net;
      char buf[400];
      std::snprintf(buf, sizeof buf, "[sweep] %zu/%zu points (%zu/%zu simulations, %zu failed, %.0f s)  %s N=%d %s %s: %s",
                    finished_points, points.size(), done_tasks, tasks.size(), failed_points,
                    std::chrono::duration<double>(Clock::now() - t_start).count(), prep.cfg->label.c_str(), n.nodes,
                    human_bw(n.bandwidth_Bps).c_str(), spec.topologies[n.topology].name.c_str(),
                    r.status == "ok" ? (io::format_number(std::round(r.steady.total_s * 1e7) / 1e4) + " ms/iteration").c_str()
                                     : ("FAILED: " + r.error).c_str());
      progress(tty, buf, finished_points == points.size());
    }
  };

  const SimulateFn simulate = options.simulate ? options.simulate : SimulateFn(simulate_with_simgrid);
  std::vector<ForkTask> fork_tasks;
  for (std::size_t ti = 0; ti < tasks.size(); ++ti) {
    const Task& t = tasks[ti];
    ForkTask ft;
    ft.id = net_key(t.net) + "#" + plans[t.plan].hash;
    ft.timeout_s = spec.point_timeout_s;
    ft.work = [&, ti]() {
      const Task& task = tasks[ti];
      sim::NetworkConfig net;
      net.topology = topo_arg[task.net.topology];
      net.nodes = task.net.nodes;
      net.bandwidth_Bps = task.net.bandwidth_Bps;
      net.latency_s = task.net.latency_s;
      net.profile = task.net.profile;
      net.algorithm = spec.algorithm;
      sim::IterationOptions io;
      if (spec.collectives == "blocking") io.blocking = true;
      if (spec.collectives == "async") io.blocking = false;
      return to_json(simulate(net, plans[task.plan].plan, compute, io)).dump();
    };
    fork_tasks.push_back(std::move(ft));
  }
  ForkOptions fo;
  fo.jobs = options.jobs > 0 ? options.jobs : default_jobs();
  run_forked(fork_tasks, fo, [&](const ForkOutcome& o) {
    Task& t = tasks[o.task];
    t.done = true;
    ++done_tasks;
    if (o.ok) {
      try {
        t.result = iteration_times_from_json(json::parse(o.output));
      } catch (const std::exception& e) {
        t.error = std::string("unreadable result from the simulation: ") + e.what();
      }
    } else {
      t.error = o.error;
    }
    for (std::size_t pi : t.points) {
      PointState& st = states[pi];
      if (st.finished) continue;
      bool all = true;
      for (const auto& ts : st.shape_tasks)
        for (auto ti : ts) all = all && tasks[ti].done;
      if (all) finish_point(pi);
    }
  });
  write_now();

  SweepSummary sum;
  sum.points = points.size();
  sum.failed = failed_points;
  sum.ok = points.size() - failed_points;
  sum.reused = reused;
  sum.simulations = tasks.size();
  sum.rows = rows;
  compute_speedups(sum.rows);
  std::string notes;
  for (const auto& g : grad_notes) notes += (notes.empty() ? "" : "; ") + g;
  sum.replay_note = notes;
  return sum;
}

}  // namespace arcsim::experiments
