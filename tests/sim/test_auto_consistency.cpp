// `auto` must be what the simulation itself finds fastest: the all-reduce `auto` picks (algorithm
// and protocol, nccl profile) is within 2 % of the best of every simulated (ring, tree) x (LL,
// LL128, Simple), 1 MiB - 256 MiB: on star, ib-fattree and dgx-8gpu at 8-64 nodes, and on the
// named GPU systems (dgx-a100, dgx-h100, p4d, pcie-8gpu: NCCL's per-channel caps and tree
// correction apply there) at 3-64 nodes (3: the double binary tree moves 1.5 x bytes per node).
// At 2 nodes `auto` keeps NCCL's own choice on purpose (docs/simulator.md, `auto`).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/forked.hpp"
#include "sim/collective.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;

namespace {

double sim(const std::string& topo, int nodes, double bytes, const char* alg, const char* proto) {
  return arcsim::testing::forked1([=] {
    NetworkConfig net{topo, nodes, 0, -1, "nccl", alg};
    net.protocol = proto;
    return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, bytes).simulated_s;
  });
}

void check(const std::string& topo, const std::vector<int>& node_counts) {
  double worst = 0;
  int points = 0;
  for (int nodes : node_counts)
    for (double mib : {1.0, 4.0, 16.0, 64.0, 256.0}) {
      const double bytes = mib * 1048576;
      const double t_auto = sim(topo, nodes, bytes, "auto", "auto");
      double best = 1e300;
      std::string which;
      for (const char* a : {"ring", "tree"})
        for (const char* p : {"LL", "LL128", "Simple"}) {
          const double t = sim(topo, nodes, bytes, a, p);
          ASSERT_GT(t, 0) << a << "/" << p;
          if (t < best) best = t, which = std::string(a) + "/" + p;
        }
      const double excess = t_auto / best - 1;
      worst = std::max(worst, excess);
      ++points;
      EXPECT_LE(excess, 0.02) << topo << " " << nodes << " nodes " << mib << " MiB: auto " << t_auto
                              << " s, best " << which << " " << best << " s";
    }
  std::printf("%s: %d points, auto at most %.3f %% slower than the best simulated algorithm/protocol\n",
              topo.c_str(), points, 100 * worst);
}

}  // namespace

TEST(AutoConsistency, Star) { check("star", {8, 16, 32, 64}); }
TEST(AutoConsistency, IbFatTree) { check("ib-fattree", {8, 16, 32, 64}); }
TEST(AutoConsistency, Dgx8Gpu) { check("dgx-8gpu", {8, 16, 32, 64}); }
TEST(AutoConsistency, DgxA100) { check("dgx-a100", {3, 4, 8, 16, 32, 64}); }
TEST(AutoConsistency, DgxH100) { check("dgx-h100", {3, 4, 8, 16, 32, 64}); }
TEST(AutoConsistency, P4d) { check("p4d", {3, 4, 8, 16, 32, 64}); }
TEST(AutoConsistency, Pcie8Gpu) { check("pcie-8gpu", {3, 4, 8, 16, 32, 64}); }
