#include "experiments/limits.hpp"

#include <filesystem>

#include "common/json_fields.hpp"

namespace arcsim::experiments {

std::uint64_t sweep_points(const ExperimentSpec& s) {
  std::uint64_t n = 1;
  for (const std::size_t k : {s.compressors.size(), s.nodes.size(), s.bandwidths_Bps.size(), s.latencies_s.size(),
                              s.topologies.size(), s.profiles.size()})
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(k), &n)) return UINT64_MAX;
  return n;
}

void check_sweep_start(const ExperimentSpec& spec, const std::string& out_dir, bool force, bool replace) {
  const std::uint64_t points = sweep_points(spec);
  if (points > kMaxSweepPoints && !force)
    throw json::ConfigError(spec.file + ": the sweep has " + std::to_string(points) +
                            " points (compressors x nodes x bandwidths x latencies x topologies x profiles): "
                            "expected at most " + std::to_string(kMaxSweepPoints) +
                            " (docs/limits.md); shorten a list, or pass --force to run it anyway");
  const std::string results = out_dir + "/results.json";
  if (replace || !std::filesystem::exists(results)) return;
  const auto doc = json::load_file(results);
  std::string there;
  bool found = false;
  for (const char* key : {"experiment", "config"})  // the resolved spec, as results.json carries it
    if (doc.is_object() && doc.contains(key) && doc[key].is_object() && doc[key].contains("name") &&
        doc[key]["name"].is_string()) {
      there = doc[key]["name"].get<std::string>();
      found = true;
      break;
    }
  if (!found)
    throw json::ConfigError(results + ": experiment.name: expected the results of an arcsim sweep (pass --replace "
                            "to overwrite this directory, or choose another --out)");
  if (there != spec.name)
    throw json::ConfigError(out_dir + ": holds the results of experiment \"" + there + "\", not \"" + spec.name +
                            "\": expected an empty directory or one of the same experiment (pass --replace to "
                            "overwrite it, or choose another --out)");
}

bool RewriteLimiter::due() {
  const auto now = std::chrono::steady_clock::now();
  if (!first_ && std::chrono::duration<double>(now - last_).count() < interval_s_) return false;
  first_ = false;
  last_ = now;
  return true;
}

}  // namespace arcsim::experiments
