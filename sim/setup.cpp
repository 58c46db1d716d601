#include "sim/setup.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/limits.hpp"
#include "sim/collective.hpp"
#include "sim/nccl_model.hpp"

#include "topologies/builder.hpp"
#include "topologies/limits.hpp"

namespace arcsim::sim {

topo::Resolved check_network(const NetworkConfig& net) {
  parse_profile(net.profile);
  check_algorithm_name(net.algorithm);
  if (net.protocol != "auto") nccl::parse_proto(net.protocol);
  if (net.fidelity != "flow" && net.fidelity != "message")
    throw std::invalid_argument("fidelity: expected flow|message, got \"" + net.fidelity + "\"");
  if (net.nodes < 1)
    throw std::invalid_argument("nodes: expected a positive node count, got " + std::to_string(net.nodes));
  if (net.bandwidth_Bps < 0)
    throw std::invalid_argument("bandwidth: expected a positive bandwidth");
  auto spec = topo::load_topology(net.topology);
  if (net.channels < 0 || net.channels > topo::kMaxNcclChannels)
    throw std::invalid_argument("channels: expected NCCL's channel count, an integer in 1.." +
                                std::to_string(topo::kMaxNcclChannels) + ", got " + std::to_string(net.channels));
  if (net.channels > 0) spec.nccl_channels = net.channels;
  auto resolved = topo::resolve(spec, net.nodes, net.bandwidth_Bps, net.latency_s);
  check_actor_capacity(resolved.ranks);
  return resolved;
}

std::unique_ptr<Context> make_context(const NetworkConfig& net) {
  const auto resolved = check_network(net);
  auto ctx = std::make_unique<Context>();
  ctx->profile = parse_profile(net.profile);
  ctx->protocol = net.protocol;
  ctx->fidelity = net.fidelity == "message" ? Fidelity::message : Fidelity::flow;
  create_engine(ctx->profile);
  ctx->platform = topo::build_platform(resolved);
  ctx->bytes_sent.assign(ctx->platform.ranks.size(), 0.0);
  return ctx;
}

double alpha_of(const topo::Resolved& r) { return r.spec.latency_s; }

}  // namespace arcsim::sim
