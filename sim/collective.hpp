#pragma once
// One collective as the plan (or the CLI) asks for it, resolved to a concrete algorithm and
// pipeline once, then run by every rank's actor. Handles `auto`, the nccl profile's protocol, and
// the hierarchical composition on multi-GPU nodes (intra-node, then inter-node on "rails" of
// same-index GPUs, then intra-node).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/algorithms.hpp"
#include "sim/context.hpp"
#include "sim/iteration.hpp"
#include "sim/plan.hpp"

namespace arcsim::sim {

struct CollectiveCall {
  CollectiveOp op = CollectiveOp::allreduce;
  std::string algorithm = "auto";
  // allreduce, broadcast, reduce_scatter: the vector each rank holds; allgather: each rank's block.
  double bytes = 0;
  std::vector<double> by_rank;  // allgatherv: block of rank i is by_rank[i % size]
  // alltoallv: the recorded W x W bytes matrix; at p ranks rank r sends rank d (r != d)
  // matrix[r % W][d % W] * W / p (alltoallv_matrix; per_pair: unscaled; share: * (W / p)^2), so
  // p == W is exact and, when W divides p, each rank's total (per_rank) or the whole matrix's
  // (share) is kept.
  std::vector<std::vector<double>> matrix;
  SizeScaling scaling = SizeScaling::per_rank;  // allgatherv, alltoallv (plan.hpp)
};

// The p x p bytes an alltoallv call moves at p ranks (see CollectiveCall::matrix); diagonal 0.
std::vector<std::vector<double>> alltoallv_matrix(const CollectiveCall& call, int p);

struct FlowPlan;

struct ResolvedCall {
  CollectiveCall call;
  std::string algorithm;       // concrete, inter-node (or flat) part
  std::string protocol = "none";
  Pipeline inter, intra;
  bool hierarchical = false;   // hier-*: intra-node, rails, intra-node
  bool flat_channels = false;  // nccl, message fidelity, multi-GPU nodes: one ring per channel
  std::shared_ptr<const FlowPlan> flows;  // nccl, flow fidelity: the collective's flows
  double start_latency_s = 0;  // slept once before any byte moves
  int chain_chunks = 1;        // chain broadcast
  double nccl_model_s = 0;     // NCCL's own predicted time, for reference
  // What ran, for reports: "ring/Simple", "tree/LL128", "hier-ring/none", "rabenseifner/none".
  std::string label() const;
};

// Same answer on every rank (deterministic); throws std::invalid_argument for an algorithm the op
// does not have.
ResolvedCall resolve_call(const Context& ctx, const CollectiveCall& call);

// Runs this rank's part; call from the rank's actor.
void run_collective(Context& ctx, int rank, const ResolvedCall& call);

struct CollectiveResult {
  double simulated_s = 0;
  std::optional<double> closed_form_s;
  double nccl_model_s = 0;
  std::string op, algorithm, protocol, profile, topology, transport, fidelity;
  int nodes = 0, ranks = 0;
  double bytes = 0, messages = 0, bytes_per_rank_sent = 0, wall_s = 0, link_latency_s = 0;
  double bandwidth_Bps = 0, latency_s = 0;
};

// One collective on a fresh simulation (creates this process's Engine). For an all-gather `bytes`
// is the total gathered size (nccl-tests' convention).
CollectiveResult simulate_collective(const NetworkConfig& net, CollectiveOp op, double bytes);

// One alltoallv of `matrix` (p x p bytes, p = the topology's ranks) on a fresh simulation.
CollectiveResult simulate_alltoallv(const NetworkConfig& net, const std::vector<std::vector<double>>& matrix);

nlohmann::json to_json(const CollectiveResult& r);

CollectiveOp parse_op(const std::string& name);  // throws std::invalid_argument

// The algorithm to use for `op` when the user asked for `requested` (an all-reduce algorithm in
// the iteration model): `requested` where the op has it, else "auto".
std::string algorithm_for(CollectiveOp op, const std::string& requested);

// "ring/Simple:100;tree/LL128:2": which (algorithm, protocol) pairs ran and how often.
std::string format_algorithms_used(const std::map<std::string, int>& counts);

}  // namespace arcsim::sim
