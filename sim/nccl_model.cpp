#include "sim/nccl_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace arcsim::sim::nccl {

namespace {

// tuning.cc baseLat[algo][proto], microseconds (LL, LL128, Simple).
constexpr double kBaseLatTree[3] = {6.8, 14.0, 8.4};
constexpr double kBaseLatRing[3] = {6.6, 14.0, 8.4};
constexpr double kBaseLatPat = 8.0;
// tuning.cc hwLat[NET][algo][proto] and hwLat[NVLINK][algo][proto], microseconds per hop.
constexpr double kNetLatRing[3] = {2.7, 4.0, 14.0};
constexpr double kNetLatTree[3] = {5.0, 8.5, 14.0};
constexpr double kNvlLatRing[3] = {0.6, 1.9, 3.4};
constexpr double kNvlLatTree[3] = {0.6, 1.25, 4.0};
// Bus-bandwidth efficiency per protocol (tuning.cc): ring LL x0.5, LL128 x0.92 (~120/128);
// tree all-reduce x0.92 (Simple), LL x1/3.8, LL128 x120/128; PAT x0.75.
constexpr double kRingEff[3] = {0.5, 0.92, 1.0};
constexpr double kTreeEff[3] = {1.0 / 3.8, 120.0 / 128.0, 0.92};
constexpr double kPatEff = 0.75;
// Multi-node Simple ring all-reduce latency factor on Ampere and later (tuning.cc).
constexpr double kRingSimpleMultiNode = 1.4;
// Wire bytes per payload byte of each protocol: LL sends 4 B of flag with every 4 B of data,
// LL128 8 B of flag per 128 B line (src/include/device.h), Simple none.
constexpr double kWireFactor[3] = {2.0, 128.0 / 120.0, 1.0};
// Payload per step slot: buffer / NCCL_STEPS (8). src/init.cc DEFAULT_LL_BUFFSIZE = 8 lines x 512
// threads x 8 steps x 16 B (half of it flags), DEFAULT_LL128_BUFFSIZE = 120 x 640 x 8 x 8 B (120
// of every 128 B data), DEFAULT_BUFFSIZE = 4 MiB (Simple).
constexpr double kStepPayload[3] = {8.0 * 512 * 16 / 2, 120.0 * 640 * 8 * 120 / 128, 4194304.0 / 8};
constexpr int kNcclSteps = 8;

double lg(double x) { return std::log2(std::max(1.0, x)); }

}  // namespace

const char* proto_name(Proto p) { return p == LL ? "LL" : p == LL128 ? "LL128" : "Simple"; }

double predict(CollectiveOp op, const std::string& alg, Proto pr, double bytes, int nodes, int gpus,
               double bw_Bps, double intra_Bps) {
  const int p = nodes * gpus;
  if (p < 2) return 0;
  const bool multi_node = nodes > 1;
  const double inter_bw = multi_node ? bw_Bps * std::max(1, gpus) : intra_Bps;  // per node
  if (alg == "ring") {
    const bool ar = op == CollectiveOp::allreduce;
    const int nsteps = ar ? 2 * (p - 1) : (op == CollectiveOp::broadcast ? p - 1 : p - 1);
    const int inter_steps = multi_node ? (ar ? 2 * (nodes - 1) : nodes - 1) : 0;
    double lat = kBaseLatRing[pr] + (nsteps - inter_steps) * kNvlLatRing[pr] +
                 inter_steps * kNetLatRing[pr];
    if (ar && pr == Simple && multi_node) lat *= kRingSimpleMultiNode;
    // Ring bus bandwidth: one ring per NIC, each GPU's share of the node's injection bandwidth.
    const double bus = std::min(multi_node ? inter_bw / std::max(1, gpus) : intra_Bps, intra_Bps) *
                       kRingEff[pr];
    double factor = ar ? 2.0 * (p - 1) / p : (op == CollectiveOp::broadcast ? 1.0 : (p - 1.0) / p);
    return lat * 1e-6 + bytes * factor / bus;
  }
  if (alg == "tree") {
    if (op != CollectiveOp::allreduce) return std::numeric_limits<double>::infinity();
    const double lat = kBaseLatTree[pr] + 2 * ((gpus - 1) * kNvlLatTree[pr] + lg(nodes) * kNetLatTree[pr]);
    const double bus = (multi_node ? bw_Bps : intra_Bps) * kTreeEff[pr];
    return lat * 1e-6 + bytes / (0.5 * bus);
  }
  if (alg == "pat") {
    if ((op != CollectiveOp::allgather && op != CollectiveOp::reduce_scatter) || gpus != 1 ||
        pr != Simple)
      return std::numeric_limits<double>::infinity();
    const double lat = kBaseLatPat + lg(nodes) * kNetLatRing[Simple] / 3.5 + 2.8 * p;
    return lat * 1e-6 + bytes * (p - 1.0) / p / (bw_Bps * kPatEff);
  }
  return std::numeric_limits<double>::infinity();
}

Prediction choose(CollectiveOp op, const std::string& algorithm, double bytes, int nodes, int gpus,
                  double bw_Bps, double intra_Bps) {
  Prediction best;
  best.time_s = std::numeric_limits<double>::infinity();
  for (const char* a : {"ring", "tree", "pat"}) {
    if (algorithm != "auto" && algorithm != a) continue;
    for (Proto pr : {LL, LL128, Simple}) {
      const double t = predict(op, a, pr, bytes, nodes, gpus, bw_Bps, intra_Bps);
      if (t < best.time_s) best = {a, pr, t};
    }
  }
  if (!std::isfinite(best.time_s)) best = {algorithm == "auto" ? "ring" : algorithm, Simple, 0};
  return best;
}

Pipeline pipeline(Proto proto, const std::string& algorithm, bool intra_node) {
  Pipeline p;
  p.protocol = proto_name(proto);
  p.chunk_bytes = kStepPayload[proto];
  p.window = kNcclSteps;
  p.pace = true;
  const bool tree = algorithm == "tree";
  p.step_overhead_s =
      1e-6 * (intra_node ? (tree ? kNvlLatTree : kNvlLatRing)[proto] : (tree ? kNetLatTree : kNetLatRing)[proto]);
  p.start_latency_s = 1e-6 * (tree ? kBaseLatTree : kBaseLatRing)[proto];
  // The network below NCCL (socket/TCP transport) only applies between nodes.
  p.wire_factor = kWireFactor[proto] / (intra_node ? 1.0 : kNetEfficiency);
  return p;
}

}  // namespace arcsim::sim::nccl
