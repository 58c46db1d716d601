#pragma once
// `arcsim sweep`: an experiment spec -> results.csv + results.json (+ plans/) in an output dir.
//
//  1. read and validate the trace; compute its DDP buckets with the experiment's caps;
//  2. replay the trace through the real kernels once per compressor configuration and iteration
//     shape (dense warm-up, ramp levels, steady state), re-time the kernels with the experiment's
//     kernel-timing source, and keep the plans in DIR/plans/ (a re-run reuses them);
//  3. simulate every distinct (network point, plan) once, each in its own forked process
//     (fork_pool.hpp), --jobs at a time, with the per-point timeout;
//  4. as soon as all shapes of a point are simulated, compute its row (iteration breakdown,
//     steps to target, time to accuracy, speedups) and rewrite both results files atomically.
// A re-run with the same spec resumes: rows whose inputs (the key: config, network point, plan
// hashes, trace checksum, arcsim commit) are unchanged are kept, the rest are simulated.
#include <functional>
#include <string>

#include "experiments/results.hpp"
#include "experiments/spec.hpp"
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

struct SweepOptions {
  std::string out_dir;
  int jobs = 0;               // <= 0: every CPU this process may use
  bool progress = true;       // progress lines on stderr
  SimulateFn simulate;        // empty: simulate_with_simgrid
  // Only the points it keeps are simulated and written (empty: all); the others stay pending.
  std::function<bool(const Point&)> keep;
  bool warnings = true;       // configurations that match no convergence log, on stderr
};

struct SweepSummary {
  std::size_t points = 0, ok = 0, failed = 0, reused = 0, simulations = 0;
  std::vector<ResultRow> rows;  // final rows, point order
  std::string replay_note;      // what was replayed, for the log
};

// Runs the whole sweep. Spec and trace errors throw (one line). Failed points do not throw: they
// are rows with status "failed" and an error, and are counted in the summary.
SweepSummary run_sweep(const ExperimentSpec& spec, const SweepOptions& options);

}  // namespace arcsim::experiments
