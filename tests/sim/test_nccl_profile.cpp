// The `nccl` profile against NCCL all-reduce measured on tc-shaped Ethernet
// (BinhangYuan/tc_cluster_setting results/allreduce.md): every row
// within 5 %. The same table, with the errors, is in docs/simulator.md.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/forked.hpp"
#include "sim/collective.hpp"
#include "sim/nccl_flows.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;

namespace {

struct Row { double gbps, latency_s, mib; int nodes; double measured_ms; };
const Row kRows[] = {
    {1, 10e-3, 128, 4, 1669}, {1, 10e-3, 128, 8, 1940}, {1, 10e-3, 128, 16, 2076},
    {1, 10e-3, 256, 4, 3298}, {1, 10e-3, 256, 8, 3841}, {1, 10e-3, 256, 16, 4114},
    {2, 5e-3, 256, 4, 1650},  {2, 5e-3, 256, 8, 1921},  {2, 5e-3, 256, 16, 2057},
    {5, 1e-3, 128, 4, 329},   {5, 1e-3, 128, 8, 383},   {5, 1e-3, 128, 16, 410},
    {5, 1e-3, 256, 4, 655},   {5, 1e-3, 256, 8, 763},   {5, 1e-3, 256, 16, 817},
};

// One row's all-reduce, simulated in a forked child on `topology` (bandwidth_Bps 0: the topology's).
double simulated_s(const std::string& topology, double bandwidth_Bps, const Row& r) {
  return arcsim::testing::forked1([&] {
    NetworkConfig net{topology, r.nodes, bandwidth_Bps, r.latency_s, "nccl", "auto"};
    return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, r.mib * 1048576).simulated_s;
  });
}

}  // namespace

TEST(NcclProfile, TcShapedEthernetTableWithinFivePercent) {
  double worst = 0;
  for (const auto& r : kRows) {
    const double t = simulated_s("star", r.gbps * 1e9 / 8, r);
    const double err = t * 1e3 / r.measured_ms - 1;
    std::printf("%g Gb/s %g ms %g MiB %2d nodes: measured %6.0f ms, simulated %7.1f ms, %+.2f %%\n", r.gbps,
                r.latency_s * 1e3, r.mib, r.nodes, r.measured_ms, t * 1e3, 100 * err);
    EXPECT_LT(std::abs(err), 0.05);
    worst = std::max(worst, std::abs(err));
  }
  std::printf("worst |error| %.2f %%\n", 100 * worst);
}

// The same table as a prediction: the one free constant (the NIC's achieved share of its line rate,
// 0.978 in the default above, fitted on all 15 rows) is fitted on the 4-node rows alone and the 8-
// and 16-node rows are then predicted with it.
TEST(NcclProfile, TcShapedEfficiencyFittedOnFourNodesPredictsLargerClusters) {
  char dir_template[] = "/tmp/arcsim-tc-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/tc.json";
  auto simulate = [&](const Row& r, double eff) {
    char body[512];
    std::snprintf(body, sizeof body,
                  "{\"format\": \"arcsim-topology/1\", \"name\": \"tc\", \"type\": \"star\", \"bandwidth\": \"%gGbps\", "
                  "\"latency\": \"%gms\", \"nccl\": {\"nic_achievable\": \"%.9gGbps\"}}",
                  r.gbps, r.latency_s * 1e3, r.gbps * eff);
    arcsim::io::write_file_atomic(path, body);
    return simulated_s(path, 0, r);
  };
  // Each 4-node row's time is affine in 1 / efficiency (the wire bytes scale with it): two runs give
  // it, then a golden-section search on the log error of the 4-node rows gives the efficiency.
  struct Affine { double a, b, measured_s; };
  std::vector<Affine> fit_rows;
  for (const auto& r : kRows)
    if (r.nodes == 4) {
      const double t1 = simulate(r, 1.0), t2 = simulate(r, 0.5);
      fit_rows.push_back({2 * t1 - t2, t2 - t1, r.measured_ms * 1e-3});
    }
  ASSERT_EQ(fit_rows.size(), 5u);
  auto cost = [&](double eff) {
    double c = 0;
    for (const auto& f : fit_rows) c += std::pow(std::log((f.a + f.b / eff) / f.measured_s), 2);
    return c;
  };
  double lo = 0.5, hi = 1.0;
  for (int i = 0; i < 60; ++i) {
    const double m1 = lo + (hi - lo) * 0.382, m2 = lo + (hi - lo) * 0.618;
    if (cost(m1) < cost(m2)) hi = m2;
    else lo = m1;
  }
  const double eff = (lo + hi) / 2;
  std::printf("efficiency fitted on the 4-node rows: %.4f\n", eff);
  // The affine form holds: the first 4-node row simulated at the fitted efficiency.
  EXPECT_NEAR(simulate(kRows[0], eff) / (fit_rows[0].a + fit_rows[0].b / eff), 1.0, 1e-6);
  double worst = 0;
  for (const auto& r : kRows) {
    if (r.nodes == 4) continue;
    const double err = simulate(r, eff) * 1e3 / r.measured_ms - 1;
    std::printf("%g Gb/s %g ms %g MiB %2d nodes: predicted %+.2f %%\n", r.gbps, r.latency_s * 1e3, r.mib, r.nodes,
                100 * err);
    EXPECT_LT(std::abs(err), 0.05);
    worst = std::max(worst, std::abs(err));
  }
  std::printf("checked rows (8 and 16 nodes, never fitted on): worst |error| %.2f %%\n", 100 * worst);
  std::filesystem::remove_all(dir);
}

TEST(NcclProfile, PipeliningHidesLatencyThatIdealCharges) {
  // At 10 ms per message the alpha-beta ring charges 2(p-1) latencies; NCCL's chunk pipeline does not.
  auto run = [](const char* profile) {
    return arcsim::testing::forked1([=] {
      NetworkConfig net{"star", 16, 1.25e8, 10e-3, profile, "ring"};
      return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, 256.0 * 1048576).simulated_s;
    });
  };
  const double ideal = run("ideal"), nccl = run("nccl");
  EXPECT_GT(ideal - nccl, 0.15);  // 30 x 10 ms = 0.3 s of latency, minus the pipeline's fill
}

TEST(NcclProfile, SmallMessagesUseLowLatencyProtocols) {
  const auto r = arcsim::testing::forked([] {
    NetworkConfig net{"star", 8, 12.5e9, 2e-6, "nccl", "auto"};
    const auto small = arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, 4096);
    return std::vector<double>{small.protocol == "LL" ? 1.0 : 0.0, small.simulated_s};
  });
  EXPECT_EQ(r[0], 1.0);
  EXPECT_LT(r[1], 200e-6);
}

// NCCL's rings over multi-GPU nodes: every rank once per channel, every NIC the same number of
// channels, and a bus bandwidth that does not depend on the number of servers (unlike the
// hierarchical variant, which gets faster with fewer servers).
TEST(NcclRings, ChannelsVisitEveryRankAndBalanceTheNics) {
  for (const char* preset : {"dgx-a100", "p4d", "pcie-8gpu"}) {
    const auto y = arcsim::sim::nccl::system_of(arcsim::topo::resolve(arcsim::topo::load_topology(preset), 3));
    std::vector<int> out(y.nodes * y.nics, 0), in(y.nodes * y.nics, 0);
    for (int c = 0; c < y.channels(); ++c) {
      auto o = arcsim::sim::nccl::ring_order(y, c);
      std::vector<int> seen(y.ranks(), 0);
      for (int r : o) ++seen[r];
      for (int v : seen) EXPECT_EQ(v, 1) << preset;
      for (int i = 0; i < y.ranks(); ++i) {
        const int a = o[i], b = o[(i + 1) % y.ranks()];
        if (a / y.gpus == b / y.gpus) continue;
        ++out[(a / y.gpus) * y.nics + (a % y.gpus) % y.nics];
        ++in[(b / y.gpus) * y.nics + (b % y.gpus) % y.nics];
      }
    }
    for (int k = 0; k < y.nodes * y.nics; ++k) {
      EXPECT_EQ(out[k], 2) << preset << " NIC " << k;
      EXPECT_EQ(in[k], 2) << preset << " NIC " << k;
    }
  }
}

TEST(NcclRings, BusBandwidthDoesNotDependOnServers) {
  auto busbw = [](const char* alg, const char* profile, int nodes) {
    return arcsim::testing::forked1([=] {
      NetworkConfig net{"dgx-a100", nodes, 0, -1, profile, alg};
      net.protocol = std::string(profile) == "nccl" ? "Simple" : "auto";
      const double S = 4294967296.0;
      const auto r = arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, S);
      const int p = 8 * nodes;
      return S / r.simulated_s * 2.0 * (p - 1) / p / 1e9;
    });
  };
  const double two = busbw("ring", "nccl", 2), sixteen = busbw("ring", "nccl", 16);
  EXPECT_NEAR(two, 8 * 24.0, 8 * 24.0 * 0.03);  // 8 NICs x 24 GB/s achievable
  EXPECT_GT(sixteen / two, 0.95);
  // The hierarchical variant is what got faster with fewer servers.
  EXPECT_GT(busbw("hier-ring", "ideal", 2) / busbw("hier-ring", "ideal", 16), 1.3);
}

TEST(NcclTrees, DoubleBinaryTreeLoadsEveryNodeTwiceFromFourNodes) {
  EXPECT_DOUBLE_EQ(arcsim::sim::nccl::tree_max_node_load(2, 1.0), 1.0);
  for (int n : {4, 8, 13, 32, 64}) EXPECT_DOUBLE_EQ(arcsim::sim::nccl::tree_max_node_load(n, 1.0), 2.0) << n;
  for (int n : {2, 5, 8, 64}) {
    const auto a = arcsim::sim::nccl::btree(n), b = arcsim::sim::nccl::dtree_second(n);
    int roots = 0;
    for (int r = 0; r < n; ++r) {
      roots += a.parent[r] < 0;
      EXPECT_LE(a.children[r].size(), 2u);
      EXPECT_LE(b.children[r].size(), 2u);
    }
    EXPECT_EQ(roots, 1);
  }
}
