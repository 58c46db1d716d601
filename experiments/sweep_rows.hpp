#pragma once
// Sweep stage 5, row assembly: a point's row from its simulations (per shape, the mean over the
// steady state's gradient samples) or from an earlier run's row with the same key, then its
// convergence columns (steps to target, time to accuracy, accuracy-vs-time curve). Speedups need
// the rows of every configuration at the network point: compute_speedups (results.hpp) fills
// them when the files are written.
#include <optional>
#include <vector>

#include "experiments/plan_cache.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/sweep_run.hpp"
#include "experiments/sweep_tasks.hpp"

namespace arcsim::experiments {

// The row's identity columns (configuration, network point, key, quality), status "pending".
ResultRow pending_row(const ExperimentSpec& spec, const SweepInputs& in, const PointWork& w, const ConfigPlans& cp);

// Takes the simulated shapes (or the failure) of an earlier row with the same key.
void assemble_reused(ResultRow& r, const ResultRow& previous, const ConfigPlans& cp, const std::optional<Target>& target);

// From the point's task results: "ok" with every shape, or "failed" with the first shape's error.
void assemble_simulated(ResultRow& r, const PointWork& w, const ConfigPlans& cp, const std::vector<TaskResult>& results,
                        const std::optional<Target>& target);

// Steps to target, TTA and the curve of a finished row, from its shapes and the nearest
// convergence log; target: the spec's (empty: the log's own).
void fill_convergence(ResultRow& r, const ConfigPlans& cp, const std::optional<Target>& target);

IterationTimes mean_times(const std::vector<IterationTimes>& v);

}  // namespace arcsim::experiments
