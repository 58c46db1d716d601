#pragma once
// `arcsim breakeven`: where a compressor's speedup over dense crosses 1 along one axis
// (bandwidth, nodes or ratio), for every value of the other axes, by bisection with real
// simulations run through the sweep's machinery (run_sweep; plans are replayed once and reused).
//
//  1. the grid: the spec's values on the axis (or --range ends plus the spec's values inside it;
//     ratio without a range: 0.01 .. 1, five log-spaced values) is simulated for every
//     compressor and dense;
//  2. for each (compressor, fixed axes, metric) the first adjacent pair of grid values whose
//     speedups lie on both sides of 1 is a bracket [a, b];
//  3. every open bracket is halved each round (geometric midpoint for bandwidth and ratio,
//     integer midpoint for nodes), all brackets' midpoints simulated in one sweep, until
//     b / a <= 1 + rel_tol (nodes: b - a <= 1);
//  4. the crossing is interpolated linearly in (log x, speedup) between the final a and b; over
//     nodes it is b, the first node count past the crossing (never a fraction of a node).
// The TTA speedup's interval ends (speedup_vs_dense_lo/_hi) are searched the same way; their
// crossings are the break-even's 95 % interval (breakeven_ci_lo, breakeven_ci_hi).
// Metrics: "tta" (speedup_vs_dense) and "iteration" (iteration_speedup_vs_dense). Over ratio,
// only "iteration": convergence is recorded at fixed ratios, so TTA at other ratios is unknown.
#include <optional>
#include <string>
#include <vector>

#include "experiments/spec.hpp"
#include "experiments/sweep.hpp"

namespace arcsim::experiments {

struct BreakevenOptions {
  std::string axis;              // bandwidth | nodes | ratio
  std::string out_dir;           // breakeven.csv goes here; the sweeps run in out_dir/breakeven-work
  int jobs = 0;
  bool progress = true;
  double rel_tol = 0.01;         // bandwidth and ratio: stop when b / a <= 1 + rel_tol
  std::optional<double> range_lo, range_hi;  // in the axis's unit (bytes/s, nodes, fraction)
  SimulateFn simulate;           // empty: SimGrid
};

struct BreakevenRow {
  std::string compressor, label, metric;  // metric: tta | iteration
  int nodes = 0;
  double bandwidth_Bps = 0, latency_s = 0, ratio = 0;
  std::string topology, profile;
  std::optional<double> breakeven;        // axis units: Gbit/s, nodes (the first count past the crossing) or fraction
  // tta: where the ends of the speedup's 95 % interval cross 1 (the break-even's interval from the
  // seeds); an end is empty when that bound does not cross 1 in the range.
  std::optional<double> breakeven_lo, breakeven_hi;
  std::optional<double> bracket_lo, bracket_hi, speedup_lo, speedup_hi;
  std::string faster;                     // "below" | "above": the side where the compressor is faster
  int evaluations = 0;                    // simulated axis values for this row (grid + bisection)
  std::string note;                       // why there is no crossing, or other crossings in the range
};

struct BreakevenResult {
  std::vector<BreakevenRow> rows;
  std::size_t sweeps = 0, simulated_points = 0;
  double tolerance = 0;
};

BreakevenResult run_breakeven(const ExperimentSpec& spec, const BreakevenOptions& options);

// breakeven.csv: compressor, label, the fixed axes, breakeven_<axis>, breakeven_ci_lo,
// breakeven_ci_hi, metric, bracket_lo,
// bracket_hi, speedup_lo, speedup_hi, faster, evaluations, tolerance, note.
std::string breakeven_csv(const BreakevenResult& r, const std::string& axis);

}  // namespace arcsim::experiments
