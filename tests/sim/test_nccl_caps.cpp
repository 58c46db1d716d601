// NCCL's per-channel bandwidth caps and tree correction factor (tuning.cc) in the nccl model: the
// values by GPU generation and node count, and the flow-level simulation honouring them (it equals
// the predictor on a contention-free network, and never beats the cap).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/forked.hpp"
#include "sim/collective.hpp"
#include "sim/nccl_model.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;
using arcsim::sim::NetworkConfig;
namespace nccl = arcsim::sim::nccl;

namespace {

nccl::System sys_of(const std::string& topo, int nodes) {
  return nccl::system_of(arcsim::topo::resolve(arcsim::topo::load_topology(topo), nodes));
}

double sim(const std::string& topo, int nodes, double bytes, const char* alg, const char* proto) {
  return arcsim::testing::forked1([=] {
    NetworkConfig net{topo, nodes, 0, -1, "nccl", alg};
    net.protocol = proto;
    return arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, bytes).simulated_s;
  });
}

}  // namespace

TEST(NcclCaps, ValuesByGenerationAndNodeCount) {
  const auto h8 = sys_of("dgx-h100", 8), h2 = sys_of("dgx-h100", 2), a4 = sys_of("dgx-a100", 4);
  // 16 channels run (two per NIC), but NCCL multiplies its caps by the search graph's 8 (one per NIC).
  ASSERT_EQ(h8.channels(), 16);
  // Hopper, more than 2 nodes: ring LL128 36.7 GB/s per channel, tree 36.0, tree LL128 29.0.
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::LL128, h8), 8 * 36.7e9);
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "tree", nccl::Simple, h8), 8 * 36.0e9);
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "tree", nccl::LL128, h8), 8 * 29.0e9);
  // Ampere, 2 nodes: tree 23.6 per graph channel.
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "tree", nccl::Simple, sys_of("dgx-a100", 2)),
                   8 * 23.6e9);
  // LL across nodes: by host CPU (DGX H100 Intel, 2 nodes 39.0; DGX A100 AMD, > 2 nodes 19.0).
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::LL, h2), 39.0e9);
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::LL, a4), 19.0e9);
  // Ring Simple has no cap; a topology without a GPU generation has none at all.
  EXPECT_TRUE(std::isinf(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::Simple, h8)));
  EXPECT_TRUE(std::isinf(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::LL, sys_of("dgx-8gpu", 8))));
  // Tree correction: LL128 0.6 at 1 MiB (log2(1 MiB / 64) = 14), Simple 0.5, 1 for rings.
  EXPECT_DOUBLE_EQ(nccl::tree_correction(CollectiveOp::allreduce, "tree", nccl::LL128, 1048576), 0.6);
  EXPECT_DOUBLE_EQ(nccl::tree_correction(CollectiveOp::allreduce, "tree", nccl::Simple, 1048576), 0.5);
  EXPECT_DOUBLE_EQ(nccl::tree_correction(CollectiveOp::allreduce, "ring", nccl::Simple, 1048576), 1.0);
  EXPECT_DOUBLE_EQ(nccl::tree_correction(CollectiveOp::allreduce, "tree", nccl::Simple, 64.0 * (1 << 23)), 1.0);
}

TEST(NcclCaps, FlowSimulationHonoursTheCapsAndEqualsThePredictor) {
  // 2 DGX H100 (one leaf: no contention): ring LL is capped at 39 GB/s of bus bandwidth, far
  // below what 8 NDR NICs carry; tree LL128 at 4 MiB pays the 0.6 correction.
  const auto y = sys_of("dgx-h100", 2);
  const double bytes = 16.0 * 1048576;
  const double t_ll = sim("dgx-h100", 2, bytes, "ring", "LL");
  const double busbw = bytes / (t_ll - nccl::latency_s(CollectiveOp::allreduce, "ring", nccl::LL, y)) *
                       2.0 * (y.ranks() - 1) / y.ranks();
  EXPECT_LE(busbw, 39.0e9 * 1.001);
  EXPECT_GE(busbw, 39.0e9 * 0.98);
  EXPECT_NEAR(t_ll / nccl::estimate(CollectiveOp::allreduce, "ring", nccl::LL, bytes, y), 1.0, 0.01);
  const double t_tree = sim("dgx-h100", 2, 4.0 * 1048576, "tree", "LL128");
  EXPECT_NEAR(t_tree / nccl::estimate(CollectiveOp::allreduce, "tree", nccl::LL128, 4.0 * 1048576, y), 1.0, 0.02);
}

TEST(NcclCaps, TheTunerSeesItsSearchSpeedAndItsOwnLatencies) {
  // NCCL picks by the speed its search settles on (search.cc speedArrayInter), whatever a site's NICs
  // achieve: HDR 200 Gb/s (25 GB/s) -> 24, NDR 400 Gb/s (50 GB/s, PCIe Gen5 x16 cap 63 GB/s) -> 48,
  // 100 Gb/s EFA (12.5 GB/s) -> 12; latency constants unscaled.
  auto y = sys_of("dgx-a100", 8);
  y.nic_Bps = 10e9;  // a slow site, as a calibration would find it
  y.latency_scale = 3.0;
  const auto t = nccl::as_tuner_sees(y);
  EXPECT_DOUBLE_EQ(t.nic_Bps, 24e9);
  EXPECT_DOUBLE_EQ(t.latency_scale, 1.0);
  EXPECT_DOUBLE_EQ(nccl::as_tuner_sees(sys_of("dgx-h100", 8)).nic_Bps, 48e9);
  EXPECT_DOUBLE_EQ(nccl::as_tuner_sees(sys_of("p4d", 4)).nic_Bps, 12e9);
  // Its choice therefore does not follow the site: the slow site runs what the nominal one runs.
  const auto preset = sys_of("dgx-a100", 8);
  for (double mib : {1.0, 16.0, 256.0, 4096.0}) {
    const double b = mib * 1048576;
    const auto nominal = nccl::choose(CollectiveOp::allreduce, "auto", "auto", b, preset);
    const auto seen = nccl::choose(CollectiveOp::allreduce, "auto", "auto", b, t);
    EXPECT_EQ(seen.algorithm + nccl::proto_name(seen.proto), nominal.algorithm + nccl::proto_name(nominal.proto)) << mib;
  }
}
