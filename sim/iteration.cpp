#include "sim/iteration.hpp"

#include <stdexcept>

namespace arcsim::sim {

IterationBreakdown simulate_iteration(const NetworkConfig&, const Plan&, const ComputeProfile&,
                                      const IterationOptions&) {
  throw std::runtime_error("simulate_iteration: not implemented yet");
}

nlohmann::json to_json(const IterationBreakdown& b) {
  return {{"total_s", b.total_s}, {"compute_s", b.compute_s}, {"compression_s", b.compression_s},
          {"exposed_comm_s", b.exposed_comm_s}, {"comm_s", b.comm_s},
          {"bytes_per_node", b.bytes_per_node}, {"bytes_per_node_max", b.bytes_per_node_max},
          {"profile", b.profile}, {"nodes", b.nodes}, {"ranks", b.ranks},
          {"messages", b.messages}, {"topology", b.topology}, {"algorithm", b.algorithm}};
}

}  // namespace arcsim::sim
