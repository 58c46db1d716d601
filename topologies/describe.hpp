#pragma once
// A summary of a built platform for `arcsim topology show`: hosts, links, and the hop counts and
// latencies of routes (all pairs up to 128 ranks, else from rank 0 and between ring neighbours).
#include <nlohmann/json.hpp>

#include "topologies/builder.hpp"

namespace arcsim::topo {

nlohmann::json describe(const Platform& p);

}  // namespace arcsim::topo
