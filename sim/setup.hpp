#pragma once
// One simulation's world: validate the network config, create the Engine with the profile's
// network model, build the topology. Everything that can be wrong with the input is checked
// before SimGrid is touched, so bad input is one clear error line, never a SimGrid abort.
#include <memory>

#include "sim/context.hpp"
#include "sim/iteration.hpp"

namespace arcsim::sim {

// Validates `net` (profile, algorithm, topology at this node count) without creating anything.
topo::Resolved check_network(const NetworkConfig& net);

// Validates, creates the Engine (once per process) and builds the platform.
std::unique_ptr<Context> make_context(const NetworkConfig& net);

// alpha of the closed forms: the end-to-end latency between two nearest nodes.
double alpha_of(const topo::Resolved& r);

}  // namespace arcsim::sim
