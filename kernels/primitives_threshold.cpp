// Reference primitives of the threshold estimators (kernels/primitives.hpp, "Threshold
// estimators"): plain sequential loops, the oracle of the cpu and CUDA backends.
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/primitives.hpp"
#include "kernels/threshold_math.hpp"
#include "kernels/threshold_sums.hpp"

namespace arcsim::kernels {

ValueMoments value_moments(const float* x, std::size_t n) {
  const thr::Sums<3> s = thr::chunked_sums<3>(n, false, [&](std::size_t i, double* t) {
    const double v = x[i];
    t[0] = v;
    t[1] = v * v;  // exact: a float's square fits in a double
    t[2] = std::fabs(v);
  });
  ValueMoments m;
  m.sum = s[0];
  m.sum_sq = s[1];
  m.sum_abs = s[2];
  for (std::size_t i = 0; i < n; ++i) m.max_abs = std::fmax(m.max_abs, std::fabs(x[i]));
  return m;
}

ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) {
  ExceedanceMoments m;
  const thr::Sums<3> s = thr::chunked_sums<3>(n, false, [&](std::size_t i, double* term) {
    const float a = std::fabs(x[i]);
    if (a > t) {
      const float e = a - t;
      term[0] = e;
      term[1] = static_cast<double>(e) * e;
      term[2] = with_log ? thr::log_portable(e) : 0.0;
    } else {
      term[0] = term[1] = term[2] = 0.0;
    }
  });
  m.count = count_above(x, n, t);
  m.sum = s[0];
  m.sum_sq = s[1];
  m.sum_log = s[2];
  return m;
}

std::uint64_t count_above(const float* x, std::size_t n, float t) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += std::fabs(x[i]) > t;
  return c;
}

std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out) {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::fabs(x[i]) > t) idx_out[c++] = static_cast<std::uint32_t>(i);
  return c;
}

void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out) {
  if (m == 0) return;
  if (n == 0 || n > 0xffffffffull)
    throw std::invalid_argument("sample_magnitudes: expected 0 < n < 2^32, got n = " + std::to_string(n));
  if (worker >= thr::kMaxSampleWorkers)
    throw std::invalid_argument("sample_magnitudes: expected worker < 65536, got " + std::to_string(worker));
  for (std::size_t i = 0; i < m; ++i)
    out[i] = std::fabs(x[thr::sample_position(i, static_cast<std::uint32_t>(n), seed, step, tensor, worker)]);
}

void scale(const float* x, std::size_t n, float s, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = s * x[i];
}

}  // namespace arcsim::kernels
