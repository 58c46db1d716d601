#pragma once
// The compressors' input check: every gradient finite. One vectorized pass (exponent bits, no
// branch per element); only when it fails is the first bad element searched for the message.
#include <cstddef>

namespace arcsim::kernels {

// Throws std::invalid_argument "grads: expected finite values, got X at worker W, element I
// (NaN/Inf are rejected)" for the first non-finite g[i].
void require_finite(const float* g, std::size_t n, int worker);

}  // namespace arcsim::kernels
