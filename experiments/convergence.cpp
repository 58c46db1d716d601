#include "convergence.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/format.hpp"
#include "experiments/stats.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"

namespace arcsim::experiments {

using nlohmann::json;

json stated_option(const json& log_compressor, const kernels::OptionSpec& o) {
  if (log_compressor.contains(o.name)) return log_compressor[o.name];
  for (const auto& a : o.aliases)
    if (log_compressor.contains(a)) return log_compressor[a];
  return nullptr;
}

namespace {

std::string log_name(const json& c) {
  if (c.contains("compressor") && c["compressor"].is_string()) return c["compressor"].get<std::string>();
  return c.value("name", "");
}

bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number())
    return std::fabs(a.get<double>() - b.get<double>()) <= 1e-9 * std::max(1.0, std::fabs(b.get<double>()));
  return a == b;
}

// Every option of the configuration's compressor that changes training (the option table's
// changes_training), with the configuration's value: its identity against the logs.
json identity_options(const CompressorConfig& cfg) {
  json mine = json::object();
  if (cfg.name == "dense") return mine;
  const kernels::CompressorEntry& e = kernels::compressor_entry(cfg.name);
  for (const auto& o : kernels::option_table())
    if (o.changes_training && e.takes(o.name)) mine[o.name] = kernels::get_option(cfg.options, o.name);
  return mine;
}

// The identity options a log states with another value, as (option, the log's value); options a
// log does not state are not compared (logs of older recorders state only some). A log that does
// not state its ratio cannot stand for a compressing configuration.
std::vector<std::pair<std::string, json>> differing_options(const json& log, const CompressorConfig& cfg) {
  std::vector<std::pair<std::string, json>> out;
  const json mine = identity_options(cfg);
  for (const auto& o : kernels::option_table()) {
    if (!mine.contains(o.name)) continue;
    const json theirs = stated_option(log, o);
    if (o.name == "ratio" && !theirs.is_number()) out.push_back({o.name, theirs});
    else if (!theirs.is_null() && !same_value(theirs, mine[o.name])) out.push_back({o.name, theirs});
  }
  return out;
}

bool matches(const json& c, const CompressorConfig& cfg) {
  return log_name(c) == cfg.name && differing_options(c, cfg).empty();
}

std::string describe(const json& c) {
  std::string s = log_name(c);
  if (s == "dense") return s;
  if (c.contains("ratio") && c["ratio"].is_number()) s += ", ratio " + io::format_number(c["ratio"].get<double>());
  if (c.contains("ef")) s += ", " + c["ef"].dump();
  if (c.contains("warmup")) s += ", warmup " + c["warmup"].dump();
  if (c.contains("ramp") && c["ramp"].is_boolean()) s += std::string(", ramp ") + (c["ramp"].get<bool>() ? "on" : "off");
  if (c.contains("rank")) s += ", rank " + c["rank"].dump();
  if (s.find('"') != std::string::npos) {
    std::string t;
    for (char ch : s)
      if (ch != '"') t += ch;
    s = t;
  }
  return s;
}

}  // namespace

std::vector<const traces::ConvergenceLog*> matching_logs(const traces::Trace& trace, const CompressorConfig& c) {
  std::vector<const traces::ConvergenceLog*> out;
  if (c.convergence == kNoConvergence) return out;
  for (const auto& log : trace.convergence) {
    const bool ok = c.convergence.empty() ? matches(log.compressor, c) : log.config == c.convergence;
    if (ok) out.push_back(&log);
  }
  return out;
}

const traces::ConvergenceLog* nearest_log(const std::vector<const traces::ConvergenceLog*>& logs, int nodes) {
  const traces::ConvergenceLog* best = nullptr;
  double best_d = 0;
  for (const auto* log : logs) {
    if (log->world <= 0 || log->points.empty()) continue;
    const double d = std::fabs(std::log2(static_cast<double>(log->world) / nodes));
    if (!best || d < best_d - 1e-12 || (std::fabs(d - best_d) <= 1e-12 && log->world > best->world)) {
      best = log;
      best_d = d;
    }
  }
  return best;
}

std::vector<LogPoint> log_points(const traces::ConvergenceLog& log, const Target& target) {
  std::vector<LogPoint> out;
  for (const auto& p : log.points) out.push_back({p.step, p.metric(target.metric)});
  return out;
}

Target log_target(const traces::ConvergenceLog& log) {
  const traces::CurveTarget t = log.effective_target();
  Target out;
  out.metric = t.metric;
  out.value = t.value;
  out.mode = t.mode;
  return out;
}

namespace {

struct SeedResult {
  const traces::ConvergenceLog* log = nullptr;
  std::optional<double> steps;
  double last_step = 0;  // the last step the run logged a value at: a miss's lower bound
};

double last_logged_step(const std::vector<LogPoint>& pts) {
  for (auto it = pts.rbegin(); it != pts.rend(); ++it)
    if (!std::isnan(it->value)) return static_cast<double>(it->step);
  return pts.empty() ? 0 : static_cast<double>(pts.back().step);
}

// Every seed's crossing at one recorded N, by seed.
std::map<std::int64_t, SeedResult> crossings_at(const std::vector<const traces::ConvergenceLog*>& logs, int world,
                                                const Target& target) {
  std::map<std::int64_t, SeedResult> out;
  for (const auto* log : logs) {
    if (log->world != world || log->points.empty() || out.count(log->seed)) continue;
    const std::vector<LogPoint> pts = log_points(*log, target);
    out[log->seed] = {log, crossing_step(pts, target), last_logged_step(pts)};
  }
  return out;
}

std::string best_note(const traces::ConvergenceLog& log, const Target& target) {
  const std::vector<LogPoint> pts = log_points(log, target);
  std::optional<double> best;
  for (const auto& p : pts) {
    if (std::isnan(p.value)) continue;
    if (!best || (target.maximize() ? p.value > *best : p.value < *best)) best = p.value;
  }
  return log.config + " N=" + std::to_string(log.world) + " seed " + std::to_string(log.seed) + " (best " +
         (best ? io::format_number(*best) : std::string("none")) + " by step " +
         std::to_string(pts.empty() ? 0 : pts.back().step) + ")";
}

}  // namespace

std::optional<StepsEstimate> estimate_steps(const std::vector<const traces::ConvergenceLog*>& logs, int nodes,
                                            const Target& target) {
  std::set<int> worlds;
  for (const auto* log : logs)
    if (log->world > 0 && !log->points.empty()) worlds.insert(log->world);
  if (worlds.empty()) return std::nullopt;
  StepsEstimate e;
  const traces::ConvergenceLog* nearest = nearest_log(logs, nodes);
  e.convergence_nodes = nearest->world;
  for (const auto& [seed, r] : crossings_at(logs, e.convergence_nodes, target)) e.curve_logs.push_back(r.log);
  std::vector<std::string> missed;

  auto lo_it = worlds.upper_bound(nodes);  // first recorded N > nodes
  const bool exact = worlds.count(nodes) > 0;
  const bool between = !exact && lo_it != worlds.begin() && lo_it != worlds.end();
  if (!between) {
    const int w = exact ? nodes : e.convergence_nodes;
    e.nodes_lo = e.nodes_hi = w;
    for (const auto& [seed, r] : crossings_at(logs, w, target)) {
      e.seeds.push_back({seed, r.steps ? *r.steps : r.last_step, r.steps.has_value()});
      if (!r.steps) missed.push_back(best_note(*r.log, target));
    }
    if (!exact) {
      e.how = "extrapolated";
      e.note = "extrapolated: steps to target of N=" + std::to_string(w) +
               " held constant (outside the recorded N " + std::to_string(*worlds.begin()) + ".." +
               std::to_string(*worlds.rbegin()) + ")";
    }
  } else {
    const int hi = *lo_it, lo = *std::prev(lo_it);
    e.nodes_lo = lo;
    e.nodes_hi = hi;
    e.how = "interpolated";
    const auto a = crossings_at(logs, lo, target), b = crossings_at(logs, hi, target);
    std::vector<std::pair<const SeedResult*, const SeedResult*>> pairs;
    std::vector<std::int64_t> pair_seed;
    bool by_order = true;
    for (const auto& [seed, r] : a)
      if (b.count(seed)) by_order = false;
    if (!by_order) {
      for (const auto& [seed, r] : a)
        if (auto it = b.find(seed); it != b.end()) {
          pairs.push_back({&r, &it->second});
          pair_seed.push_back(seed);
        }
    } else {
      auto ia = a.begin();
      auto ib = b.begin();
      for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
        pairs.push_back({&ia->second, &ib->second});
        pair_seed.push_back(ia->first);
      }
    }
    const double f = std::log(static_cast<double>(nodes) / lo) / std::log(static_cast<double>(hi) / lo);
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& [ra, rb] = pairs[i];
      // A miss at either end: both ends as lower bounds, so the interpolation is one too.
      const bool both = ra->steps && rb->steps;
      const double sa = std::max(ra->steps.value_or(ra->last_step), 1.0);
      const double sb = std::max(rb->steps.value_or(rb->last_step), 1.0);
      e.seeds.push_back({pair_seed[i], std::exp(std::log(sa) + f * (std::log(sb) - std::log(sa))), both});
      if (!ra->steps) missed.push_back(best_note(*ra->log, target));
      if (!rb->steps) missed.push_back(best_note(*rb->log, target));
    }
    e.note = "interpolated log-log between N=" + std::to_string(lo) + " and N=" + std::to_string(hi) +
             (by_order ? " (seeds paired in sorted order)" : "");
  }
  if (!missed.empty()) {
    e.unreached_note = "target " + target.metric + " " + io::format_number(target.value) + " not reached in ";
    for (std::size_t i = 0; i < missed.size(); ++i) e.unreached_note += (i ? "; " : "") + missed[i];
  }
  return e;
}

int StepsEstimate::reached() const {
  int n = 0;
  for (const auto& s : seeds) n += s.reached ? 1 : 0;
  return n;
}

std::string no_match_note(const traces::Trace& trace, const CompressorConfig& c) {
  if (c.convergence == kNoConvergence) return "no TTA asked for (\"convergence\": \"none\")";
  json mine = identity_options(c);
  mine["compressor"] = c.name;
  std::string note = "no convergence log for " + c.label + " (" +
                     (c.convergence.empty() ? describe(mine) : "config id " + c.convergence) + ") in the trace";
  std::vector<std::string> seen;
  for (const auto& log : trace.convergence) {
    const std::string d = log.config + " (" + describe(log.compressor) + ")";
    if (std::find(seen.begin(), seen.end(), d) == seen.end()) seen.push_back(d);
  }
  if (seen.empty()) return note + ", which has no convergence logs";
  note += "; it has:";
  for (std::size_t i = 0; i < seen.size(); ++i) note += (i ? "; " : " ") + seen[i];
  return note;
}

}  // namespace arcsim::experiments

namespace arcsim::experiments {

namespace {

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return io::format_number(v.get<double>());
  return v.dump();
}

}  // namespace

bool has_logs_of(const traces::Trace& trace, const std::string& compressor) {
  return std::any_of(trace.convergence.begin(), trace.convergence.end(),
                     [&](const traces::ConvergenceLog& l) { return log_name(l.compressor) == compressor; });
}

std::string mismatch_warning(const traces::Trace& trace, const CompressorConfig& c) {
  if (c.convergence == kNoConvergence || !matching_logs(trace, c).empty()) return "";
  json mine = identity_options(c);
  mine["compressor"] = c.name;
  const std::string head = c.label + " (" + (c.convergence.empty() ? describe(mine) : "convergence " + c.convergence) +
                           ") matches no convergence log";
  if (!c.convergence.empty()) {
    std::string ids;
    std::set<std::string> seen;
    for (const auto& log : trace.convergence)
      if (seen.insert(log.config).second) ids += (ids.empty() ? "" : ", ") + log.config;
    return head + "; the trace's config ids are: " + (ids.empty() ? "(none)" : ids);
  }
  // The closest log: same compressor, fewest stated options that differ.
  const traces::ConvergenceLog* best = nullptr;
  std::vector<std::string> best_diff;
  for (const auto& log : trace.convergence) {
    if (log_name(log.compressor) != c.name) continue;
    std::vector<std::string> diff;
    for (const auto& [name, theirs] : differing_options(log.compressor, c))
      diff.push_back(name + ": the trace's " + c.name + " logs were recorded with " + name + " " +
                     (theirs.is_null() ? std::string("unstated") : value_text(theirs)) + " (the spec has " +
                     value_text(mine[name]) + ")");
    if (!best || diff.size() < best_diff.size()) {
      best = &log;
      best_diff = diff;
    }
  }
  if (!best) return head + "; the trace has no " + c.name + " logs (" + no_match_note(trace, c) + ")";
  std::string out = head + "; closest is " + best->config + ": ";
  for (std::size_t i = 0; i < best_diff.size(); ++i) out += (i ? "; " : "") + best_diff[i];
  return out;
}

}  // namespace arcsim::experiments

namespace arcsim::experiments {

namespace {

// Wall-clock of `steps` (fractional) spent in the shapes that are not the steady state.
double warmup_ramp_time(const StepSchedule& sched, const std::vector<double>& step_s, double steps) {
  std::vector<double> only = step_s;
  for (std::size_t i = 0; i < sched.shapes.size(); ++i)
    if (sched.shapes[i].kind == "steady") only[i] = 0;
  return time_for_fractional_steps(sched, only, steps);
}

// ok | partial | none | extrapolated: the worst thing a reader must know first.
std::string tta_status_of(const StepsEstimate& e) {
  const int reached = e.reached(), n = static_cast<int>(e.seeds.size());
  if (reached == 0) return "none";
  if (reached < n) return "partial";
  if (e.how == "extrapolated") return "extrapolated";
  return "ok";
}

}  // namespace

void fill_row_convergence(ResultRow& r, const std::vector<const traces::ConvergenceLog*>& logs,
                          const std::string& no_log_note, const std::optional<Target>& spec_target) {
  r.steps_to_target.reset();
  r.steps_to_target_sd.reset();
  r.seeds = r.seeds_reached = 0;
  r.convergence_nodes.reset();
  r.convergence_config.clear();
  r.convergence_estimate.clear();
  r.tta_status.clear();
  r.tta_s.reset();
  r.tta_s_lo.reset();
  r.tta_s_hi.reset();
  r.warmup_ramp_s.reset();
  r.tta_note.clear();
  r.seed_tta.clear();
  r.curve.clear();
  r.seed_curves.clear();
  if (r.status != "ok") {
    r.tta_note = "point failed";
    return;
  }
  const int ranks = row_ranks(r);
  const traces::ConvergenceLog* near = nearest_log(logs, ranks);
  if (!near) {
    r.tta_note = no_log_note;
    return;
  }
  Target target;
  if (spec_target) {
    target = *spec_target;
  } else {
    target = log_target(*near);
    if (target.metric == "accuracy" && !(target.value > 0)) {
      r.tta_note = "no target: the experiment sets none and the trace's log " + near->config + " has none";
      return;
    }
  }
  const std::optional<StepsEstimate> est = estimate_steps(logs, ranks, target);
  if (!est || est->seeds.empty()) {
    r.tta_note = no_log_note;
    return;
  }
  r.convergence_nodes = est->convergence_nodes;
  r.convergence_config = near->config;
  r.convergence_estimate = est->how;
  StepSchedule sched;
  std::vector<double> step_s;
  for (const auto& s : r.shapes) {
    sched.shapes.push_back({s.id, s.kind, s.ratio});
    sched.segments.push_back({s.first_step, s.last_step, sched.shapes.size() - 1});
    step_s.push_back(s.times.total_s);
  }
  for (const auto* log : est->curve_logs) {
    SeedCurve c;
    c.seed = log->seed;
    for (const auto& p : log->points) {
      c.points.push_back({p.step, time_for_steps(sched, step_s, p.step), p.accuracy, p.loss});
      c.metric.push_back(p.metric(target.metric));
    }
    r.seed_curves.push_back(std::move(c));
  }
  if (!r.seed_curves.empty()) r.curve = r.seed_curves.front().points;

  // Every seed, a miss censored at its run's last logged step (its TTA is at least that long).
  std::vector<TimeSample> times, steps;
  std::vector<double> reached_steps;
  // A crossing before the first step (the target met at initialisation) counts as one step: the
  // log-normal model needs positive times, and no run reaches a target in less than one step.
  bool zero_time = false;
  for (const auto& s : est->seeds) {
    const double n = std::max(s.steps, 1.0);
    const double t = time_for_fractional_steps(sched, step_s, n);
    zero_time = zero_time || !(t > 0);
    r.seed_tta.push_back({s.seed, n, t, 0, 0, s.reached});
    times.push_back({t, s.reached});
    steps.push_back({n, s.reached});
    if (s.reached) reached_steps.push_back(s.steps);
  }
  r.seeds = static_cast<int>(est->seeds.size());
  r.seeds_reached = est->reached();
  r.tta_status = tta_status_of(*est);

  std::vector<std::string> notes;
  if (!est->note.empty()) notes.push_back(est->note);
  const std::string counted = std::to_string(r.seeds_reached) + " of " + std::to_string(r.seeds) + " seeds";
  // An estimate needs two seeds that reached the target (or the only seed there is): one reached
  // seed among misses says nothing about the centre that the model would not make up.
  const bool enough = r.seeds_reached >= 2 || (r.seeds == 1 && r.seeds_reached == 1);
  if (zero_time) {
    notes.insert(notes.begin(), "the simulated steps take no time: no TTA");
  } else if (r.seeds_reached == 0) {
    notes.insert(notes.begin(), "no seed reached the target; " + est->unreached_note);
  } else if (!enough) {
    notes.insert(notes.begin(), "too few seeds reached the target to estimate TTA (" + counted + "); " +
                                    est->unreached_note);
  } else {
    const TimeEstimate tt = *lognormal_time(times);
    const TimeEstimate st = *lognormal_time(steps);
    r.tta_s = tt.center;
    if (tt.ci95) {
      r.tta_s_lo = tt.ci95->lo;
      r.tta_s_hi = tt.ci95->hi;
    }
    r.steps_to_target = st.center;
    r.steps_to_target_sd = sample_sd(reached_steps);
    // The warm-up/ramp part of the central run: its share of that run's time, times tta_s.
    const double total = time_for_fractional_steps(sched, step_s, st.center);
    if (total > 0) r.warmup_ramp_s = tt.center * warmup_ramp_time(sched, step_s, st.center) / total;
    if (r.seeds_reached < r.seeds)
      notes.push_back(counted + " reached the target; the others are censored at their step budget "
                      "(log-normal maximum likelihood); " + est->unreached_note);
    if (r.seeds == 1) notes.push_back("1 seed: no interval");
  }
  for (std::size_t i = 0; i < notes.size(); ++i) r.tta_note += (i ? "; " : "") + notes[i];
}

}  // namespace arcsim::experiments
