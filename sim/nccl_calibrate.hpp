#pragma once
// Fitting the few constants of the `nccl` model to measured nccl-tests rows:
//   nic_eff       what a NIC achieves, as a fraction of its line rate (`nccl.nic_achievable`):
//                 determined by multi-node rows (large sizes);
//   intra_eff     what a GPU achieves inside the node, fraction of `node.intra_bandwidth`
//                 (`nccl.intra_achievable`): determined only by single-node rows;
//   latency_scale multiplies NCCL's latency constants (`nccl.latency_scale`): small sizes.
// A constant the rows do not determine keeps the base topology's value. The fit minimises the sum
// of squared log errors of the predicted time (NCCL's choice of algorithm and protocol, the cost
// model the simulation agrees with on a contention-free network).
#include <functional>
#include <string>
#include <vector>

#include "sim/plan.hpp"
#include "topologies/topology.hpp"

namespace arcsim::sim {

struct FitPoint {
  topo::TopologySpec spec;  // the system (its line rates and GPUs per node)
  CollectiveOp op = CollectiveOp::allreduce;
  int nodes = 1;
  double bytes = 0;         // nccl-tests size
  double measured_s = 0;
  std::string algorithm = "auto";  // what the run forced (NCCL_ALGO=Ring -> "ring"), else NCCL's choice
};

// The ranges the fit searches.
inline constexpr double kNicEffRange[2] = {0.02, 1.0};
inline constexpr double kLatencyScaleRange[2] = {0.05, 20.0};
inline constexpr double kIntraEffRange[2] = {0.02, 1.0};

struct FitResult {
  double nic_eff = 0, intra_eff = 0, latency_scale = 1;
  bool nic_fitted = false, intra_fitted = false, latency_fitted = false;
  // A fitted constant that ended at the edge of its range: the model cannot follow the rows there
  // (NIC at its line rate: the logs outrun rings and trees; latency scale at 0.05 or 20).
  bool nic_at_line_rate = false, latency_at_edge = false;
};

// The constants of `spec` as fractions (the model's defaults where the spec says nothing).
FitResult constants_of(const topo::TopologySpec& spec);
// `spec` with the fitted constants written into its nccl section.
topo::TopologySpec apply_fit(const topo::TopologySpec& spec, const FitResult& fit);

// Predicted time (s) of one nccl-tests row on `spec` at `nodes`; `label` gets "ring/Simple" etc.
// `algorithm` "auto" follows NCCL's choice; "ring" / "tree" is what a run with NCCL_ALGO set ran.
double predict_point(const topo::TopologySpec& spec, CollectiveOp op, int nodes, double bytes,
                     std::string* label = nullptr, const std::string& algorithm = "auto");

// Fits the constants shared by all points (every point's own spec supplies line rates).
FitResult fit_constants(const std::vector<FitPoint>& points);

// The same fit of many rows on one system `spec` (what `calibrate --nccl-tests` fits): no copy of
// the spec per row. A row of weight w counts as w rows of that time: rows of the same collective,
// server count, size and algorithm are fitted exactly as one row of weight n at the geometric mean
// of their times (the sum of squared log errors differs by a constant). Each evaluation of the cost
// resolves the topology once per server count, not once per row. `progress(done, most)` is
// called after each evaluation of the cost (at most `most`).
struct FitRow {
  CollectiveOp op = CollectiveOp::allreduce;
  int nodes = 1;
  double bytes = 0;
  double measured_s = 0;
  double weight = 1;
};
FitResult fit_constants(const topo::TopologySpec& spec, const std::vector<FitRow>& rows, const std::string& algorithm,
                        const std::function<void(int, int)>& progress = {});

}  // namespace arcsim::sim
