#pragma once
// Builds a resolved topology into SimGrid 3.32 zones. Call after the Engine exists and its network
// model is configured, before Engine::run(). Ranks are numbered node-major (rank = node*G + gpu);
// hosts are named "h<rank>" and looked up by name, never through get_all_hosts() (whose order
// follows the zone tree, not ranks).
#include <string>
#include <vector>

#include "topologies/topology.hpp"

namespace simgrid::s4u {
class Host;
class Link;
}  // namespace simgrid::s4u

namespace arcsim::topo {

struct Platform {
  Resolved topology;
  std::vector<simgrid::s4u::Host*> ranks;  // index = rank
  int gpus_per_node = 1;
  int node_of(int rank) const { return rank / gpus_per_node; }
};

Platform build_platform(const Resolved& topology);

// Route facts for `topology show` and tests.
struct RouteInfo {
  int links = 0;
  double latency_s = 0;
  double bottleneck_Bps = 0;
};
RouteInfo route(const Platform& p, int src_rank, int dst_rank);

}  // namespace arcsim::topo
