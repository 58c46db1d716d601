#include "sim/nccl_flows.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

namespace arcsim::sim::nccl {

namespace {

// GPUs of a node in channel c's ring order: entry GPU first, exit GPU last.
std::vector<int> node_order(const System& y, int c) {
  const int G = y.gpus, K = y.nics;
  if (G == 1) return {0};
  const int k = c % K;
  const int entry = k;  // the builder puts GPU g on NIC g mod K
  const int exit = G >= 2 * K ? k + K : (entry + G - 1) % G;
  std::vector<int> o{entry};
  for (int i = 1; i < G; ++i) {
    const int g = (entry + i) % G;
    if (g != exit) o.push_back(g);
  }
  o.push_back(exit);
  return o;
}

}  // namespace

std::vector<int> ring_order(const System& y, int c) {
  std::vector<int> order;
  const auto local = node_order(y, c);
  order.reserve(static_cast<std::size_t>(y.ranks()));
  for (int n = 0; n < y.nodes; ++n)
    for (int g : local) order.push_back(n * y.gpus + g);
  return order;
}

std::vector<Flow> flows(CollectiveOp op, const std::string& alg, double bytes, const System& y,
                        const std::vector<double>* blocks) {
  const int p = y.ranks(), C = y.channels(), G = y.gpus, N = y.nodes;
  std::vector<Flow> out;
  if (p < 2) return out;
  const double per_channel = bytes / C;
  if (alg == "tree") {
    const Tree a = btree(N), b = dtree_second(N);
    for (int c = 0; c < C; ++c) {
      // The first half of the channels runs the first tree, the second half its mirror.
      const Tree& t = c < (C + 1) / 2 ? a : b;
      const int head = c % y.nics;
      std::vector<int> chain{head};
      for (int i = 1; i < G; ++i) chain.push_back((head + i) % G);
      for (int n = 0; n < N; ++n) {
        if (t.parent[n] >= 0) {
          const int me = n * G + head, up = t.parent[n] * G + head;
          out.push_back({me, up, per_channel, true});   // reduce
          out.push_back({up, me, per_channel, true});   // broadcast
        }
        // Channels c, c + K, c + 2K, ... run the same chain: one flow of all their data stands
        // for them (every intra pair then has the same multiplicity, so max-min shares are unchanged).
        if (c >= y.nics) continue;
        const int same_chain = (C - c + y.nics - 1) / y.nics;
        for (int i = 1; i < G; ++i) {
          const int lo = n * G + chain[i - 1], hi = n * G + chain[i];
          out.push_back({hi, lo, same_chain * per_channel, false});
          out.push_back({lo, hi, same_chain * per_channel, false});
        }
      }
    }
    return out;
  }
  // Rings. Per rank and channel: all-reduce 2(p-1)/p of the channel's share, reduce-scatter and
  // all-gather (p-1)/p, broadcast the whole share along the chain from rank 0.
  double each = 0;
  switch (op) {
    case CollectiveOp::allreduce: each = 2.0 * (p - 1) / p * per_channel; break;
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::allgather:
    case CollectiveOp::allgatherv: each = (p - 1.0) / p * per_channel; break;
    case CollectiveOp::broadcast: each = per_channel; break;
    case CollectiveOp::alltoallv: throw std::invalid_argument("nccl flows: alltoallv runs as a pairwise exchange");
  }
  for (int c = 0; c < C; ++c) {
    const auto order = ring_order(y, c);
    for (int i = 0; i < p; ++i) {
      const int src = order[i], dst = order[(i + 1) % p];
      if (op == CollectiveOp::broadcast && dst == 0) continue;  // the chain ends before the root
      const double b = op == CollectiveOp::allgatherv && blocks ? (bytes - (*blocks)[dst]) / C : each;
      out.push_back({src, dst, b, src / G != dst / G});
    }
  }
  return out;
}

double wire_factor(const std::string& alg, Proto proto, bool inter, const System& y) {
  const double link = inter ? y.nic_line_Bps / y.nic_Bps : y.intra_line_Bps / y.intra_Bps;
  return link / efficiency(alg, proto, y.nodes);
}

double bandwidth_time_s(CollectiveOp op, const std::string& alg, Proto proto, double bytes, const System& y,
                        bool as_nccl) {
  if (y.ranks() < 2 || bytes <= 0) return 0;
  // Every flow is proportional to `bytes`: cache the seconds per byte (resolve_call asks once per
  // bucket, and a 512-rank tree has ~16k flows).
  using Key = std::tuple<int, std::string, int, int, int, int, double, double, double, double, bool, int, bool, int>;
  static std::map<Key, double> per_byte;
  const Key key{static_cast<int>(op), alg, static_cast<int>(proto), y.nodes, y.gpus, y.nics,
                y.nic_line_Bps, y.nic_Bps, y.intra_line_Bps, y.intra_Bps, as_nccl, y.gpu_arch, y.cpu_amd, y.channels_set};
  // The simulated fabric's busiest link (not cached here: it depends on the platform).
  const double fabric = y.fabric_s_per_byte ? y.fabric_s_per_byte(op, alg) * wire_factor(alg, proto, true, y) : 0.0;
  if (auto it = per_byte.find(key); it != per_byte.end())
    return std::max(it->second, fabric) * bytes / tree_correction(op, alg, proto, bytes);
  const double unit = 1e6;
  const int G = y.gpus, K = y.nics;
  // Resources: (kind, index, direction) -> wire bytes. kind 0: NIC (node*K + k), 1: intra (rank).
  std::map<std::tuple<int, int, int>, double> load;
  const double wi = wire_factor(alg, proto, true, y), wl = wire_factor(alg, proto, false, y);
  // At 2 nodes NCCL's formula takes the tree graph's intra bandwidth (tuning.cc: bw = bwIntra for
  // nNodes <= 2), which its search raises up to twice the inter bandwidth ("increase bwIntra for
  // trees (2 nodes)", search.cc): it charges the 2-node tree what it moves, as the simulation does.
  const bool tree = alg == "tree" && as_nccl && y.nodes > 2;
  for (const auto& f : flows(op, alg, unit, y)) {
    if (f.inter && tree) continue;  // NCCL's own assumption below
    if (f.inter) {
      load[{0, (f.src / G) * K + (f.src % G) % K, 0}] += f.payload * wi;
      load[{0, (f.dst / G) * K + (f.dst % G) % K, 1}] += f.payload * wi;
    } else {
      load[{1, f.src, 0}] += f.payload * wl;
      load[{1, f.dst, 1}] += f.payload * wl;
    }
  }
  double t = 0;
  // Trees across 3 nodes or more: NCCL's formula charges every node 2 x bytes over its NICs
  // (interior in one tree, leaf in the other). That is the real load from 4 or so nodes on; at 3
  // nodes the double binary tree moves 1.5 x, which the simulation shows and NCCL's formula does not.
  // (At 2 nodes it moves 1 x: https://github.com/NVIDIA/nccl/issues/1576, busbw above the NIC rate.)
  if (tree) t = 2 * unit * wi / (y.nics * y.nic_line_Bps);
  for (const auto& [res, b] : load) t = std::max(t, b / (std::get<0>(res) == 0 ? y.nic_line_Bps : y.intra_line_Bps));
  // NCCL's per-channel limits of LL, LL128 and trees bound the whole collective (every flow).
  t = std::max(t, unit * cap_s_per_byte(op, alg, proto, y));
  per_byte[key] = t / unit;
  return std::max(t / unit, fabric) * bytes / tree_correction(op, alg, proto, bytes);
}

}  // namespace arcsim::sim::nccl
