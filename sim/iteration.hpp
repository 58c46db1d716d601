#pragma once
// The training-iteration model: a plan (what each DDP bucket asks of the GPU and the network) and a
// compute profile (how long forward/backward take) -> time of one iteration on a simulated cluster.
//
//   arcsim::sim::NetworkConfig net{"ethernet-star", 16, 100e9 / 8, 5e-6, "ideal", "ring"};
//   auto b = arcsim::sim::simulate_iteration(net, plan, profile, {});
//
// simulate_iteration creates the one SimGrid Engine this process may hold (SimGrid cannot create a
// second one): call it once per process; a sweep forks a child per point.
#include <optional>
#include <string>

#include "sim/compute_profile.hpp"
#include "sim/plan.hpp"

namespace arcsim::sim {

struct NetworkConfig {
  std::string topology = "star";  // preset name ("ethernet-star"), type ("star"), or JSON file path
  int nodes = 8;                  // machines; ranks = nodes x gpus_per_node of the topology
  double bandwidth_Bps = 0;       // per NIC link; <= 0: the topology's own value
  double latency_s = -1;          // end-to-end latency between two nearest nodes; < 0: topology's
  std::string profile = "ideal";  // ideal | nccl | tcp | gloo
  std::string algorithm = "auto"; // all-reduce algorithm: ring | tree | rabenseifner | hier-* | auto
  std::string protocol = "auto";  // nccl profile: LL | LL128 | Simple | auto (NCCL's choice)
  std::string fidelity = "flow";  // nccl profile: flow (aggregated steps) | message (every chunk)
  int channels = 0;               // nccl profile: NCCL's channel count (0: the topology's nccl.channels)
};

struct IterationOptions {
  // Overrides every collective's `blocking` flag of the plan: true = the GPU stream waits for each
  // collective (the reference compressed hooks), false = asynchronous (DDP's dense default).
  std::optional<bool> blocking;
  // What-if: false = no compute/communication overlap, every bucket's communication starts only
  // after the whole backward pass.
  bool overlap = true;
};

struct IterationBreakdown {
  double total_s = 0;         // forward start -> optimizer step end
  double compute_s = 0;       // forward + backward + optimizer
  double compression_s = 0;   // compression kernels on the GPU stream (per node)
  double exposed_comm_s = 0;  // total - compute - compression: time the GPU stream waits
  double comm_s = 0;          // busy time of one node's comm stream (all collectives)
  double bytes_per_node = 0;  // bytes one node sends per iteration (mean over nodes)
  std::string profile;        // network profile used, named in every output
  int nodes = 0;
  // Extras (not part of the minimal contract).
  int ranks = 0;
  double bytes_per_node_max = 0;
  double messages = 0;        // simulated point-to-point messages
  std::string topology, transport, algorithm;
  std::string algorithms_used;  // "ring/Simple:100;tree/LL128:1" (collective calls per pair)
};

IterationBreakdown simulate_iteration(const NetworkConfig& net, const Plan& plan,
                                      const ComputeProfile& compute, const IterationOptions& options);

nlohmann::json to_json(const IterationBreakdown& b);

}  // namespace arcsim::sim
