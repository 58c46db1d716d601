// More bandwidth never makes anything slower: every algorithm, every profile, star and fat-tree.
#include <gtest/gtest.h>

#include <span>

#include "common/forked.hpp"
#include "sim/collective.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;

namespace {

struct Case { CollectiveOp op; const char* alg; double bytes; };
const Case kCases[] = {{CollectiveOp::allreduce, "ring", 1 << 24},  {CollectiveOp::allreduce, "tree", 1 << 24},
                       {CollectiveOp::allreduce, "rabenseifner", 1 << 20}, {CollectiveOp::allgather, "bruck", 1 << 22},
                       {CollectiveOp::allgather, "ring", 1 << 16}, {CollectiveOp::allreduce, "auto", 1 << 12}};
// gloo's own algorithms (the profile refuses the others).
const Case kGlooCases[] = {{CollectiveOp::allreduce, "auto", 1 << 24}, {CollectiveOp::allreduce, "ring", 1 << 20},
                           {CollectiveOp::allgather, "auto", 1 << 16}, {CollectiveOp::broadcast, "auto", 1 << 22},
                           {CollectiveOp::reduce_scatter, "auto", 1 << 12}};

void check(const std::string& profile, const std::string& topo, int nodes = 16, std::span<const Case> cases = kCases) {
  const double bws[] = {1.25e8, 1.25e9, 3.125e9, 12.5e9, 50e9};
  for (const auto& c : cases) {
    double prev = 1e300;
    for (double bw : bws) {
      const double t = arcsim::testing::forked1([&] {
        NetworkConfig net{topo, nodes, bw, 5e-6, profile, c.alg};
        return arcsim::sim::simulate_collective(net, c.op, c.bytes).simulated_s;
      });
      ASSERT_TRUE(t > 0) << c.alg;
      EXPECT_LE(t, prev * (1 + 1e-12)) << profile << " " << topo << " " << c.alg << " bw=" << bw;
      prev = t;
    }
  }
}

}  // namespace

TEST(Monotone, IdealStar) { check("ideal", "star"); }
TEST(Monotone, IdealFatTree) { check("ideal", "fattree"); }
TEST(Monotone, NcclStar) { check("nccl", "star"); }
TEST(Monotone, TcpStar) { check("tcp", "star"); }
TEST(Monotone, GlooStar) { check("gloo", "star", 8, kGlooCases); }
TEST(Monotone, GlooFatTree) { check("gloo", "fattree", 8, kGlooCases); }
TEST(Monotone, IdealDgx) { check("ideal", "dgx-8gpu", 4); }
TEST(Monotone, NcclDgx) { check("nccl", "dgx-8gpu", 4); }
