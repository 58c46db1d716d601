#pragma once
// The `gloo` profile's collectives: gloo's own algorithms (sim/gloo_model.hpp) run message by
// message on the platform, with the topology's gloo costs.
#include "sim/collective.hpp"

namespace arcsim::sim {

// The algorithm gloo runs for `call` (`auto`: what arcsim.distributed runs); throws
// std::invalid_argument for an algorithm gloo does not have or a node with several GPUs.
ResolvedCall gloo_resolve(const Context& ctx, const CollectiveCall& call);

// This rank's part of a resolved gloo call.
void gloo_run(Context& ctx, int rank, const ResolvedCall& rc);

}  // namespace arcsim::sim
