#pragma once
// NCCL's cost model (after NVIDIA/nccl src/graph/tuning.cc), used
//  (1) by `auto` to pick the algorithm and protocol as NCCL does: the (algorithm, protocol) with
//      the smallest predicted time;
//  (2) by the `nccl` profile's simulation: the same latency terms, protocol efficiencies and
//      achievable link bandwidths drive the simulated flows (sim/nccl_flow.cpp), so on a network
//      without contention the simulation and this formula agree, and where the simulated network
//      adds contention (oversubscription, static fat-tree routes) the simulation is the answer.
// Every constant and its source is listed in docs/simulator.md section 2.1.
#include <functional>
#include <string>
#include <vector>

#include "sim/plan.hpp"
#include "sim/profile.hpp"
#include "topologies/topology.hpp"

namespace arcsim::sim::nccl {

enum Proto { LL = 0, LL128 = 1, Simple = 2 };
const char* proto_name(Proto p);
// "LL" | "LL128" | "Simple" -> Proto; throws std::invalid_argument otherwise.
Proto parse_proto(const std::string& name);

// Wire efficiency of the network below NCCL when the topology does not say what a NIC achieves:
// fitted to the tc-shaped Ethernet measurements (docs/simulator.md 2.2).
inline constexpr double kNetEfficiency = 0.978;

// What the model needs to know about the cluster (from the topology and its "nccl" section).
struct System {
  int nodes = 1, gpus = 1, nics = 1;
  double nic_line_Bps = 0;     // per NIC, what the platform's links carry
  double nic_Bps = 0;          // per NIC, what NCCL achieves (GPUDirect RDMA, PCIe cap)
  double pcie_Bps = 0;         // GPU-NIC PCIe path per direction (0: not given)
  double intra_line_Bps = 0;   // per GPU and direction inside a node
  double intra_Bps = 0;        // what NCCL achieves of it
  double latency_scale = 1.0;  // multiplies every NCCL latency constant
  double proxy_s = 0;          // added to every inter-node step
  double alpha_s = 0;          // end-to-end latency between two nearest nodes (the network's own)
  int gpu_arch = -1;           // 0 volta, 1 ampere, 2 hopper, 3 blackwell; -1: no per-channel caps
  bool cpu_amd = false;        // NCCL's multi-node LL cap is lower on AMD hosts
  // node.transport: NCCL's latency row inside a node (NVLINK; PCI for P2P over PCIe and SHM) and
  // whether NCCL enables LL128 (on NVLink paths only, tuning.cc)
  topo::NcclHwRow intra_row = topo::NcclHwRow::nvlink;
  bool ll128 = true;
  int channels_set = 0;        // nccl.channels (0: NCCL's own, 2 per NIC)
  // The simulated network's own contention: seconds per payload byte (wire factor 1) on the
  // busiest link that the inter-node flows of (op, algorithm) cross, along the platform's routes
  // (fat-tree uplinks shared by tree edges, oversubscription). Set by the simulation for `auto`;
  // empty: a contention-free network (NCCL's formula, calibration).
  std::function<double(CollectiveOp, const std::string&)> fabric_s_per_byte;
  // predict() charges trees what the simulation moves from 3 nodes on (1.5 x bytes per node at 3)
  // instead of NCCL's 2 x: set by the simulation for `auto`, so it picks what the simulation finds
  // fastest (at 2 nodes NCCL's formula already charges what the tree moves).
  bool as_simulated = false;
  int ranks() const { return nodes * gpus; }
  // Channels: one ring (and one tree) per channel, two per NIC as NCCL duplicates them, so each
  // NIC carries one channel of each of the two trees.
  int default_channels() const { return 2 * nics; }
  int channels() const { return channels_set > 0 ? channels_set : default_channels(); }
  // The channels of NCCL's search graph, which its per-channel caps multiply: half the runtime
  // channels, which connect.cc doubles.
  double graph_channels() const { return channels_set > 0 ? channels_set / 2.0 : nics; }
};
System system_of(const topo::Resolved& topology);

struct Prediction {
  std::string algorithm;  // ring | tree | pat
  Proto proto = Simple;
  double time_s = 0;
};

// NCCL's latency (seconds) of one (op, algorithm, proto), before any byte moves.
double latency_s(CollectiveOp op, const std::string& algorithm, Proto proto, const System& sys);
// Bus-bandwidth efficiency of a protocol on an algorithm (ring LL 0.5, LL128 0.92, ...) on `nodes`.
double efficiency(const std::string& algorithm, Proto proto, int nodes);

// NCCL's bus-bandwidth cap (bytes/s) of (algorithm, protocol): the per-channel limits of LL128 and
// trees times the channels, and the LL limit (tuning.cc llMaxBws, perChMaxRingLL128Bws,
// perChMaxTreeBws, perChMaxTreeLL128Bws, by GPU generation and 1 / 2 / more nodes). They are what
// one channel's threads can push, not a link rate, so they bound every flow of the collective.
// Infinity where NCCL has none or the topology gives no GPU generation.
double busbw_cap_Bps(CollectiveOp op, const std::string& algorithm, Proto proto, const System& sys);
// Seconds per byte of `bytes` the cap allows (bus bandwidth -> algorithm bandwidth as NCCL
// converts it: ring x ranks / steps, tree x 1/2); 0 without a cap.
double cap_s_per_byte(CollectiveOp op, const std::string& algorithm, Proto proto, const System& sys);
// NCCL's treeCorrectionFactor (tuning.cc): the share of the modelled bandwidth trees really reach
// at medium sizes, by protocol and power of two of the size (64 B .. 256 MiB); 1 elsewhere and for
// every other algorithm or collective.
double tree_correction(CollectiveOp op, const std::string& algorithm, Proto proto, double bytes);

// The time the flow-level simulation gives on a contention-free network (the trees' real loads);
// equals predict() except for trees at 3 nodes. What calibration fits and predicts with.
double estimate(CollectiveOp op, const std::string& algorithm, Proto proto, double bytes, const System& sys);

// NCCL's predicted time of one (op, algorithm, proto) for `bytes` (all-gather: total gathered):
// what `auto` compares (with the simulation's tree loads and fabric when `sys` carries them).
double predict(CollectiveOp op, const std::string& algorithm, Proto proto, double bytes, const System& sys);

// The system as NCCL's tuner sees it when it picks (algorithm, protocol): its search's per-channel
// NIC speed (the fastest of search.cc's speedArrayInter not above the NIC's line rate and PCIe
// path), its own latency constants (latency x1, no proxy overhead). NCCL knows nothing of what a
// site achieves: a calibrated site runs NCCL's nominal choice at the site's speed.
System as_tuner_sees(const System& sys);

// The best (algorithm, protocol). `algorithm` restricts the search unless "auto"; `proto`
// restricts the protocol unless "auto".
Prediction choose(CollectiveOp op, const std::string& algorithm, const std::string& proto, double bytes,
                  const System& sys);

// How the message-level `nccl` fidelity moves data for `proto` on `algorithm` (ring/tree), inter-
// or intra-node: slot-sized chunks, NCCL_STEPS in flight, per-step latency, wire bytes.
Pipeline pipeline(Proto proto, const std::string& algorithm, bool intra_node, const System& sys);

// NCCL's binary trees over `n` nodes (in-order, by lowest set bit: neighbours at distance 1 are
// leaf and parent, so most edges stay under one leaf switch), and the second tree of the double
// binary tree (mirrored ranks for even n, shifted by one for odd n). parent -1 = root.
struct Tree {
  std::vector<int> parent;
  std::vector<std::vector<int>> children;
};
Tree btree(int n);
Tree dtree_second(int n);

// Largest per-node payload out of the double binary tree all-reduce of `bytes` (each tree half):
// 2 x bytes for >= 3 nodes with interior nodes, bytes at 2 nodes.
double tree_max_node_load(int nodes, double bytes);

}  // namespace arcsim::sim::nccl
