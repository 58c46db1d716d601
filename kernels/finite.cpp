#include "kernels/finite.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace arcsim::kernels {

void require_finite(const float* g, std::size_t n, int worker) {
  std::uint32_t bad = 0;
#pragma omp parallel for simd reduction(| : bad) schedule(static) if (n > 65536)
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, g + i, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);  // exponent all ones: Inf or NaN
  }
  if (!bad) return;
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(g[i]))
      throw std::invalid_argument("grads: expected finite values, got " + std::to_string(g[i]) + " at worker " +
                                  std::to_string(worker) + ", element " + std::to_string(i) + " (NaN/Inf are rejected)");
}

}  // namespace arcsim::kernels
