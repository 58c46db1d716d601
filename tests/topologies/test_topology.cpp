// Topology specs: presets load, shapes resolve, bad specs are one clear error, and every preset
// builds into SimGrid with the route hop counts of a star, a fat-tree and a torus.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/forked.hpp"
#include <simgrid/s4u/Engine.hpp>
#include "topologies/builder.hpp"
#include "common/json_fields.hpp"
#include "topologies/topology.hpp"
#include "tests/common/error_of.hpp"

using namespace arcsim::topo;
using arcsim::json::ConfigError;

namespace {
// Topologies are built into a SimGrid engine; routes and link properties do not depend on the
// network model, so the engine's defaults serve (the profiles belong to sim/).
void new_engine() {
  static int argc = 1;
  static char name[] = "test_topologies";
  static char* argv[] = {name, nullptr};
  new simgrid::s4u::Engine(&argc, argv);  // lives until the forked child exits
}
}  // namespace

namespace {

TopologySpec spec(const std::string& text) { return parse_topology(nlohmann::json::parse(text), "t.json"); }

using arcsim::testing::error_of;

// [min links, max links, ring-neighbour max links] over all rank pairs of a built topology.
std::vector<double> hops(const std::string& name, int nodes) {
  return arcsim::testing::forked([=] {
    new_engine();
    const auto p = build_platform(resolve(load_topology(name), nodes));
    double lo = 1e9, hi = 0, ring = 0;
    const int P = static_cast<int>(p.ranks.size());
    for (int a = 0; a < P; ++a)
      for (int b = 0; b < P; ++b)
        if (a != b) {
          const double l = route(p, a, b).links;
          lo = std::min(lo, l);
          hi = std::max(hi, l);
          if (b == (a + 1) % P) ring = std::max(ring, l);
        }
    return std::vector<double>{lo, hi, ring, static_cast<double>(P)};
  });
}

}  // namespace

TEST(Topology, EveryPresetLoadsAndBuilds) {
  const auto names = preset_names();
  ASSERT_GE(names.size(), 5u);
  for (const auto& n : names) {
    const auto s = load_topology(n);
    const int nodes = s.fixed_nodes ? s.fixed_nodes : 16;
    const auto h = hops(n, nodes);
    ASSERT_EQ(h.size(), 4u) << n;
    EXPECT_EQ(h[3], nodes * s.gpus_per_node) << n;
    EXPECT_GE(h[0], 1) << n;
  }
}

TEST(Topology, HopCountsMatchTheShapes) {
  EXPECT_EQ(hops("star", 64), (std::vector<double>{2, 2, 2, 64}));
  EXPECT_EQ(hops("fattree", 64), (std::vector<double>{2, 4, 4, 64}));  // leaf -> core -> leaf
  EXPECT_EQ(hops("torus", 64), (std::vector<double>{1, 6, 3, 64}));    // 4x4x4, ring worst 3
}

TEST(Topology, LatencyIsSplitOverTheNearestRoute) {
  auto r = resolve(load_topology("star"), 8, 0, 10e-6);
  EXPECT_DOUBLE_EQ(r.link_latency_s, 5e-6);
  r = resolve(load_topology("fattree"), 16, 0, 10e-6);
  EXPECT_DOUBLE_EQ(r.link_latency_s, 5e-6);
  r = resolve(load_topology("torus"), 27, 0, 10e-6);
  EXPECT_DOUBLE_EQ(r.link_latency_s, 10e-6);
  EXPECT_EQ(r.torus_dims, (std::vector<int>{3, 3, 3}));
}

TEST(Topology, UnknownTypeIsRefused) {
  const auto e = error_of([] { spec(R"({"type":"hypercube","bandwidth":"1Gbps","latency":"1us"})"); });
  EXPECT_NE(e.find("t.json: type: expected one of star|fattree|torus|dragonfly"), std::string::npos) << e;
  EXPECT_NE(error_of([] { load_topology("no-such-topology"); }).find("expected a type, a preset"), std::string::npos);
}

TEST(Topology, BandwidthNeedsAUnitAndASign) {
  auto e = error_of([] { spec(R"({"type":"star","bandwidth":"100","latency":"1us"})"); });
  EXPECT_NE(e.find("t.json: bandwidth"), std::string::npos) << e;
  e = error_of([] { spec(R"({"type":"star","bandwidth":"-5Gbps","latency":"1us"})"); });
  EXPECT_NE(e.find("positive"), std::string::npos) << e;
  e = error_of([] { spec(R"({"type":"star","bandwidth":100,"latency":"1us"})"); });
  EXPECT_NE(e.find("bandwidth"), std::string::npos) << e;
  e = error_of([] { spec(R"({"type":"star","bandwidth":"1Gbps","latency":"1us","colour":"red"})"); });
  EXPECT_NE(e.find("colour: unknown key"), std::string::npos) << e;
}

TEST(Topology, NodeCountMustFitTheShape) {
  auto s = spec(R"({"type":"torus","bandwidth":"1Gbps","latency":"1us","torus":{"dims":[4,4]}})");
  EXPECT_NO_THROW(resolve(s, 16));
  EXPECT_NE(error_of([&] { resolve(s, 20); }).find("torus 4x4 has 16 nodes, got --nodes 20"), std::string::npos);
  s = spec(R"({"type":"fattree","bandwidth":"1Gbps","latency":"1us","fattree":{"hosts_per_leaf":8}})");
  EXPECT_NE(error_of([&] { resolve(s, 12); }).find("multiple of 8"), std::string::npos);
  s = spec(R"({"type":"star","nodes":8,"bandwidth":"1Gbps","latency":"1us"})");
  EXPECT_NE(error_of([&] { resolve(s, 16); }).find("only with 8 nodes"), std::string::npos);
  EXPECT_THROW(resolve(load_topology("dragonfly-72"), 64), std::invalid_argument);
}

TEST(Topology, DragonflyThatCrashesSimGridIsRefused) {
  // 4,1;2,1;2,1;4 segfaults SimGrid 3.32 (routers per chassis < groups): refused with a reason.
  const auto s = spec(R"({"type":"dragonfly","bandwidth":"1Gbps","latency":"1us",
      "dragonfly":{"groups":[4,1],"chassis":[2,1],"routers":[2,1],"nodes_per_router":4}})");
  const auto e = error_of([&] { resolve(s, 64); });
  EXPECT_NE(e.find("routers per chassis (2) >= groups (4)"), std::string::npos) << e;
}

TEST(Topology, HierarchicalNodesRouteIntraNodeOverNvlink) {
  const auto v = arcsim::testing::forked([] {
    new_engine();
    const auto p = build_platform(resolve(load_topology("dgx-8gpu"), 4));
    const auto intra = route(p, 0, 1), inter = route(p, 0, 8);
    return std::vector<double>{intra.bottleneck_Bps, inter.bottleneck_Bps, intra.latency_s, inter.latency_s};
  });
  EXPECT_DOUBLE_EQ(v[0], 3600e9 / 8);  // NVLink
  EXPECT_DOUBLE_EQ(v[1], 200e9 / 8);   // one NIC
  EXPECT_NEAR(v[2], 1e-6, 1e-15);
  EXPECT_NEAR(v[3], 2e-6, 1e-15);
}
