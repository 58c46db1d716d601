#pragma once
// `arcsim sweep`: an experiment spec -> results.csv + results.json (+ plans/) in an output dir.
// The sweep is a chain of stages, each with a typed input and output and its own header:
//
//   check_inputs       (sweep_inputs.hpp)  spec -> trace, compute profile, buckets, timing, topologies
//   build_plan_cache   (plan_cache.hpp)    -> one replayed plan per (configuration, shape, sample), DIR/plans/
//   plan_points/tasks  (sweep_tasks.hpp)   -> points with resume keys, distinct simulations
//   run_simulations    (sweep_run.hpp)     -> each simulation in a forked process, --jobs at a time
//   assemble_*         (sweep_rows.hpp)    -> rows: iteration breakdown, convergence, TTA
//   ResultsWriter      (sweep_output.hpp)  -> speedups; both files rewritten atomically per point
//
// A re-run with the same spec resumes: rows whose key is unchanged are kept, the rest simulated.
// Past one machine the same stages run split (sweep_shards.hpp): --prepare runs the first two
// once, each --shard I/N simulates its part into DIR/shards/I-of-N/, --merge checks the shards and
// writes the files an unsharded run would have written, byte for byte.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/limits.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_run.hpp"
#include "experiments/sweep_shards.hpp"

namespace arcsim::experiments {

struct SweepOptions {
  std::string out_dir;
  int jobs = 0;                   // <= 0: every CPU this process may use
  bool progress = true;           // progress lines on stderr
  SimulateFn simulate;            // empty: simulate_with_simgrid
  std::optional<ShardId> shard;   // simulate only this part, into out_dir/shards/I-of-N/
  // Only the points it keeps are simulated and written (empty: all); rows holds only those.
  std::function<bool(const Point&)> keep;
  // Every configuration checked against the convergence logs before the replay: one that differs
  // from its compressor's logs is an error, one whose compressor has none a warning on stderr.
  bool check_convergence = true;
  double write_interval_s = kMinRewriteSeconds;  // results files rewritten at most this often (0: every point)
};

struct SweepSummary {
  std::size_t points = 0, ok = 0, failed = 0, reused = 0, simulations = 0;
  std::vector<ResultRow> rows;  // final rows, point order
  std::string replay_note;      // what was replayed, for the log
  std::string results_dir;      // where the files are
};

// Runs the whole sweep (or one shard of it: its plans must be prepared). Spec and trace errors
// throw (one line). Failed points do not throw: they are rows with status "failed" and an error,
// and are counted in the summary.
SweepSummary run_sweep(const ExperimentSpec& spec, const SweepOptions& options);

struct PrepareSummary {
  std::size_t plans = 0, replayed = 0, reused = 0, points = 0;
  std::string replay_note;
};
// The replay only: fills out_dir/plans/ for the shards and the merge.
PrepareSummary prepare_sweep(const ExperimentSpec& spec, const SweepOptions& options);

// Checks that out_dir/shards/ holds every shard of one partition, complete and made from this
// spec, trace and arcsim commit, and writes out_dir/results.csv and results.json. Any problem is
// one ConfigError naming every unusable shard; nothing is written then.
SweepSummary merge_sweep(const ExperimentSpec& spec, const SweepOptions& options);

}  // namespace arcsim::experiments
