// The plan's type, writer and strict reader are common/plan.hpp's. This unit pins the format's
// limits to the simulator's, so a plan the reader accepts is one the simulator can run: a change
// to either side that breaks the agreement stops the build here.
#include "sim/plan.hpp"

#include "sim/limits.hpp"
#include "topologies/limits.hpp"

namespace arcsim::sim {

static_assert(plan::kMaxWorldSize == topo::kMaxRanks,
              "a plan's world_size limit is the simulator's rank limit (docs/limits.md)");
static_assert(plan::kMaxMessageBytes == kMaxMessageBytes,
              "a plan's bytes_per_rank limit is the simulator's message limit (docs/limits.md)");

}  // namespace arcsim::sim
