#pragma once
// Sweep stage 2, the plan cache: the trace replayed through the real kernels once per compressor
// configuration and iteration shape (dense warm-up, ramp levels, steady state with its samples),
// the kernels re-timed with the spec's kernel-timing source. Each (configuration, shape, sample)
// has its file DIR/plans/<label>--<shape>[--s<k>].json holding its cache key (trace checksum,
// kernel config, sample, gradient source, bucket caps, timing source, arcsim commit), kernel time,
// compression quality and plan; a file whose key matches is reused instead of replayed.
//
// Identical plans (e.g. every configuration's dense warm-up) are kept once, by content hash, so
// the task planning simulates them once per network point.
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "experiments/bits.hpp"
#include "experiments/progress.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/tta.hpp"
#include "sim/plan.hpp"

namespace arcsim::experiments {

// One distinct replayed plan.
struct PlanEntry {
  std::string hash;   // FNV of the plan's JSON text
  sim::Plan plan;
  std::size_t ops = 0;  // kernel and collective ops of one iteration (the simulation's size)
  PlanTraffic traffic;  // its collectives' bytes per rank, for the bit counts (bits.hpp)
};

// Everything about one compressor configuration that does not depend on the network point.
struct ConfigPlans {
  const CompressorConfig* cfg = nullptr;
  StepSchedule schedule;
  std::vector<std::vector<std::size_t>> shape_plans;       // per shape, per sample: PlanSet::plans index
  std::vector<std::vector<PlanTraffic>> shape_traffic;     // the same plans' traffic (rows hold no PlanSet)
  double elements = 0;                                     // gradient elements of one iteration (D)
  std::optional<double> relative_error, retained_energy;  // steady shape, mean over samples
  std::vector<const traces::ConvergenceLog*> logs;         // into SweepInputs::trace
  std::string no_log_note;                                 // why logs is empty
};

struct PlanSet {
  std::vector<PlanEntry> plans;
  std::vector<ConfigPlans> configs;         // one per spec compressor, spec order
  std::set<std::string> gradient_notes;     // where the replayed gradients came from
  std::size_t replayed = 0, reused = 0;     // shapes replayed now / read from the cache
};

struct PlanCacheOptions {
  std::string dir;              // the plans/ directory (created)
  bool replay_missing = true;   // false: a plan missing from dir is an error (shards, merge)
  const Progress* progress = nullptr;
};

// The plans of every configuration. Replay failures throw "replay of <label> (<shape>): ...";
// with replay_missing = false a missing or stale plan throws a ConfigError that says to prepare.
// The returned set points into `in` and `spec`: both must outlive it.
PlanSet build_plan_cache(const ExperimentSpec& spec, const SweepInputs& in, const PlanCacheOptions& options);

}  // namespace arcsim::experiments
