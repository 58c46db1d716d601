#pragma once
// NCCL's tuning model (NVIDIA/nccl src/graph/tuning.cc; reference/simulators.md 1.4), used
//  (1) to pick the algorithm for `auto` and the protocol of the `nccl` profile, as NCCL does: the
//      (algorithm, protocol) with the smallest predicted time;
//  (2) to drive the `nccl` profile's simulation: protocol wire efficiency, per-step latency, chunk
//      size and slots in flight (see pipeline()).
// Every constant and its source is listed in docs/simulator.md section "nccl profile".
#include <string>

#include "sim/plan.hpp"
#include "sim/profile.hpp"

namespace arcsim::sim::nccl {

enum Proto { LL = 0, LL128 = 1, Simple = 2 };
const char* proto_name(Proto p);

// Calibrated wire efficiency of the network below NCCL (TCP/IP over Ethernet framing, proxy
// copies): fitted to the tc-shaped measurements of reference/simulators.md 5.3, see docs.
inline constexpr double kNetEfficiency = 0.978;

struct Prediction {
  std::string algorithm;  // ring | tree | pat
  Proto proto = Simple;
  double time_s = 0;
};

// NCCL's predicted time of one (op, algorithm, proto) for `bytes` (all-gather: total gathered)
// over `nodes` nodes of `gpus` GPUs each, inter-node bus bandwidth `bw_Bps`, intra-node `intra_Bps`.
double predict(CollectiveOp op, const std::string& algorithm, Proto proto, double bytes, int nodes,
               int gpus, double bw_Bps, double intra_Bps);

// The best (algorithm, protocol). `algorithm` restricts the search unless it is "auto".
Prediction choose(CollectiveOp op, const std::string& algorithm, double bytes, int nodes, int gpus,
                  double bw_Bps, double intra_Bps);

// How the `nccl` profile moves data for `proto` on `algorithm` (ring/tree), inter- or intra-node.
Pipeline pipeline(Proto proto, const std::string& algorithm, bool intra_node);

}  // namespace arcsim::sim::nccl
