#include "topologies/describe.hpp"

#include <algorithm>
#include <map>

#include <simgrid/s4u.hpp>

#include "common/units.hpp"

namespace arcsim::topo {

nlohmann::json describe(const Platform& p) {
  const auto& r = p.topology;
  const int P = r.ranks;
  nlohmann::json j;
  j["name"] = r.spec.name;
  j["description"] = r.spec.description;
  j["type"] = r.spec.type;
  j["shape"] = r.shape;
  j["nodes"] = r.nodes;
  j["gpus_per_node"] = r.spec.gpus_per_node;
  j["nics_per_node"] = r.spec.nics_per_node;
  j["ranks"] = P;
  j["hosts"] = simgrid::s4u::Engine::get_instance()->get_host_count();
  j["links"] = simgrid::s4u::Engine::get_instance()->get_link_count();
  j["bandwidth"] = units::format_bandwidth(r.spec.bandwidth_Bps);
  j["latency"] = units::format_time(r.spec.latency_s);
  j["link_latency"] = units::format_time(r.link_latency_s);
  if (r.spec.gpus_per_node > 1) {
    j["intra_bandwidth"] = units::format_bandwidth(r.spec.intra_bandwidth_Bps);
    j["intra_latency"] = units::format_time(r.spec.intra_latency_s);
  }
  j["host_names"] = P <= 16 ? nlohmann::json::array() : nlohmann::json("h0 .. h" + std::to_string(P - 1));
  if (P <= 16)
    for (auto* h : p.ranks) j["host_names"].push_back(h->get_name());

  std::map<int, long> hops;
  int min_h = 1 << 30, max_h = 0;
  double sum = 0, max_lat = 0;
  long pairs = 0;
  auto add = [&](int a, int b) {
    const auto info = route(p, a, b);
    ++hops[info.links];
    min_h = std::min(min_h, info.links);
    max_h = std::max(max_h, info.links);
    max_lat = std::max(max_lat, info.latency_s);
    sum += info.links;
    ++pairs;
  };
  const bool all = P <= 128;
  for (int a = 0; a < P; ++a)
    for (int b = 0; b < P; ++b)
      if (a != b && (all || a == 0)) add(a, b);
  int ring_max = 0;
  double ring_lat = 0;
  for (int a = 0; a < P && P > 1; ++a) {
    const auto info = route(p, a, (a + 1) % P);
    ring_max = std::max(ring_max, info.links);
    ring_lat = std::max(ring_lat, info.latency_s);
  }
  nlohmann::json routes;
  routes["pairs"] = all ? "all" : "from h0";
  routes["count"] = pairs;
  if (pairs) {
    routes["min_links"] = min_h;
    routes["max_links"] = max_h;
    routes["mean_links"] = sum / pairs;
    routes["max_latency"] = units::format_time(max_lat);
    nlohmann::json hist = nlohmann::json::object();
    for (auto [h, n] : hops) hist[std::to_string(h)] = n;
    routes["links_histogram"] = hist;
    routes["ring_neighbour_max_links"] = ring_max;
    routes["ring_neighbour_max_latency"] = units::format_time(ring_lat);
  }
  j["routes"] = routes;
  return j;
}

}  // namespace arcsim::topo
