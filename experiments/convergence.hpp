#pragma once
// Which of the trace's convergence logs stands for a compressor configuration at N nodes.
// A log matches when it was recorded with the same compressor and the same options that change
// the training trajectory (ratio, error feedback, warm-up, ramp, ARC's rank/row scores/shape rule,
// Rand-K's rescale; options the log does not state are not compared), or when the spec names its
// config id explicitly ("convergence"). Among matching logs the one whose worker count is nearest
// to N on a log scale is used (ties: the larger), and rows say which N that was.
#include <string>
#include <vector>

#include "experiments/spec.hpp"
#include "experiments/tta.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

// Every log of the trace that matches the configuration (any worker count), in trace order.
std::vector<const traces::ConvergenceLog*> matching_logs(const traces::Trace& trace, const CompressorConfig& c);

// The log nearest to `nodes`, or nullptr when there is none.
const traces::ConvergenceLog* nearest_log(const std::vector<const traces::ConvergenceLog*>& logs, int nodes);

// The metric of the target as LogPoints (accuracy or loss).
std::vector<LogPoint> log_points(const traces::ConvergenceLog& log, const Target& target);

// Why no log matched: "no convergence log for topk-0.2 (topk, ratio 0.2, ef14, ramp off); the
// trace has: dense, topk-0.2-ef14 (ramp on), ..." (one line).
std::string no_match_note(const traces::Trace& trace, const CompressorConfig& c);

}  // namespace arcsim::experiments
