#pragma once
// Which of the trace's convergence logs stands for a compressor configuration at N ranks.
// A log matches when it was recorded with the same compressor and the same value of every option
// that changes training (the option table's changes_training: ratio, error feedback, warm-up,
// ramp, rank, ...; options the log does not state are not compared), or when the spec names its
// config id explicitly ("convergence"). Among matching logs the one whose worker count is nearest
// to N on a log scale is used (ties: the larger), and rows say which N that was.
#include <string>
#include <vector>

#include "experiments/results.hpp"
#include "kernels/compressor_options.hpp"
#include "experiments/spec.hpp"
#include "experiments/tta.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

// The value a log's compressor object states for an option (under its name or an alias); null
// when it states none.
nlohmann::json stated_option(const nlohmann::json& log_compressor, const kernels::OptionSpec& o);

// Every log of the trace that matches the configuration (any worker count), in trace order.
std::vector<const traces::ConvergenceLog*> matching_logs(const traces::Trace& trace, const CompressorConfig& c);

// The log nearest to `nodes`, or nullptr when there is none.
const traces::ConvergenceLog* nearest_log(const std::vector<const traces::ConvergenceLog*>& logs, int nodes);

// The metric of the target as LogPoints (any metric the log holds; NaN where it is absent).
std::vector<LogPoint> log_points(const traces::ConvergenceLog& log, const Target& target);

// The target a log was recorded against, as a Target (metric, value, direction).
Target log_target(const traces::ConvergenceLog& log);

// Steps to target of one configuration at `nodes` data-parallel ranks (a log's `world`), one value
// per seed; a seed that missed the target is kept, censored at the last step its run logged.
//  - The trace has logs at N = nodes: each seed's log gives its interpolated crossing
//    (crossing_step).
//  - It has logs at recorded N on both sides (w_lo < nodes < w_hi, the nearest each side): each
//    seed recorded at both is interpolated log-log,
//    log S = log S_lo + (log N - log w_lo) / (log w_hi - log w_lo) * (log S_hi - log S_lo);
//    censored when either end is (the interpolated bound is then a lower bound); when no seed is
//    recorded at both, the seeds are paired in sorted order.
//  - Only on one side (outside the recorded range): extrapolated by holding the nearest recorded
//    N's steps constant (no trend is assumed beyond what was recorded).
struct SeedSteps {
  std::int64_t seed = 0;
  double steps = 0;      // reached: the crossing; missed: the last step the run logged (a lower bound)
  bool reached = true;
};
struct StepsEstimate {
  std::vector<SeedSteps> seeds;                 // every seed, reached or censored, by seed
  std::string how = "recorded";                 // recorded | interpolated | extrapolated
  int nodes_lo = 0, nodes_hi = 0;               // recorded ranks used (equal unless interpolated)
  int convergence_nodes = 0;                    // the recorded ranks nearest to the point's (curves come from it)
  std::vector<const traces::ConvergenceLog*> curve_logs;  // one per seed at convergence_nodes, by seed
  std::string note;                             // how it was approximated; empty when recorded
  std::string unreached_note;                   // "target ... not reached in <config> N=8 seed 2 (best ...)"
  int reached() const;
};
std::optional<StepsEstimate> estimate_steps(const std::vector<const traces::ConvergenceLog*>& logs, int nodes,
                                            const Target& target);

// Why no log matched: "no convergence log for topk-0.2 (topk, ratio 0.2, ef14, ramp off); the
// trace has: dense, topk-0.2-ef14 (ramp on), ..." (one line).
std::string no_match_note(const traces::Trace& trace, const CompressorConfig& c);

// Fills a finished row's convergence columns from its simulated shapes: per seed the crossing
// (estimate_steps) and its wall-clock (time_for_fractional_steps over the row's shapes), seeds
// that missed censored at their run's last logged step; the log-normal centre and 95 % interval
// over all seeds (stats.hpp lognormal_time); tta_status; the warm-up/ramp share; the
// accuracy-vs-time curve of every seed; tta_note for approximations and seeds that missed.
// Logs are matched on the row's ranks (nodes x GPUs per node). `spec_target` absent: the
// trace's own target.
void fill_row_convergence(ResultRow& r, const std::vector<const traces::ConvergenceLog*>& logs,
                          const std::string& no_log_note, const std::optional<Target>& spec_target);

// For a configuration no log matches: the closest log (same compressor, fewest differing
// options) and what differs, as one line for stderr:
//   "topk (spec: topk, ratio 0.2, ef14, ramp off) matches no convergence log; closest is
//    topk-0.2-ef14: ramp: the trace's topk logs were recorded with ramp true"
// Empty when the configuration has a matching log.
std::string mismatch_warning(const traces::Trace& trace, const CompressorConfig& c);

// Whether the trace holds any convergence log of compressor `compressor`.
bool has_logs_of(const traces::Trace& trace, const std::string& compressor);

}  // namespace arcsim::experiments
