#pragma once
// The compute profile the iteration model runs (`arcsim-compute/1`): the one type, reader and
// writer of common/compute_profile.hpp, named in sim's namespace.
#include "common/compute_profile.hpp"

namespace arcsim::sim {

using compute::ComputeProfile;
using compute::load_compute_profile;
using compute::parse_compute_profile;
using LayerProfile = compute::LayerTime;

}  // namespace arcsim::sim
