// More bandwidth never makes anything slower: every algorithm, every profile, star and fat-tree.
#include <gtest/gtest.h>

#include "common/forked.hpp"
#include "sim/collective.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;

namespace {

void check(const std::string& profile, const std::string& topo, int nodes = 16) {
  const double bws[] = {1.25e8, 1.25e9, 3.125e9, 12.5e9, 50e9};
  struct Case { CollectiveOp op; const char* alg; double bytes; };
  const Case cases[] = {{CollectiveOp::allreduce, "ring", 1 << 24},  {CollectiveOp::allreduce, "tree", 1 << 24},
                        {CollectiveOp::allreduce, "rabenseifner", 1 << 20}, {CollectiveOp::allgather, "bruck", 1 << 22},
                        {CollectiveOp::allgather, "ring", 1 << 16}, {CollectiveOp::allreduce, "auto", 1 << 12}};
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
TEST(Monotone, IdealDgx) { check("ideal", "dgx-8gpu", 4); }
TEST(Monotone, NcclDgx) { check("nccl", "dgx-8gpu", 4); }
