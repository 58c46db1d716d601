// Hop effects as SimGrid measurements show (N = 64, S = 1e8, exact model): a ring step
// is gated by its slowest neighbour pair, so
//   fat-tree 8x8: 2(N-1)(4 l + S/(N B)) (leaf -> core -> leaf = 4 links)
//   torus 4x4x4:  2(N-1)(3 l + S/(N B)) (worst ring neighbour is 3 hops away)
// with l the per-link latency. Our --latency is the nearest-pair end-to-end latency, so l = L/2 on
// the fat-tree (host-leaf-host = 2 links) and l = L on the torus (neighbours share one link).
#include <gtest/gtest.h>

#include "common/forked.hpp"
#include "sim/collective.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;

namespace {
constexpr double kB = 12.5e9, kL = 5e-6, kS = 1e8;
constexpr int kN = 64;

double ring(const std::string& topo, int n = kN) {
  return arcsim::testing::forked1([=] {
    NetworkConfig net{topo, n, kB, kL, "ideal", "ring"};
    return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, kS).simulated_s;
  });
}
}  // namespace

TEST(TopologyEffects, StarEqualsAlphaBeta) {
  EXPECT_NEAR(ring("star"), 2.0 * (kN - 1) * (kL + kS / kN / kB), 1e-12);
}

TEST(TopologyEffects, FatTreeRingPaysFourLinks) {
  const double l = kL / 2;
  EXPECT_NEAR(ring("fattree"), 2.0 * (kN - 1) * (4 * l + kS / kN / kB), 1e-12);
}

TEST(TopologyEffects, TorusRingPaysThreeHops) {
  EXPECT_NEAR(ring("torus"), 2.0 * (kN - 1) * (3 * kL + kS / kN / kB), 1e-12);
}

TEST(TopologyEffects, OversubscribedFatTreeIsSlowerThanFullBisection) {
  // A ring on 2:1 oversubscription still fits (one flow per core uplink), so only latency-equal;
  // all-to-all-like Bruck crosses the core with many flows and must slow down.
  auto bruck = [](const std::string& topo) {
    return arcsim::testing::forked1([=] {
      NetworkConfig net{topo, 64, kB, kL, "ideal", "bruck"};
      return arcsim::sim::simulate_collective(net, CollectiveOp::allgather, 1e9).simulated_s;
    });
  };
  EXPECT_GT(bruck("ib-fattree-2to1"), 1.2 * bruck("ib-fattree"));
}

TEST(TopologyEffects, DragonflyRuns) {
  const double t = arcsim::testing::forked1([] {
    NetworkConfig net{"dragonfly-72", 72, kB, kL, "ideal", "ring"};
    return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, kS).simulated_s;
  });
  EXPECT_GT(t, 2.0 * 71 * (kL + kS / 72 / kB) * 0.999);
  EXPECT_LT(t, 2.0 * 71 * (10 * kL + kS / 72 / kB));
}
