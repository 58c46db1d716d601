// One host of several GPUs (nodes 1) over each intra-host transport, and NCCL's channel count:
// the transport's latency row and protocols in the nccl model, the socket transport resolving to
// one NCCL node per GPU on one machine, and fewer channels carrying proportionally less.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/forked.hpp"
#include "sim/collective.hpp"
#include "sim/nccl_model.hpp"
#include "topologies/topology.hpp"

using arcsim::sim::CollectiveOp;
namespace nccl = arcsim::sim::nccl;
namespace topo = arcsim::topo;

namespace {

topo::TopologySpec host(const std::string& transport, int gpus = 4, int channels = 0) {
  nlohmann::json j = {{"format", "arcsim-topology/1"}, {"name", "host-" + transport}, {"type", "star"},
                      {"bandwidth", "100Gbps"}, {"latency", "5us"},
                      {"node", {{"gpus", gpus}, {"transport", transport}}},
                      {"nccl", {{"gpu_arch", "ampere"}}}};
  if (channels > 0) j["nccl"]["channels"] = channels;
  return topo::parse_topology(j, "host.json");
}

nccl::System sys_of(const topo::TopologySpec& s, int nodes = 1) { return nccl::system_of(topo::resolve(s, nodes)); }

}  // namespace

TEST(OneHost, TransportsTakeTheirRowsDefaults) {
  const topo::TopologySpec p2p = host("pcie-p2p"), shm = host("shm"), nvl = host("nvlink");
  EXPECT_EQ(p2p.transport, topo::Transport::pcie_p2p);
  EXPECT_DOUBLE_EQ(p2p.intra_bandwidth_Bps, 31.5e9);
  EXPECT_DOUBLE_EQ(p2p.intra_achievable_Bps, 24e9);
  EXPECT_DOUBLE_EQ(shm.intra_achievable_Bps, 24e9);
  EXPECT_DOUBLE_EQ(nvl.intra_achievable_Bps, 0);  // NCCL achieves the given NVLink rate
  // A given rate wins over the row's.
  nlohmann::json j = topo::topology_to_json(p2p);
  j["node"]["intra_bandwidth"] = "200Gbps";
  j["nccl"].erase("intra_achievable");
  EXPECT_DOUBLE_EQ(topo::parse_topology(j, "x.json").intra_bandwidth_Bps, 25e9);
  // Round trip keeps the transport.
  EXPECT_EQ(topo::parse_topology(topo::topology_to_json(shm), "y.json").transport, topo::Transport::shm);
}

TEST(OneHost, UnknownTransportIsOneLineNamingTheField) {
  nlohmann::json j = topo::topology_to_json(host("shm"));
  j["node"]["transport"] = "infiniband";
  try {
    topo::parse_topology(j, "t.json");
    FAIL();
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("t.json: node.transport"), std::string::npos) << m;
    EXPECT_NE(m.find("nvlink|pcie-p2p|shm|socket"), std::string::npos) << m;
  }
}

TEST(OneHost, PcieAndShmUseNcclsPciRowAndNoLL128) {
  const nccl::System nvl = sys_of(host("nvlink")), pci = sys_of(host("pcie-p2p"));
  EXPECT_TRUE(nvl.ll128);
  EXPECT_FALSE(pci.ll128);
  // tuning.cc: ring LL all-reduce on one node of 4 = base 6.6 + 2 x 3 steps x hwLat (NVLINK 0.6, PCI 1.0).
  EXPECT_NEAR(nccl::latency_s(CollectiveOp::allreduce, "ring", nccl::LL, nvl), (6.6 + 6 * 0.6) * 1e-6, 1e-12);
  EXPECT_NEAR(nccl::latency_s(CollectiveOp::allreduce, "ring", nccl::LL, pci), (6.6 + 6 * 1.0) * 1e-6, 1e-12);
  for (double bytes : {1e3, 1e5, 1e7, 1e9})
    EXPECT_NE(nccl::choose(CollectiveOp::allreduce, "auto", "auto", bytes, pci).proto, nccl::LL128) << bytes;
  // One node crosses no network: its latency is the node's own, not the NIC's.
  EXPECT_DOUBLE_EQ(pci.alpha_s, 1e-6);
}

TEST(OneHost, SocketIsOneNcclNodePerGpuOnOneMachine) {
  const topo::Resolved r = topo::resolve(host("socket"), 1);
  EXPECT_EQ(r.hosts, 1);
  EXPECT_EQ(r.nodes, 4);
  EXPECT_EQ(r.ranks, 4);
  EXPECT_EQ(r.transport, "socket");
  const nccl::System y = nccl::system_of(r);
  EXPECT_EQ(y.gpus, 1);
  EXPECT_FALSE(y.ll128);
  EXPECT_DOUBLE_EQ(y.nic_line_Bps, 1.25e9);  // NCCL's default for lo, not the topology's 100 Gb/s NIC
  // NET row: with one GPU per node a ring step costs the tree's NET latency (tuning.cc).
  EXPECT_NEAR(nccl::latency_s(CollectiveOp::allreduce, "ring", nccl::LL, y), (6.6 + 6 * 5.0) * 1e-6, 1e-12);
  EXPECT_THROW(topo::resolve(host("socket"), 2), std::invalid_argument);
  const std::string file = ::testing::TempDir() + "/one-host-socket.json";
  std::ofstream(file) << topo::topology_to_json(host("socket")).dump();
  const auto res = arcsim::testing::forked1([file] {
    arcsim::sim::NetworkConfig net{file, 1, 0, -1, "nccl", "auto"};
    const auto c = arcsim::sim::simulate_collective(net, CollectiveOp::allreduce, 1e8);
    return c.nodes * 1000 + c.ranks;
  });
  EXPECT_EQ(res, 1004);
}

TEST(OneHost, EveryTransportReportsItsNameAndOneGpuNodesReportNone) {
  for (const auto& row : topo::transports()) EXPECT_EQ(topo::resolve(host(row.name), 1).transport, row.name);
  EXPECT_EQ(topo::resolve(topo::load_topology("star"), 4).transport, "none");
}

TEST(NcclChannels, OneChannelCarriesNcclsPerChannelSpeedMoreCannotExceedTheLinks) {
  // PCIe P2P (24 GB/s): one channel (up to 40 GB/s, NCCL's fastest per-channel search speed) carries it all.
  const nccl::System d = sys_of(host("pcie-p2p")), one = sys_of(host("pcie-p2p", 4, 1));
  EXPECT_EQ(d.channels(), 2);
  EXPECT_EQ(one.channels(), 1);
  EXPECT_DOUBLE_EQ(one.intra_Bps, d.intra_Bps);
  // NVLink (300 GB/s): one channel carries 40 GB/s, 4 carry 160, 16 the links' 300.
  const nccl::System nv1 = sys_of(host("nvlink", 4, 1)), nv4 = sys_of(host("nvlink", 4, 4)),
                     nv16 = sys_of(host("nvlink", 4, 16)), nvd = sys_of(host("nvlink"));
  EXPECT_DOUBLE_EQ(nv1.intra_Bps, 40e9);
  EXPECT_DOUBLE_EQ(nv4.intra_Bps, 160e9);
  EXPECT_DOUBLE_EQ(nv16.intra_Bps, nvd.intra_Bps);
  const double big = 1e9;
  const double t_d = nccl::predict(CollectiveOp::allreduce, "ring", nccl::Simple, big, nvd);
  const double t_1 = nccl::predict(CollectiveOp::allreduce, "ring", nccl::Simple, big, nv1);
  EXPECT_NEAR(t_1 / t_d, 300.0 / 40.0, 0.05);
  // Ring Simple has no per-channel cap: more channels than the links need change nothing. (Trees
  // and LL128 have NCCL's per-channel caps, which more channels lift.)
  EXPECT_NEAR(nccl::predict(CollectiveOp::allreduce, "ring", nccl::Simple, big, nv16), t_d, 1e-9 * t_d);
  // The per-channel caps multiply the search graph's channels (half the runtime ones).
  EXPECT_DOUBLE_EQ(one.graph_channels(), 0.5);
  EXPECT_DOUBLE_EQ(nccl::busbw_cap_Bps(CollectiveOp::allreduce, "ring", nccl::LL128, nv16), 8 * 20.0e9);
  nlohmann::json j = topo::topology_to_json(host("shm", 4, 3));
  EXPECT_EQ(j["nccl"]["channels"], 3);
  j["nccl"]["channels"] = 65;
  EXPECT_THROW(topo::parse_topology(j, "c.json"), std::exception);
}
