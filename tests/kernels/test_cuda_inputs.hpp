#pragma once
// Property-test inputs shared by the CUDA backend tests: the sizes and the "unfriendly"
// distributions of the kernel tests (normal, uniform, all-equal, +-0, denormals, low-entropy: only 12
// random low bits, as AIR Top-K's benchmark), generated deterministically from a seed.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace arcsim::testing {

inline const std::vector<std::size_t>& property_sizes() {
  static const std::vector<std::size_t> s = {0, 1, 2, 31, 32, 33, 1023, 1024, 1025, (1u << 20) + 7};
  return s;
}

enum class Dist { kNormal, kUniform, kAllEqual, kSignedZeros, kDenormal, kLowEntropy };

inline const std::vector<Dist>& all_dists() {
  static const std::vector<Dist> d = {Dist::kNormal,      Dist::kUniform,  Dist::kAllEqual,
                                      Dist::kSignedZeros, Dist::kDenormal, Dist::kLowEntropy};
  return d;
}

inline std::string dist_name(Dist d) {
  switch (d) {
    case Dist::kNormal: return "normal";
    case Dist::kUniform: return "uniform";
    case Dist::kAllEqual: return "all-equal";
    case Dist::kSignedZeros: return "signed-zeros";
    case Dist::kDenormal: return "denormal";
    case Dist::kLowEntropy: return "low-entropy";
  }
  return "?";
}

inline std::vector<float> make_input(std::size_t n, Dist d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> x(n);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) {
    switch (d) {
      case Dist::kNormal: x[i] = normal(rng); break;
      case Dist::kUniform: x[i] = uni(rng); break;
      case Dist::kAllEqual: x[i] = (i % 2) ? 0.5f : -0.5f; break;  // equal magnitudes, both signs
      case Dist::kSignedZeros: x[i] = (rng() % 3 == 0) ? uni(rng) : ((rng() & 1) ? 0.0f : -0.0f); break;
      case Dist::kDenormal: {
        const auto mant = static_cast<std::uint32_t>(rng() % 0x7fffffu) + 1u;  // nonzero subnormal
        x[i] = std::bit_cast<float>(mant | ((rng() & 1) ? 0x80000000u : 0u));
        break;
      }
      case Dist::kLowEntropy: {
        const auto bits = static_cast<std::uint32_t>(rng() & 0xfffu);  // 12 random low bits
        x[i] = std::bit_cast<float>(0x3f800000u | bits | ((rng() & 1) ? 0x80000000u : 0u));
        break;
      }
    }
  }
  return x;
}

// k in {1, random in [1, n], n} (only those that exist for this n).
inline std::vector<std::size_t> ks_for(std::size_t n, std::uint64_t seed) {
  if (n == 0) return {0};
  std::vector<std::size_t> ks = {1};
  std::mt19937_64 rng(seed);
  const std::size_t mid = 1 + rng() % n;
  if (mid != 1 && mid != n) ks.push_back(mid);
  if (n != 1) ks.push_back(n);
  return ks;
}

}  // namespace arcsim::testing
