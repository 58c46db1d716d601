#include "topologies/builder.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include <simgrid/s4u.hpp>

namespace arcsim::topo {

namespace sg4 = simgrid::s4u;
using NetPoint = simgrid::kernel::routing::NetPoint;

namespace {

// GPUs have no computing role in our model (compute is replayed as durations), any speed works.
constexpr double kHostSpeed = 1e12;
constexpr auto kUp = sg4::LinkInRoute::Direction::UP;
constexpr auto kDown = sg4::LinkInRoute::Direction::DOWN;

// One multi-GPU node as its own zone: G GPUs, each with a split-duplex intra link (NVLink-like)
// to the node's switch, and K NICs (split-duplex, the inter-node bandwidth) shared round-robin by
// the GPUs. GPU-to-GPU routes use only intra links; GPU-to-network routes go GPU -> NIC -> gateway.
std::pair<NetPoint*, NetPoint*> make_node_zone(sg4::NetZone* parent, const Resolved& r, int node) {
  const TopologySpec& s = r.spec;
  const int G = s.gpus_per_node, K = s.nics_per_node;
  auto* z = sg4::create_full_zone("n" + std::to_string(node));
  z->set_parent(parent);
  std::vector<sg4::Host*> gpus;
  std::vector<sg4::Link*> intra, nics;
  for (int g = 0; g < G; ++g) {
    const std::string id = std::to_string(node * G + g);
    gpus.push_back(z->create_host("h" + id, kHostSpeed)->seal());
    intra.push_back(z->create_split_duplex_link("intra" + id, s.intra_bandwidth_Bps)
                        ->set_latency(s.intra_latency_s / 2)
                        ->seal());
  }
  for (int k = 0; k < K; ++k)
    nics.push_back(z->create_split_duplex_link("nic" + std::to_string(node) + "_" + std::to_string(k),
                                               s.bandwidth_Bps)
                       ->seal());
  NetPoint* gw = z->create_router("n" + std::to_string(node) + "_gw");
  for (int a = 0; a < G; ++a) {
    for (int b = a + 1; b < G; ++b)
      z->add_route(gpus[a]->get_netpoint(), gpus[b]->get_netpoint(), nullptr, nullptr,
                   {{intra[a], kUp}, {intra[b], kDown}}, true);
    z->add_route(gpus[a]->get_netpoint(), gw, nullptr, nullptr, {{nics[a % K], kUp}}, true);
  }
  z->seal();
  return {z->get_netpoint(), gw};
}

// Leaf of a cluster zone (fat-tree, torus, dragonfly): a host, or a node zone behind its gateway.
std::pair<NetPoint*, NetPoint*> make_leaf(sg4::NetZone* zone, const Resolved& r, unsigned long id) {
  if (r.spec.gpus_per_node == 1)
    return {zone->create_host("h" + std::to_string(id), kHostSpeed)->seal()->get_netpoint(), nullptr};
  return make_node_zone(zone, r, static_cast<int>(id));
}

}  // namespace

Platform build_platform(const Resolved& r) {
  const TopologySpec& s = r.spec;
  // With several NICs per node, the node's port into the network carries all of them.
  const double port_bw = s.bandwidth_Bps * (s.gpus_per_node > 1 ? s.nics_per_node : 1);
  const auto policy = sg4::Link::SharingPolicy::SPLITDUPLEX;
  sg4::ClusterCallbacks cb([&r](sg4::NetZone* zone, const std::vector<unsigned long>&, unsigned long id) {
    return make_leaf(zone, r, id);
  });
  auto u = [](const std::vector<int>& v) { return std::vector<unsigned int>(v.begin(), v.end()); };

  if (s.type == "star") {
    auto* z = sg4::create_star_zone("star");
    for (int n = 0; n < r.nodes; ++n) {
      auto [np, gw] = make_leaf(z, r, n);
      auto* l = z->create_split_duplex_link("l" + std::to_string(n), port_bw)
                    ->set_latency(r.link_latency_s)
                    ->seal();
      z->add_route(np, nullptr, gw, nullptr, {{l, kUp}}, true);
    }
    z->seal();
  } else if (s.type == "fattree") {
    const std::vector<unsigned int> number(r.fattree_down.size(), 1);
    sg4::create_fatTree_zone("fattree", nullptr,
                             {static_cast<unsigned>(r.fattree_down.size()), u(r.fattree_down),
                              u(r.fattree_up), number},
                             cb, port_bw, r.link_latency_s, policy)
        ->seal();
  } else if (s.type == "torus") {
    std::vector<unsigned long> dims(r.torus_dims.begin(), r.torus_dims.end());
    sg4::create_torus_zone("torus", nullptr, dims, cb, port_bw, r.link_latency_s, policy)->seal();
  } else {
    auto p = [](int a, int b) { return std::pair<unsigned, unsigned>(a, b); };
    sg4::create_dragonfly_zone("dragonfly", nullptr,
                               {p(s.df_groups, s.df_group_links), p(s.df_chassis, s.df_chassis_links),
                                p(s.df_routers, s.df_router_links),
                                static_cast<unsigned>(s.df_nodes_per_router)},
                               cb, port_bw, r.link_latency_s, policy)
        ->seal();
  }

  Platform out;
  out.topology = r;
  out.gpus_per_node = s.gpus_per_node;
  auto* e = sg4::Engine::get_instance();
  for (int i = 0; i < r.ranks; ++i) out.ranks.push_back(e->host_by_name("h" + std::to_string(i)));
  return out;
}

RouteInfo route(const Platform& p, int a, int b) {
  std::vector<sg4::Link*> links;
  double lat = 0;
  p.ranks.at(a)->route_to(p.ranks.at(b), links, &lat);
  RouteInfo info;
  info.links = static_cast<int>(links.size());
  info.latency_s = lat;
  info.bottleneck_Bps = std::numeric_limits<double>::infinity();
  for (auto* l : links) info.bottleneck_Bps = std::min(info.bottleneck_Bps, l->get_bandwidth());
  return info;
}

}  // namespace arcsim::topo
