#include "convergence.hpp"

#include <algorithm>
#include <cmath>

#include "common/format.hpp"

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
  for (const auto& p : log.points) out.push_back({p.step, target.metric == "loss" ? p.loss : p.accuracy});
  return out;
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
