#pragma once
// Inputs of the threshold-estimator tests: normal and heavy-tailed (Laplace, Student-t with 3
// degrees of freedom) gradients, from mt19937_64 bits through explicit transforms (no
// std::*_distribution, whose algorithms differ between standard libraries).
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace arcsim::kernels::testing {

enum class Tail { kNormal, kLaplace, kStudentT3 };
inline const char* tail_name(Tail t) {
  return t == Tail::kNormal ? "normal" : t == Tail::kLaplace ? "laplace" : "student_t3";
}
inline const Tail kAllTails[] = {Tail::kNormal, Tail::kLaplace, Tail::kStudentT3};

class TailSource {
 public:
  explicit TailSource(std::uint64_t seed) : g_(seed) {}
  double uniform() { return (static_cast<double>(g_() >> 11) + 0.5) / 9007199254740992.0; }  // (0, 1)
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double draw(Tail t) {
    switch (t) {
      case Tail::kNormal: return normal();
      case Tail::kLaplace: {
        const double u = uniform() - 0.5;
        return (u < 0 ? 1.0 : -1.0) * std::log(1.0 - 2.0 * std::fabs(u));
      }
      default: {
        const double a = normal(), b = normal(), c = normal(), z = normal();
        return z / std::sqrt((a * a + b * b + c * c) / 3.0);
      }
    }
  }

 private:
  std::mt19937_64 g_;
};

inline std::vector<float> tail_input(Tail t, std::size_t n, std::uint64_t seed, double scale = 1e-3) {
  TailSource s(seed);
  std::vector<float> x(n);
  for (auto& v : x) v = static_cast<float>(scale * s.draw(t));
  return x;
}

}  // namespace arcsim::kernels::testing
