#include "sim/nccl_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "sim/nccl_flows.hpp"

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
// tuning.cc hwLat[PCI]: P2P over PCIe, and SHM (whose path goes through the CPU, paths.cc).
constexpr double kPciLatRing[3] = {1.0, 2.5, 5.7};
constexpr double kPciLatTree[3] = {1.0, 1.9, 4.0};

// The latency row of a step inside a node.
const double* intra_lat(const System& y, bool tree) {
  if (y.intra_row == topo::NcclHwRow::pci) return tree ? kPciLatTree : kPciLatRing;
  return tree ? kNvlLatTree : kNvlLatRing;
}
// Bus-bandwidth efficiency per protocol (tuning.cc): ring LL x0.5, LL128 x0.92 (~120/128);
// every tree x0.92, then LL x1/3.8, LL128 x120/128 (x7/9 on one node); PAT x0.75.
constexpr double kRingEff[3] = {0.5, 0.92, 1.0};
constexpr double kTreeAll = 0.92;
constexpr double kTreeProto[3] = {1.0 / 3.8, 120.0 / 128.0, 1.0};
constexpr double kTreeLL128OneNode = 7.0 / 9.0;
constexpr double kPatEff = 0.75;
// The fastest per-channel speeds of NCCL's graph search (search.cc speedArrayIntra, sm90SpeedArrayIntra,
// speedArrayInter), bytes/s: what one channel is taken to carry inside a node and over a NIC.
constexpr double kMaxChannelIntraBps = 40e9, kMaxChannelIntraSm90Bps = 60e9, kMaxChannelInterBps = 48e9;
// tuning.cc getNetOverhead, microseconds: x86 Intel hosts 1, AMD 2.
constexpr double kNetOverheadIntel = 1.0, kNetOverheadAmd = 2.0;
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

double tree_proto_factor(Proto pr, int nodes) { return pr == LL128 && nodes == 1 ? kTreeLL128OneNode : kTreeProto[pr]; }

// NCCL's log2i: the floor of log2 (levels of its binary trees).
int log2i(int n) {
  int l = 0;
  while (n > 1) n >>= 1, ++l;
  return l;
}

// tuning.cc caps, GB/s of bus bandwidth, [GPU generation][1 node, 2 nodes, more]. llMaxBws rows:
// single node by GPU generation; multi-node by CPU (row 0 Intel, row 1 AMD).
constexpr double kLlMaxBw[4][3] = {{39.0, 39.0, 20.4}, {87.7, 22.5, 19.0}, {141.0, 45.0, 35.0}, {282.0, 90.0, 70.0}};
constexpr double kPerChRingLL128[4][3] = {{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 36.7}, {40.0, 40.0, 40.0}};
constexpr double kPerChTreeLL128[4][3] = {{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}};
constexpr double kPerChTree[4][3] = {{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}};
// tuning.cc treeCorrectionFactor[proto][log2(bytes / 64)].
constexpr double kTreeCorrection[3][24] = {
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9, .9}};

}  // namespace

const char* proto_name(Proto p) { return p == LL ? "LL" : p == LL128 ? "LL128" : "Simple"; }

Proto parse_proto(const std::string& n) {
  if (n == "LL") return LL;
  if (n == "LL128") return LL128;
  if (n == "Simple") return Simple;
  throw std::invalid_argument("protocol: expected LL|LL128|Simple|auto, got \"" + n + "\"");
}

System system_of(const topo::Resolved& r) {
  const auto& s = r.spec;
  System y;
  y.nodes = r.nodes;
  y.gpus = s.gpus_per_node;
  y.nics = s.gpus_per_node > 1 ? s.nics_per_node : 1;
  y.nic_line_Bps = s.bandwidth_Bps;
  y.nic_Bps = s.nic_achievable_Bps > 0 ? s.nic_achievable_Bps : s.bandwidth_Bps * kNetEfficiency;
  y.pcie_Bps = s.pcie_Bps;
  if (s.pcie_Bps > 0) y.nic_Bps = std::min(y.nic_Bps, s.pcie_Bps);
  y.nic_Bps = std::min(y.nic_Bps, y.nic_line_Bps);
  y.intra_line_Bps = s.intra_bandwidth_Bps;
  y.intra_Bps = s.intra_achievable_Bps > 0 ? std::min(s.intra_achievable_Bps, s.intra_bandwidth_Bps)
                                           : s.intra_bandwidth_Bps;
  y.latency_scale = s.latency_scale;
  y.proxy_s = s.proxy_overhead_s;
  const std::string& a = s.gpu_arch;
  y.gpu_arch = a == "volta" ? 0 : a == "ampere" ? 1 : a == "hopper" ? 2 : a == "blackwell" ? 3 : -1;
  y.cpu_amd = s.cpu_vendor == "amd";
  // Rings and trees cross leaf switches once there are several: leaf - core - leaf is 2 x latency.
  // One node crosses no network: its latency is the node's own.
  y.alpha_s = r.nodes == 1 ? s.intra_latency_s
              : s.type == "fattree" && r.fattree_down.size() > 1 ? 2 * s.latency_s : s.latency_s;
  const topo::TransportRow& t = topo::transport_row(s.transport);
  y.intra_row = t.hw_row == topo::NcclHwRow::pci ? topo::NcclHwRow::pci : topo::NcclHwRow::nvlink;
  y.ll128 = t.ll128 || (s.gpus_per_node == 1 && s.transport != topo::Transport::socket);
  if (s.nccl_channels > 0) {
    // One channel carries at most the fastest per-channel speed of NCCL's graph search: fewer
    // channels than NCCL's own can carry less than the links, more cannot exceed them.
    y.channels_set = s.nccl_channels;
    y.nic_Bps = std::min(y.nic_Bps, y.channels_set * kMaxChannelInterBps);
    y.intra_Bps = std::min(y.intra_Bps, y.channels_set * (y.gpu_arch >= 2 ? kMaxChannelIntraSm90Bps : kMaxChannelIntraBps));
  }
  return y;
}

double efficiency(const std::string& alg, Proto pr, int nodes) {
  if (alg == "tree") return kTreeAll * tree_proto_factor(pr, nodes);
  if (alg == "pat") return kPatEff;
  return kRingEff[pr];
}

double busbw_cap_Bps(CollectiveOp op, const std::string& alg, Proto pr, const System& y) {
  const double inf = std::numeric_limits<double>::infinity();
  if (y.gpu_arch < 0 || y.ranks() < 2) return inf;
  const int n = y.nodes <= 2 ? y.nodes - 1 : 2;
  const int ll_row = y.nodes == 1 ? y.gpu_arch : (y.cpu_amd ? 1 : 0);
  // NCCL multiplies the caps by its search graph's channels (graphs[a]->nChannels: one per NIC,
  // search.cc), not by the runtime channels, which connect.cc doubles (channels() = 2 x NICs).
  const double C = y.graph_channels(), G = 1e9;
  if (alg == "ring") {
    if (pr == LL) return kLlMaxBw[ll_row][n] * G;
    if (pr == LL128) return C * kPerChRingLL128[y.gpu_arch][n] * G;
    return inf;
  }
  if (alg == "tree" && op == CollectiveOp::allreduce) {
    // tuning.cc caps the tree at perChMaxTreeBw before the protocol's factor, then LL at llMaxBw
    // and LL128 at perChMaxTreeLL128Bw after it.
    double cap = C * kPerChTree[y.gpu_arch][n] * G * tree_proto_factor(pr, y.nodes);
    if (pr == LL) cap = std::min(cap, kLlMaxBw[ll_row][n] * G);
    if (pr == LL128) cap = std::min(cap, C * kPerChTreeLL128[y.gpu_arch][n] * G);
    return cap;
  }
  return inf;
}

double cap_s_per_byte(CollectiveOp op, const std::string& alg, Proto pr, const System& y) {
  const double cap = busbw_cap_Bps(op, alg, pr, y);
  if (!std::isfinite(cap)) return 0;
  const int p = y.ranks();
  const double steps = op == CollectiveOp::allreduce ? 2.0 * (p - 1) : op == CollectiveOp::broadcast ? p : p - 1.0;
  const double ratio = alg == "tree" ? 0.5 : p / steps;
  return 1.0 / (cap * ratio);
}

double tree_correction(CollectiveOp op, const std::string& alg, Proto pr, double bytes) {
  if (alg != "tree" || op != CollectiveOp::allreduce || bytes < 64) return 1.0;
  const int log_size = static_cast<int>(std::floor(std::log2(bytes / 64)));
  return log_size >= 0 && log_size < 23 ? kTreeCorrection[pr][log_size] : 1.0;
}

double latency_s(CollectiveOp op, const std::string& alg, Proto pr, const System& y) {
  const int p = y.ranks(), N = y.nodes, G = y.gpus;
  if (p < 2) return 0;
  const double proxy_us = y.proxy_s * 1e6;
  double lat = std::numeric_limits<double>::infinity();
  if (alg == "ring") {
    const bool ar = op == CollectiveOp::allreduce;
    const int nsteps = ar ? 2 * (p - 1) : p - 1;
    const int inter = N > 1 ? (ar ? 2 * (N - 1) : N - 1) : 0;
    // With one GPU per node every step is exposed: NCCL charges the tree's NET latency.
    const double net_us = (G == 1 ? kNetLatTree : kNetLatRing)[pr];
    // Inter-node rings launch every step at the network's pace: an intra-node step costs at least
    // NCCL's net overhead (tuning.cc getNetOverhead: 1 us on Intel hosts, 2 us on AMD; x3 Simple).
    double intra_us = intra_lat(y, false)[pr];
    if (N > 1 && op != CollectiveOp::broadcast)
      intra_us = std::max(intra_us, (y.cpu_amd ? kNetOverheadAmd : kNetOverheadIntel) * (pr == Simple ? 3 : 1));
    lat = kBaseLatRing[pr] + (nsteps - inter) * intra_us + inter * (net_us + proxy_us);
    if (ar && pr == Simple && N > 1) lat *= kRingSimpleMultiNode;
  } else if (alg == "tree" && op == CollectiveOp::allreduce) {
    lat = kBaseLatTree[pr] + 2 * ((G - 1) * intra_lat(y, true)[pr] + log2i(N) * (kNetLatTree[pr] + proxy_us));
  } else if (alg == "pat" && (op == CollectiveOp::allgather || op == CollectiveOp::reduce_scatter) && G == 1 &&
             pr == Simple) {
    lat = kBaseLatPat + log2i(N) * kNetLatRing[Simple] / 3.5 + 2.8 * p;
  }
  return lat * y.latency_scale * 1e-6;
}

double predict(CollectiveOp op, const std::string& alg, Proto pr, double bytes, const System& y) {
  if (y.ranks() < 2) return 0;
  const double lat = latency_s(op, alg, pr, y);
  if (!std::isfinite(lat)) return lat;
  if (alg == "pat") {
    const int p = y.ranks();
    return lat + y.alpha_s + bytes * (p - 1.0) / p / (y.nic_Bps * kPatEff);
  }
  // The bandwidth term of exactly the flows the simulation sends, on a contention-free network:
  // the busiest NIC or NVLink direction decides.
  // `auto` in a simulation (as_simulated) charges trees their real loads; NCCL's formula charges 2 x
  // bytes per node from 3 nodes on (bandwidth_time_s).
  return lat + y.alpha_s + bandwidth_time_s(op, alg, pr, bytes, y, !y.as_simulated);
}

double estimate(CollectiveOp op, const std::string& alg, Proto pr, double bytes, const System& y) {
  if (alg != "tree" || y.ranks() < 2) return predict(op, alg, pr, bytes, y);
  const double lat = latency_s(op, alg, pr, y);
  if (!std::isfinite(lat)) return lat;
  return lat + y.alpha_s + bandwidth_time_s(op, alg, pr, bytes, y, false);
}

System as_tuner_sees(const System& y) {
  // search.cc speedArrayInter (GB/s): sm80 and earlier, sm90 and later.
  static const std::vector<double> kSpeedsSm80 = {48.0, 30.0, 28.0, 24.0, 20.0, 18.0, 15.0, 12.0, 10.0, 9.0,
                                                  7.0,  6.0,  5.0,  4.0,  3.0,  2.4,  1.2,  0.24, 0.12};
  static const std::vector<double> kSpeedsSm90 = {48.0, 45.0, 42.0, 40.0, 30.0, 24.0, 22.0, 20.0, 17.5,
                                                  15.0, 12.0, 6.0,  3.0,  2.4,  1.2,  0.24, 0.12};
  System t = y;
  t.latency_scale = 1.0;
  t.proxy_s = 0;
  if (y.gpu_arch < 0) return t;  // no GPU generation: no NCCL search to mirror
  const double path_GBps = std::min(y.nic_line_Bps, y.pcie_Bps > 0 ? y.pcie_Bps : y.nic_line_Bps) / 1e9;
  const auto& speeds = y.gpu_arch >= 2 ? kSpeedsSm90 : kSpeedsSm80;
  double v = speeds.back();
  for (double s : speeds)
    if (s <= path_GBps + 1e-9) { v = s; break; }
  t.nic_Bps = std::min(v * 1e9, y.nic_line_Bps);
  return t;
}

Prediction choose(CollectiveOp op, const std::string& algorithm, const std::string& proto, double bytes,
                  const System& y) {
  Prediction best;
  best.time_s = std::numeric_limits<double>::infinity();
  for (const char* a : {"ring", "tree", "pat"}) {
    if (algorithm != "auto" && algorithm != a) continue;
    for (Proto pr : {LL, LL128, Simple}) {
      if (proto != "auto" && proto != proto_name(pr)) continue;
      if (pr == LL128 && !y.ll128 && proto == "auto") continue;  // NCCL does not enable it here
      const double t = predict(op, a, pr, bytes, y);
      if (t < best.time_s) best = {a, pr, t};
    }
  }
  if (!std::isfinite(best.time_s))
    best = {algorithm == "auto" ? "ring" : algorithm, proto == "auto" ? Simple : parse_proto(proto), 0};
  return best;
}

Pipeline pipeline(Proto proto, const std::string& algorithm, bool intra_node, const System& y) {
  Pipeline p;
  p.protocol = proto_name(proto);
  p.chunk_bytes = kStepPayload[proto];
  p.window = kNcclSteps;
  p.pace = true;
  const bool tree = algorithm == "tree";
  p.step_overhead_s = y.latency_scale * 1e-6 *
                      (intra_node ? intra_lat(y, tree)[proto]
                                  : (tree ? kNetLatTree : kNetLatRing)[proto]) +
                      (intra_node ? 0.0 : y.proxy_s);
  p.start_latency_s = y.latency_scale * 1e-6 * (tree ? kBaseLatTree : kBaseLatRing)[proto];
  // What NCCL achieves of the link's line rate, as extra wire bytes.
  const double eff = intra_node ? y.intra_Bps / y.intra_line_Bps : y.nic_Bps / y.nic_line_Bps;
  p.wire_factor = kWireFactor[proto] / eff;
  return p;
}

Tree btree(int n) {
  Tree t;
  t.parent.assign(n, -1);
  t.children.assign(n, {});
  for (int r = 1; r < n; ++r) {
    const int b = r & -r;
    int up = (r ^ b) | (b << 1);  // the neighbour at distance b whose lowest set bit is 2b
    if (up >= n) up = r ^ b;      // past the end: the one below
    t.parent[r] = up;
  }
  for (int r = 1; r < n; ++r) t.children[t.parent[r]].push_back(r);
  return t;
}

Tree dtree_second(int n) {
  const Tree a = btree(n);
  // Even n: mirror (r -> n-1-r) makes A's leaves (odd ranks) B's interior nodes; odd n: shift by 1.
  auto map = [n](int r) { return n % 2 == 0 ? n - 1 - r : (r + 1) % n; };
  Tree t;
  t.parent.assign(n, -1);
  t.children.assign(n, {});
  for (int r = 0; r < n; ++r)
    if (a.parent[r] >= 0) t.parent[map(r)] = map(a.parent[r]);
  for (int r = 0; r < n; ++r)
    if (t.parent[r] >= 0) t.children[t.parent[r]].push_back(r);
  return t;
}

double tree_max_node_load(int nodes, double bytes) {
  if (nodes < 2) return 0;
  const Tree a = btree(nodes), b = dtree_second(nodes);
  double worst = 0;
  for (int r = 0; r < nodes; ++r) {
    const double out = ((a.parent[r] >= 0) + a.children[r].size() + (b.parent[r] >= 0) + b.children[r].size()) *
                       bytes / 2;
    worst = std::max(worst, out);
  }
  return worst;
}

}  // namespace arcsim::sim::nccl
