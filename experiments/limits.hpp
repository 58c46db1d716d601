#pragma once
// Limits of a sweep, checked before any work starts (docs/limits.md):
//   - the number of points (the product of the spec's lists) is at most kMaxSweepPoints unless
//     the user says --force;
//   - a results directory that holds another experiment's results is not silently replaced:
//     the sweep refuses unless --replace;
//   - results files are rewritten at most once per kMinRewriteSeconds while points finish (and
//     always once at the end), so a sweep of many fast points does not spend its time rewriting
//     ever larger files.
#include <chrono>
#include <cstdint>
#include <string>

#include "experiments/spec.hpp"

namespace arcsim::experiments {

// 10,000 points: each needs at least one forked SimGrid simulation (0.05 s for a small star to
// minutes at 1024 ranks) and a row of about 2 KB in results.json; 10,000 rows keep results.json
// near 20 MB and the sweep within hours on a workstation. Larger products are almost always a
// list typed too long.
inline constexpr std::uint64_t kMaxSweepPoints = 10'000;
inline constexpr double kMinRewriteSeconds = 1.0;

// The product of the spec's lists, saturating at UINT64_MAX (never wraps).
std::uint64_t sweep_points(const ExperimentSpec& spec);

// Throws json::ConfigError (one line) when the sweep may not start: too many points without
// `force`, or `out_dir` holds results.json of an experiment with another name without `replace`.
void check_sweep_start(const ExperimentSpec& spec, const std::string& out_dir, bool force, bool replace);

// due(): true when the results files should be rewritten now (the first call, then at most once
// per `interval_s`, by default kMinRewriteSeconds; 0 rewrites after every point).
class RewriteLimiter {
 public:
  explicit RewriteLimiter(double interval_s = kMinRewriteSeconds) : interval_s_(interval_s) {}
  bool due();

 private:
  double interval_s_;
  bool first_ = true;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace arcsim::experiments
