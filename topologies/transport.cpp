#include "topologies/transport.hpp"

#include <stdexcept>

namespace arcsim::topo {

namespace {

constexpr double GBps = 1e9;

constexpr TransportRow kRows[] = {
    {Transport::nvlink, "nvlink", NcclHwRow::nvlink, true, 300 * GBps, 300 * GBps, 1e-6,
     "NVLink-class default (a topology should give its GPUs' NVLink rate: A100 SXM4 300 GB/s, H100 SXM5 450 GB/s "
     "per direction)"},
    {Transport::pcie_p2p, "pcie-p2p", NcclHwRow::pci, false, 31.5 * GBps, 24 * GBps, 1e-6,
     "line: PCIe 4.0 x16 per direction (16 GT/s x 16 x 128/130); achievable: NCCL's own bandwidth of a Gen4 x16 "
     "link (topo.cc width x speed / 80 = 24 GB/s), measured 25.7-25.95 GB/s all-reduce busbw on 4x RTX 4090 with "
     "P2P (tinygrad/open-gpu-kernel-modules#36)"},
    {Transport::shm, "shm", NcclHwRow::pci, false, 31.5 * GBps, 24 * GBps, 1e-6,
     "line: PCIe 4.0 x16 per direction to host memory; achievable: 24 GB/s all-reduce busbw, 4 GPUs under one NUMA "
     "node with P2P disabled, SHM/direct/direct (NVIDIA/nccl#1130)"},
    {Transport::socket, "socket", NcclHwRow::net, false, 1.25 * GBps, 1.25 * GBps, 1e-6,
     "NCCL's own assumption for an interface whose speed it cannot read, as for lo (net_socket.cc: \"Defaulting to "
     "10 Gbps\"); no measurement of NCCL sockets over loopback was found: calibrate with a single-host nccl-tests "
     "log"},
};

}  // namespace

std::span<const TransportRow> transports() { return kRows; }

const TransportRow& transport_row(Transport t) {
  for (const auto& r : kRows)
    if (r.transport == t) return r;
  throw std::logic_error("transport without a row");
}

std::string transport_choices() {
  std::string s;
  for (const auto& r : kRows) s += (s.empty() ? "" : "|") + std::string(r.name);
  return s;
}

Transport parse_transport(const std::string& name) {
  for (const auto& r : kRows)
    if (name == r.name) return r.transport;
  throw std::invalid_argument("expected " + transport_choices() + ", got \"" + name + "\"");
}

}  // namespace arcsim::topo
