#pragma once
// Topology specs: what a user writes in a topology JSON file (or picks by preset name), validated
// before anything reaches SimGrid.
//
// A spec describes the network between *nodes* (machines). Each node may hold several GPUs
// (ranks) on an intra-node link such as NVLink, with 1..G NICs into the network.
//
//   {"format": "arcsim-topology/1", "name": "ib-fattree", "type": "fattree",
//    "bandwidth": "200Gbps", "latency": "2us",
//    "fattree": {"hosts_per_leaf": 8, "oversubscription": 1},
//    "node": {"gpus": 8, "nics": 8, "intra_bandwidth": "2400Gbps", "intra_latency": "1us"}}
//
// `latency` is the end-to-end latency of one message between the two nearest nodes; the builder
// splits it over the links of that route (star and fat-tree: 2 links, torus: 1), so routes with
// more hops pay proportionally more.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topologies/transport.hpp"

namespace arcsim::topo {

struct TopologySpec {
  std::string name = "star";
  std::string description;
  std::string type = "star";      // star | fattree | torus | dragonfly
  int fixed_nodes = 0;            // > 0: the topology only exists at this node count
  double bandwidth_Bps = 12.5e9;  // per NIC (inter-node) link
  double latency_s = 5e-6;        // nearest-pair end-to-end

  // fattree (two levels: leaf switches with `hosts_per_leaf` nodes, core switches above)
  int hosts_per_leaf = 0;         // 0: chosen from the node count (largest divisor <= sqrt(N))
  int oversubscription = 1;       // core switches = hosts_per_leaf / oversubscription
  // torus
  std::vector<int> dims;          // empty: a near-cubic 3-D factorisation of the node count
  // dragonfly: groups, chassis per group, routers per chassis, nodes per router (+ link counts)
  int df_groups = 0, df_group_links = 1, df_chassis = 1, df_chassis_links = 1, df_routers = 0,
      df_router_links = 1, df_nodes_per_router = 0;

  // the inside of one node: its GPUs reach each other over `transport`; the bandwidth and latency
  // default to that transport's row (topologies/transport.hpp) and are only used when
  // gpus_per_node > 1
  int gpus_per_node = 1;
  int nics_per_node = 1;
  Transport transport = Transport::nvlink;
  double intra_bandwidth_Bps = 300e9;
  double intra_latency_s = 1e-6;

  // What NCCL achieves on this hardware (the "nccl" section; 0 = not given, the model's default):
  // the `nccl` profile moves line-rate links but inflates the bytes by line / achievable.
  double nic_achievable_Bps = 0;    // per NIC with GPUDirect RDMA (default: bandwidth x 0.978)
  double pcie_Bps = 0;              // GPU <-> NIC PCIe path; caps each NIC when lower (0: no cap)
  double intra_achievable_Bps = 0;  // per GPU and direction inside a node (default: intra_bandwidth)
  double latency_scale = 1.0;       // multiplies NCCL's per-step latency constants
  double proxy_overhead_s = 0;      // extra per inter-node step (network proxy thread)
  // NCCL's channel count as NCCL_MIN_NCHANNELS = NCCL_MAX_NCHANNELS would set it (0: NCCL's own,
  // 2 per NIC). Each channel carries at most the fastest per-channel speed of NCCL's graph search
  // (40 GB/s inside a node, 60 on Hopper and later, 48 over a NIC); more cannot exceed the links.
  int nccl_channels = 0;
  // GPU generation and host CPU vendor: select NCCL's per-channel bandwidth caps of LL, LL128 and
  // trees (tuning.cc). "" = no caps (a network without a GPU generation, e.g. the tc-shaped table).
  std::string gpu_arch;             // "" | volta | ampere | hopper | blackwell
  std::string cpu_vendor = "intel";  // intel | amd (NCCL's multi-node LL cap depends on it)
  nlohmann::json nccl_sources = nlohmann::json::object();  // field -> where the number comes from
  nlohmann::json calibrated_from = nullptr;                // set by `arcsim calibrate --nccl-tests`

  // What gloo over TCP costs here (the "gloo" section, read by the `gloo` profile,
  // sim/gloo_model.hpp; 0 = not given, the model's default). Fitted by `arcsim calibrate --gloo-bench`.
  double gloo_call_s = 0;       // per collective call: Python dispatch, the hand-off to gloo's worker thread
  double gloo_message_s = 0;    // per message a rank posts: gloo's ready-notice rendezvous and its syscalls
  // payload bytes per line-rate byte over TCP, in (0, 1], per traffic pattern: ring, direct
  // (all-to-all: incast), binomial (broadcast tree)
  double gloo_efficiency[3] = {0, 0, 0};
  // bytes a link sends at wire speed after an idle gap (a token bucket, as tc tbf shapes the
  // testbed's links); 0: none (a real link)
  double gloo_burst_bytes = 0;
  nlohmann::json gloo_calibrated_from = nullptr;
};

// The spec back as JSON (what `arcsim calibrate --nccl-tests` writes; parse_topology reads it).
nlohmann::json topology_to_json(const TopologySpec& spec);

// The shape a topology takes at a given node count, after defaults are filled in.
struct Resolved {
  TopologySpec spec;
  int nodes = 0;                  // the network's nodes (socket transport: one per GPU, as NCCL sees them)
  int hosts = 0;                  // the machines asked for (the results' `nodes`)
  int ranks = 0;                  // nodes * gpus_per_node
  double link_latency_s = 0;      // per-link latency of the inter-node network
  std::vector<int> fattree_down, fattree_up;  // SimGrid FatTreeParams
  std::vector<int> torus_dims;
  std::string shape;              // human-readable, e.g. "fat-tree 8 leaves x 8 hosts, 8 cores"
  // results column `transport`: node.transport's name where a node has several GPUs, "none" where
  // every node holds one GPU (no traffic inside a node)
  std::string transport;
};

// Names of the shipped presets (topologies/presets/*.json) and of the bare types.
std::vector<std::string> preset_names();
std::string preset_dir();

// A preset name, a bare type ("star", "fattree", "torus", "dragonfly") or a JSON file path.
// Throws json::ConfigError (one line) for an unknown name, a bad file or bad fields.
TopologySpec load_topology(const std::string& name_or_path);
TopologySpec parse_topology(const nlohmann::json& j, const std::string& file_for_errors);

// Fills defaults for `nodes`, applies overrides (bandwidth_Bps > 0, latency_s >= 0) and checks
// that the topology exists at that node count (throws std::invalid_argument, one line, if not:
// e.g. dragonfly routers per chassis < groups, which crashes SimGrid 3.32).
// node.transport socket exists on one host only (nodes 1): it resolves to a star of one-GPU
// nodes whose links are the loopback's (intra_bandwidth, intra_achievable, intra_latency), which is
// how NCCL sees it (every GPU its own node on the network row); the `bandwidth` override does not
// apply there.
Resolved resolve(const TopologySpec& spec, int nodes, double bandwidth_Bps = 0,
                 double latency_s = -1);

}  // namespace arcsim::topo
