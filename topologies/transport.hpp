#pragma once
// How the GPUs of one node reach each other (topology `node.transport`), as NCCL chooses it:
//   nvlink    P2P over NVLink / NVSwitch
//   pcie-p2p  P2P over PCIe (GPUs under one PCIe switch, or NCCL_P2P_LEVEL allowing the CPU)
//   shm       staged through host memory (NCCL_P2P_DISABLE=1, or GPUs across the CPU root complex)
//   socket    NCCL's socket transport over loopback (NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1
//             NCCL_SOCKET_IFNAME=lo): every GPU is its own NCCL node on the network row
// One row per transport: NCCL's latency row for it, whether NCCL enables LL128 on it, and the
// defaults (with their sources) a topology gets when it does not give `intra_bandwidth`,
// `intra_achievable` or `intra_latency`. The sources are in docs/nccl-intra-host.md.
#include <span>
#include <string>

namespace arcsim::topo {

enum class Transport { nvlink, pcie_p2p, shm, socket };
// NCCL's hwLat rows (tuning.cc): NVLINK, PCI (P2P over PCIe and SHM), NET (sockets).
enum class NcclHwRow { nvlink, pci, net };

struct TransportRow {
  Transport transport;
  const char* name;
  NcclHwRow hw_row;
  bool ll128;                 // tuning.cc enables LL128 by default only on NVLink paths
  double line_Bps;            // default node.intra_bandwidth, per GPU and direction
  double achievable_Bps;      // default nccl.intra_achievable
  double latency_s;           // default node.intra_latency
  const char* source;         // where the defaults come from
};

std::span<const TransportRow> transports();
const TransportRow& transport_row(Transport t);
// "nvlink|pcie-p2p|shm|socket" -> Transport; throws std::invalid_argument naming the choices.
Transport parse_transport(const std::string& name);
std::string transport_choices();

}  // namespace arcsim::topo
