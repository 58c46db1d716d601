#pragma once
// The traffic of NCCL's topology-aware algorithms on nodes of G GPUs with K NICs, as flows: what
// each rank sends to whom in one collective, per channel. The `nccl` profile simulates exactly
// these flows (all at once after NCCL's latency: the steady state of a chunk pipeline, "aggregated
// steps"), and the predictor behind `auto` uses the same list: on the system's NICs and intra
// links, and (resolve_call) along the platform's routes, so it sees the fabric's contention too.
//
// Rings (one per channel, over all ranks): inside a node the ring visits every GPU over NVLink
// (or the intra-node links), entering at a GPU of NIC k = channel mod K and leaving from another
// GPU of that NIC when the NIC serves several GPUs (p4d-like, 2 GPUs per NIC), or from the GPU
// before it otherwise (one NIC per GPU: each NIC then carries two channels out and two in).
// Trees (channel c < K: tree A, c >= K: tree B of the double binary tree over nodes): in each
// node a chain from the head GPU (on NIC c mod K) through the others; heads of parent and child
// nodes exchange the data over their NICs.
#include <string>
#include <vector>

#include "sim/nccl_model.hpp"

namespace arcsim::sim::nccl {

struct Flow {
  int src = 0, dst = 0;  // global ranks
  double payload = 0;    // bytes of data (wire bytes = payload x wire_factor)
  bool inter = false;    // crosses nodes (NIC) or stays inside one (intra links)
};

// Rank order of channel c's ring.
std::vector<int> ring_order(const System& sys, int channel);

// Every flow of one collective. `bytes`: all-reduce/reduce-scatter/broadcast the per-rank
// vector, all-gather the total gathered size. Broadcast from rank 0 (a chain along each ring).
// all-gather-v: `blocks[r]` is rank r's block (bytes = their sum); rank r sends all blocks but its
// successor's.
std::vector<Flow> flows(CollectiveOp op, const std::string& algorithm, double bytes, const System& sys,
                        const std::vector<double>* blocks = nullptr);

// Wire bytes per payload byte of a flow: the protocol's efficiency and what NCCL achieves of
// the link's line rate.
double wire_factor(const std::string& algorithm, Proto proto, bool inter, const System& sys);

// Bandwidth term of `flows` on a contention-free network of the system's NICs and intra links:
// the busiest NIC or intra-link direction, or NCCL's per-channel cap (busbw_cap_Bps) when that is
// slower, divided by NCCL's tree correction factor for medium-size tree all-reduces; in seconds.
// `as_nccl_assumes`: from 3 nodes on trees charge every node 2 x bytes over its NICs, as NCCL's
// formula does (at 2 nodes it charges the 1 x they move); false: the trees' real loads, as the
// simulation moves them (1 x at 2 nodes, 1.5 x at 3).
// `sys.fabric_s_per_byte`, when set, adds the simulated network's busiest link.
double bandwidth_time_s(CollectiveOp op, const std::string& algorithm, Proto proto, double bytes,
                        const System& sys, bool as_nccl_assumes = true);

}  // namespace arcsim::sim::nccl
