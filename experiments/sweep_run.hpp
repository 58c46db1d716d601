#pragma once
// Sweep stage 4, running: every SimTask in its own forked process (fork_pool.hpp), `jobs` at a
// time, each with the spec's point timeout. A crash, throw or timeout of one simulation is that
// task's error; it never stops the others.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/plan_cache.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/sweep_tasks.hpp"
#include "sim/compute_profile.hpp"
#include "sim/iteration.hpp"
#include "sim/plan.hpp"

namespace arcsim::experiments {

// One simulation, run inside a forked child. The default calls sim::simulate_iteration; tests
// may substitute a closed-form model to exercise the machinery without SimGrid.
using SimulateFn = std::function<IterationTimes(const sim::NetworkConfig&, const sim::Plan&,
                                                const sim::ComputeProfile&, const sim::IterationOptions&)>;
IterationTimes simulate_with_simgrid(const sim::NetworkConfig& net, const sim::Plan& plan,
                                     const sim::ComputeProfile& compute, const sim::IterationOptions& options);

struct TaskResult {
  bool done = false;
  std::optional<IterationTimes> times;  // set when the simulation succeeded
  std::string error;                    // one line otherwise
};

// Runs every task; on_done(task index, its result) is called in this process, in completion
// order, once per task. simulate empty: simulate_with_simgrid. jobs <= 0: every CPU.
void run_simulations(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans,
                     const std::vector<SimTask>& tasks, const SimulateFn& simulate, int jobs,
                     const std::function<void(std::size_t, const TaskResult&)>& on_done);

}  // namespace arcsim::experiments
