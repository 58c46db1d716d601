#pragma once
// Input generators for the kernel property tests: the distributions that break selection code
// (kernels.md section 5: AIR "unfriendly" low-entropy bits, CUB entropy, +-0, denormals, ties).
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace arcsim::kernels::testing {

enum class Dist { kNormal, kUniform, kAllEqual, kSignedZeros, kDenormal, kLowEntropy };
inline const char* dist_name(Dist d) {
  switch (d) {
    case Dist::kNormal: return "normal";
    case Dist::kUniform: return "uniform";
    case Dist::kAllEqual: return "all_equal";
    case Dist::kSignedZeros: return "signed_zeros";
    case Dist::kDenormal: return "denormal";
    default: return "low_entropy";
  }
}
inline const Dist kAllDists[] = {Dist::kNormal, Dist::kUniform, Dist::kAllEqual,
                                 Dist::kSignedZeros, Dist::kDenormal, Dist::kLowEntropy};

inline std::vector<float> make_input(Dist d, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<float> x(n);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) {
    switch (d) {
      case Dist::kNormal: x[i] = normal(g); break;
      case Dist::kUniform: x[i] = uniform(g); break;
      case Dist::kAllEqual: x[i] = (i % 2) ? -0.5f : 0.5f; break;  // equal magnitudes, both signs
      case Dist::kSignedZeros: x[i] = (g() % 3 == 0) ? ((g() & 1) ? 1.0f : -1.0f) : ((g() & 1) ? 0.0f : -0.0f); break;
      case Dist::kDenormal: {
        std::uint32_t bits = static_cast<std::uint32_t>(g()) & 0x807fffffu;  // exponent 0: denormal or zero
        std::memcpy(&x[i], &bits, 4);
        break;
      }
      default: {  // 12 random low bits under a fixed high part: many near-ties in the top digits
        std::uint32_t bits = 0x3f800000u | (static_cast<std::uint32_t>(g()) & 0xfffu) | (static_cast<std::uint32_t>(g() & 1) << 31);
        std::memcpy(&x[i], &bits, 4);
      }
    }
  }
  return x;
}

inline std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

}  // namespace arcsim::kernels::testing
