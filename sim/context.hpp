#pragma once
// What every collective needs while it runs: the platform (rank -> host), the profile, traffic
// statistics, and mailboxes. Collectives are SPMD functions: each rank's actor calls the same
// function with its own rank, like an MPI program, so they compose (hierarchical = intra-node
// collective, then inter-node, then intra-node, on sub-groups).
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <simgrid/forward.h>

#include "sim/profile.hpp"
#include "topologies/builder.hpp"

namespace arcsim::sim {

struct Context;

// A communicator: an ordered subset of the global ranks plus a tag that keeps its messages apart
// from other groups'. Point-to-point messages between two members go through one mailbox per
// ordered pair (FIFO), so successive collectives on the same group match in program order.
class Group {
 public:
  Group(Context& ctx, std::vector<int> members, std::string tag);
  int size() const { return static_cast<int>(members_.size()); }
  int global(int local) const { return members_[local]; }
  int local_of(int global_rank) const;  // -1 if not a member
  const std::string& tag() const { return tag_; }
  Context& ctx() { return ctx_; }
  simgrid::s4u::Host* host(int local) const;
  // Bottleneck bandwidth of the route from local rank `from` to `to` (cached).
  double bottleneck_Bps(int from, int to);

  // Async send of `bytes` payload (wire bytes = payload x wire_factor) from local rank `me` to `to`.
  simgrid::s4u::CommPtr send(int me, int to, double bytes, double wire_factor = 1.0);
  simgrid::s4u::CommPtr recv(int me, int from);

 private:
  simgrid::s4u::Mailbox* box(int from, int to);
  Context& ctx_;
  std::vector<int> members_;
  std::string tag_;
  std::unordered_map<std::uint64_t, simgrid::s4u::Mailbox*> boxes_;
  std::unordered_map<std::uint64_t, double> bottleneck_;
};

// How the nccl profile moves data: flow = all of a collective's flows at once after NCCL's latency
// (aggregated steps); message = every chunk of every step (slow at scale, the reference).
enum class Fidelity { flow, message };

struct Context {
  topo::Platform platform;
  ProfileKind profile = ProfileKind::ideal;
  std::string protocol = "auto";        // nccl profile: forced protocol or NCCL's choice
  Fidelity fidelity = Fidelity::flow;
  std::vector<double> bytes_sent;  // payload bytes per global rank
  double messages = 0;
  // nccl profile: seconds per payload byte on the platform's busiest link for (op, algorithm)'s
  // inter-node flows (resolve_call's fabric term for `auto`), computed once per pair.
  mutable std::map<std::pair<int, std::string>, double> fabric_s_per_byte;
  // Groups by name ("world", "node3", "rail2", ...), created once and reused.
  Group& group(const std::string& name, const std::vector<int>& members);
  Group& world();

  int ranks() const { return static_cast<int>(platform.ranks.size()); }
  int nodes() const { return platform.topology.nodes; }
  int gpus_per_node() const { return platform.gpus_per_node; }

 private:
  std::unordered_map<std::string, std::unique_ptr<Group>> groups_;
};

// Splits `total` bytes into `parts` integral pieces that add up exactly (SimGrid sizes are
// uint64_t).
double piece(double total, int parts, int index);

}  // namespace arcsim::sim
