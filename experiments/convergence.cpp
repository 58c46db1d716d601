#include "convergence.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/format.hpp"
#include "experiments/stats.hpp"

namespace arcsim::experiments {

using nlohmann::json;

namespace {

std::string log_name(const json& c) {
  if (c.contains("compressor") && c["compressor"].is_string()) return c["compressor"].get<std::string>();
  return c.value("name", "");
}

// A stated option that differs; unstated ones pass.
template <class T>
bool differs(const json& c, const char* key, const T& mine) {
  if (!c.contains(key) || c[key].is_null()) return false;
  try {
    return c[key].get<T>() != mine;
  } catch (const json::exception&) {
    return true;
  }
}

bool matches(const json& c, const CompressorConfig& cfg) {
  if (log_name(c) != cfg.name) return false;
  if (cfg.name == "dense") return true;
  if (!c.contains("ratio") || !c["ratio"].is_number()) return false;
  if (std::fabs(c["ratio"].get<double>() - cfg.ratio) > 1e-9 * std::max(1.0, cfg.ratio)) return false;
  if (differs(c, "ef", cfg.ef)) return false;
  if (differs<std::int64_t>(c, "warmup", cfg.warmup)) return false;
  if ((cfg.name == "topk" || cfg.name == "randk") && differs(c, "ramp", cfg.ramp)) return false;
  if (cfg.name == "randk" && differs(c, "unbiased", cfg.rescale)) return false;
  if (cfg.name == "arctopk") {
    if (differs<int>(c, "rank", cfg.rank)) return false;
    if (differs(c, "row_scores", cfg.row_scores)) return false;
    if (differs(c, "shape_rule", cfg.shape_rule)) return false;
  }
  return true;
}

std::string describe(const json& c) {
  std::string s = log_name(c);
  if (s == "dense") return s;
  if (c.contains("ratio") && c["ratio"].is_number()) s += ", ratio " + io::format_number(c["ratio"].get<double>());
  if (c.contains("ef")) s += ", " + c["ef"].dump();
  if (c.contains("warmup")) s += ", warmup " + c["warmup"].dump();
  if (c.contains("ramp") && c["ramp"].is_boolean()) s += std::string(", ramp ") + (c["ramp"].get<bool>() ? "on" : "off");
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
};

// Every seed's crossing at one recorded N, by seed.
std::map<std::int64_t, SeedResult> crossings_at(const std::vector<const traces::ConvergenceLog*>& logs, int world,
                                                const Target& target) {
  std::map<std::int64_t, SeedResult> out;
  for (const auto* log : logs) {
    if (log->world != world || log->points.empty() || out.count(log->seed)) continue;
    out[log->seed] = {log, crossing_step(log_points(*log, target), target)};
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
      if (r.steps) e.reached.push_back({seed, *r.steps});
      else {
        e.unreached.push_back(seed);
        missed.push_back(best_note(*r.log, target));
      }
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
      if (ra->steps && rb->steps) {
        const double s = std::exp(std::log(*ra->steps) + f * (std::log(*rb->steps) - std::log(*ra->steps)));
        e.reached.push_back({pair_seed[i], s});
      } else {
        e.unreached.push_back(pair_seed[i]);
        missed.push_back(best_note(*(ra->steps ? rb : ra)->log, target));
      }
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

std::string no_match_note(const traces::Trace& trace, const CompressorConfig& c) {
  json mine = {{"compressor", c.name}, {"ratio", c.ratio}, {"ef", c.ef}, {"warmup", c.warmup}};
  if (c.name == "topk" || c.name == "randk") mine["ramp"] = c.ramp;
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

std::string mismatch_warning(const traces::Trace& trace, const CompressorConfig& c) {
  if (!matching_logs(trace, c).empty()) return "";
  json mine = {{"compressor", c.name}, {"ratio", c.ratio}, {"ef", c.ef}, {"warmup", c.warmup}};
  if (c.name == "topk" || c.name == "randk") mine["ramp"] = c.ramp;
  if (c.name == "randk") mine["unbiased"] = c.rescale;
  if (c.name == "arctopk") {
    mine["rank"] = c.rank;
    mine["row_scores"] = c.row_scores;
    mine["shape_rule"] = c.shape_rule;
  }
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
    for (auto it = mine.begin(); it != mine.end(); ++it) {
      if (it.key() == "compressor" || !log.compressor.contains(it.key()) || log.compressor[it.key()].is_null()) continue;
      const json& theirs = log.compressor[it.key()];
      const bool same = theirs.is_number() && it.value().is_number()
                            ? std::fabs(theirs.get<double>() - it.value().get<double>()) <= 1e-9
                            : theirs == it.value();
      if (!same)
        diff.push_back(it.key() + ": the trace's " + c.name + " logs were recorded with " + it.key() + " " +
                       value_text(theirs) + " (the spec has " + value_text(it.value()) + ")");
    }
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

void fill_row_convergence(ResultRow& r, const std::vector<const traces::ConvergenceLog*>& logs,
                          const std::string& no_log_note, const std::optional<Target>& spec_target) {
  r.steps_to_target.reset();
  r.steps_to_target_sd.reset();
  r.seeds = 0;
  r.convergence_nodes.reset();
  r.convergence_config.clear();
  r.convergence_estimate.clear();
  r.tta_s.reset();
  r.tta_s_lo.reset();
  r.tta_s_hi.reset();
  r.tta_note.clear();
  r.seed_tta.clear();
  r.curve.clear();
  r.seed_curves.clear();
  if (r.status != "ok") {
    r.tta_note = "point failed";
    return;
  }
  const traces::ConvergenceLog* near = nearest_log(logs, r.nodes);
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
  const std::optional<StepsEstimate> est = estimate_steps(logs, r.nodes, target);
  if (!est) {
    r.tta_note = no_log_note;
    return;
  }
  r.convergence_nodes = est->convergence_nodes;
  r.convergence_config = near->config;
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

  std::vector<std::string> notes;
  if (!est->note.empty()) notes.push_back(est->note);
  if (est->reached.empty()) {
    r.tta_note = est->unreached_note;
    if (!est->note.empty()) r.tta_note += " (" + est->note + ")";
    return;
  }
  std::vector<double> steps, tta;
  for (const auto& s : est->reached) {
    const double t = time_for_fractional_steps(sched, step_s, s.steps);
    r.seed_tta.push_back({s.seed, s.steps, t});
    steps.push_back(s.steps);
    tta.push_back(t);
  }
  const Summary ss = summarize(steps), ts = summarize(tta);
  r.seeds = ss.n;
  r.steps_to_target = ss.mean;
  r.steps_to_target_sd = ss.sd;
  r.tta_s = ts.mean;
  if (ts.ci95) {
    r.tta_s_lo = ts.ci95->lo;
    r.tta_s_hi = ts.ci95->hi;
  }
  r.convergence_estimate = est->how;
  if (!est->unreached.empty())
    notes.push_back(std::to_string(est->reached.size()) + " of " +
                    std::to_string(est->reached.size() + est->unreached.size()) +
                    " seeds reached the target, TTA is their mean; " + est->unreached_note);
  if (ss.n == 1) notes.push_back("1 seed: no interval");
  for (std::size_t i = 0; i < notes.size(); ++i) r.tta_note += (i ? "; " : "") + notes[i];
}

}  // namespace arcsim::experiments
