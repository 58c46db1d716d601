// arcsim topology show|list: what a topology (preset, type or JSON file) becomes at N nodes.
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "common/format.hpp"
#include "commands.hpp"
#include "sim/profile.hpp"
#include "topologies/builder.hpp"
#include "topologies/describe.hpp"
#include "topologies/topology.hpp"
#include "common/units.hpp"

namespace arcsim::cli {

namespace po = boost::program_options;

int cmd_topology(int argc, char** argv) {
  po::options_description opts(
      "arcsim topology: inspect topologies\n\n"
      "  arcsim topology show PRESET|TYPE|FILE --nodes N [--bandwidth B] [--latency L] [--json]\n"
      "  arcsim topology list\n\nOptions");
  std::string action, name, bandwidth, latency;
  int nodes = 0;
  opts.add_options()("help,h", "this help")("nodes", po::value(&nodes), "number of nodes (machines)")
      ("bandwidth", po::value(&bandwidth), "override the per-NIC bandwidth, e.g. 100Gbps")
      ("latency", po::value(&latency), "override the nearest-pair latency, e.g. 5us")
      ("json", "print JSON instead of text");
  po::options_description hidden;
  hidden.add_options()("action", po::value(&action))("name", po::value(&name));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help") || action.empty()) {
    std::cout << opts << "\nshipped presets:";
    for (const auto& p : topo::preset_names()) std::cout << " " << p;
    std::cout << "\ntypes: star fattree torus dragonfly\n";
    return action.empty() && !vm.count("help") ? 2 : 0;
  }
  if (action == "list") {
    for (const auto& p : topo::preset_names()) {
      const auto s = topo::load_topology(p);
      std::printf("%-18s %s\n", io::escape_text(p).c_str(), io::escape_text(s.description).c_str());
    }
    return 0;
  }
  if (action != "show") throw std::invalid_argument("expected show|list, got \"" + io::escape_text(action) + "\"");
  if (name.empty()) throw std::invalid_argument("show: expected a preset, type or topology file");
  if (nodes < 1) throw std::invalid_argument("--nodes: expected a positive node count");
  double bw = 0, lat = -1;
  try {
    if (!bandwidth.empty()) bw = units::parse_bandwidth_Bps(bandwidth);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--bandwidth: ") + e.what());
  }
  try {
    if (!latency.empty()) lat = units::parse_latency_s(latency);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--latency: ") + e.what());
  }
  const auto resolved = topo::resolve(topo::load_topology(name), nodes, bw, lat);
  sim::create_engine(sim::ProfileKind::ideal);
  const auto platform = topo::build_platform(resolved);
  const auto j = topo::describe(platform);
  if (vm.count("json")) {
    std::cout << j.dump(2) << std::endl;
    return 0;
  }
  // Name and description come from the topology file: escaped (common/format.hpp escape_text).
  std::printf("topology %s: %s\n", io::escape_text(j["name"].get<std::string>()).c_str(),
              io::escape_text(j["shape"].get<std::string>()).c_str());
  if (!j["description"].get<std::string>().empty())
    std::printf("  %s\n", io::escape_text(j["description"].get<std::string>()).c_str());
  std::printf("  nodes %d, ranks %d, SimGrid hosts %d, links %d\n", j["nodes"].get<int>(), j["ranks"].get<int>(),
              j["hosts"].get<int>(), j["links"].get<int>());
  std::printf("  bandwidth %s per NIC link, latency %s nearest pair (%s per link)\n",
              j["bandwidth"].get<std::string>().c_str(), j["latency"].get<std::string>().c_str(),
              j["link_latency"].get<std::string>().c_str());
  const auto& r = j["routes"];
  if (r.contains("min_links")) {
    std::printf("  routes (%s, %ld): links min %d, max %d, mean %.2f; max latency %s\n",
                r["pairs"].get<std::string>().c_str(), r["count"].get<long>(), r["min_links"].get<int>(),
                r["max_links"].get<int>(), r["mean_links"].get<double>(), r["max_latency"].get<std::string>().c_str());
    std::printf("  links per route:");
    for (auto it = r["links_histogram"].begin(); it != r["links_histogram"].end(); ++it)
      std::printf(" %s:%ld", it.key().c_str(), it.value().get<long>());
    std::printf("\n  ring neighbours: up to %d links, %s\n", r["ring_neighbour_max_links"].get<int>(),
                r["ring_neighbour_max_latency"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace arcsim::cli
