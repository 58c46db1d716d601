// The `gloo` profile (sim/gloo_model.hpp, sim/gloo_run.cpp): on a star the simulation equals the
// closed form of gloo's algorithms; the fit recovers the constants that made a benchmark; the
// algorithms gloo does not have are refused; the topology's "gloo" section round-trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/forked.hpp"
#include "sim/collective.hpp"
#include "sim/gloo_model.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;
using arcsim::testing::forked;
namespace gloo = arcsim::sim::gloo;

namespace {

// A star whose gloo costs are far from the defaults, so that a test sees them used; with `burst`,
// links with a 16 KiB token bucket (the testbed's).
std::string topology_file(bool burst = false) {
  const auto path = std::filesystem::temp_directory_path() /
                    (burst ? "arcsim-test-gloo-star-burst.json" : "arcsim-test-gloo-star.json");
  std::ofstream(path) << R"({"format": "arcsim-topology/1", "name": "gloo-star", "type": "star",
    "bandwidth": "1Gbps", "latency": "30us",
    "gloo": {"call_overhead": "400us", "message_overhead": "700us", "ring_efficiency": 0.6,
             "direct_efficiency": 0.5, "binomial_efficiency": 0.8)"
                      << (burst ? R"(, "burst": "16KiB")" : "") << "}}";
  return path.string();
}

// [simulated, closed form] in a child process (one SimGrid engine per process).
std::vector<double> run(CollectiveOp op, const std::string& alg, int p, double bytes, bool burst = false) {
  const std::string topo = topology_file(burst);
  return forked([=] {
    NetworkConfig net{topo, p, 0, -1, "gloo", alg};
    const auto r = arcsim::sim::simulate_collective(net, op, bytes);
    return std::vector<double>{r.simulated_s, r.closed_form_s ? *r.closed_form_s : NAN};
  });
}

}  // namespace

TEST(GlooProfile, SimulationEqualsTheClosedFormOnAStar) {
  struct Case { CollectiveOp op; const char* alg; };
  const Case cases[] = {{CollectiveOp::allreduce, "auto"},  {CollectiveOp::allreduce, "ring"},
                        {CollectiveOp::allgather, "auto"},  {CollectiveOp::broadcast, "auto"},
                        {CollectiveOp::reduce_scatter, "auto"}};
  for (bool burst : {false, true})
    for (const auto& c : cases)
      for (int p : {2, 3, 4, 8})
        for (double bytes : {64.0, 65536.0, 8388608.0}) {
          const auto v = run(c.op, c.alg, p, bytes, burst);
          ASSERT_TRUE(std::isfinite(v[1]));
          // Both regimes: the message cost (small sizes) and the bytes (large) bound the steps.
          EXPECT_NEAR(v[0] / v[1], 1.0, 1e-6) << arcsim::sim::to_string(c.op) << "/" << c.alg << " p=" << p
                                              << " bytes=" << bytes << " burst=" << burst;
        }
}

TEST(GlooProfile, CostsComeFromTheTopology) {
  // 8 MiB all-gathered at 4 ranks through a 1 Gbit/s ring at efficiency 0.6: 3 steps of 2 MiB.
  const auto v = run(CollectiveOp::allgather, "auto", 4, 8388608.0);
  const double step = std::max(2 * 700e-6, 30e-6 + 2097152.0 / (125e6 * 0.6));
  EXPECT_NEAR(v[0] / (400e-6 + 3 * step), 1.0, 1e-6);  // bytes are whole in the simulation
}

// 1 when simulating (profile, algorithm) throws std::invalid_argument naming `needle`, else 0.
double refused(const std::string& topo, const std::string& profile, const std::string& alg, const std::string& needle) {
  return forked([=] {
    try {
      arcsim::sim::simulate_collective(NetworkConfig{topo, 4, 1e9, 1e-5, profile, alg}, CollectiveOp::allreduce, 1e6);
    } catch (const std::invalid_argument& e) {
      return std::vector<double>{std::string(e.what()).find(needle) != std::string::npos ? 1.0 : 0.0};
    }
    return std::vector<double>{0.0};
  })[0];
}

TEST(GlooProfile, RefusesAlgorithmsGlooDoesNotHave) {
  EXPECT_EQ(refused(topology_file(), "gloo", "tree", "for allreduce expected auto|ordered|ring"), 1.0);
  EXPECT_EQ(refused("star", "nccl", "ordered", "exists in the gloo profile only"), 1.0);
}

TEST(GlooFit, RecoversTheConstantsOfASyntheticBenchmark) {
  gloo::Costs truth;
  truth.call_s = 300e-6;
  truth.message_s = 450e-6;
  truth.efficiency[0] = 0.62, truth.efficiency[1] = 0.5, truth.efficiency[2] = 0.81;
  truth.burst_bytes = 16384;  // a tbf bucket, as the testbed's links have
  const int p = 4;
  const double B = 125e6, lat = 30e-6;
  std::vector<gloo::Sample> samples;
  for (auto call : {gloo::Call::ring_allreduce, gloo::Call::ring_allgather, gloo::Call::direct_alltoall,
                    gloo::Call::binomial_broadcast})
    for (double bytes = 32; bytes <= 2097152; bytes *= 4)
      samples.push_back({call, bytes, gloo::seconds(gloo::part(call, p, bytes), truth, lat, B)});
  const auto got = gloo::fit(samples, p, lat, B, truth.burst_bytes);
  EXPECT_NEAR(got.call_s, truth.call_s, 30e-6);  // message_s's grid step trades against it
  EXPECT_NEAR(got.message_s / truth.message_s, 1.0, 0.03);  // the grid's step is 5 %
  for (int k = 0; k < gloo::kPatterns; ++k) EXPECT_NEAR(got.efficiency[k], truth.efficiency[k], 0.006) << k;
  for (const auto& s : samples)
    EXPECT_NEAR(gloo::seconds(gloo::part(s.call, p, s.bytes), got, lat, B) / s.seconds, 1.0, 0.05);
}

TEST(GlooFit, NeedsThreePoints) {
  EXPECT_THROW(gloo::fit({{gloo::Call::ring_allgather, 64, 1e-3}}, 2, 1e-5, 1e8), std::invalid_argument);
}

TEST(GlooProfile, TheTokenBucketSpeedsUpOnlyTheFirstStep) {
  // 1 MiB per rank gathered at 4 ranks: 3 ring steps, bound by their bytes (14 ms against 1.4 ms
  // of messages); the bucket takes 16 KiB off the first.
  const double plain = run(CollectiveOp::allgather, "auto", 4, 4 * 1048576.0)[0];
  const double burst = run(CollectiveOp::allgather, "auto", 4, 4 * 1048576.0, true)[0];
  EXPECT_NEAR(plain - burst, 16384 / (125e6 * 0.6), 1e-8);  // wire bytes are whole
}

TEST(GlooTopology, SectionRoundTripsAndIsChecked) {
  auto spec = arcsim::topo::load_topology(topology_file(true));
  EXPECT_DOUBLE_EQ(spec.gloo_burst_bytes, 16384);
  EXPECT_DOUBLE_EQ(spec.gloo_message_s, 700e-6);
  EXPECT_DOUBLE_EQ(spec.gloo_efficiency[1], 0.5);
  const auto back = arcsim::topo::parse_topology(arcsim::topo::topology_to_json(spec), "round trip");
  EXPECT_DOUBLE_EQ(back.gloo_call_s, spec.gloo_call_s);
  EXPECT_DOUBLE_EQ(back.gloo_efficiency[2], 0.8);
  EXPECT_DOUBLE_EQ(back.gloo_burst_bytes, 16384);
  const auto costs = gloo::costs_of(back);
  EXPECT_DOUBLE_EQ(costs.efficiency_of(gloo::Pattern::direct), 0.5);
  auto bad = arcsim::topo::topology_to_json(spec);
  bad["gloo"]["ring_efficiency"] = 1.5;
  try {
    arcsim::topo::parse_topology(bad, "t.json");
    FAIL() << "efficiency 1.5 accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("ring_efficiency"), std::string::npos) << e.what();
  }
}
