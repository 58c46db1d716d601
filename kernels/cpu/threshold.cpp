// Threshold-estimator primitives of the fast CPU backend (kernels/cpu/fast.hpp). The moment sums
// use the reference's chunked tree with the chunks in parallel; counts and maxima are
// order-free; select_above writes each block's ascending run at its prefix offset. So every
// result equals the reference's bit for bit, for any thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"
#include "kernels/threshold_math.hpp"
#include "kernels/threshold_sums.hpp"

namespace arcsim::kernels::cpu {

namespace {
constexpr std::size_t kParallelMin = std::size_t{1} << 15;
constexpr std::size_t kBlock = std::size_t{1} << 16;  // select_above's blocks
}  // namespace

ValueMoments value_moments(const float* x, std::size_t n) {
  const thr::Sums<3> s = thr::chunked_sums<3>(n, n > kParallelMin, [&](std::size_t i, double* t) {
    const double v = x[i];
    t[0] = v;
    t[1] = v * v;
    t[2] = std::fabs(v);
  });
  ValueMoments m;
  m.sum = s[0];
  m.sum_sq = s[1];
  m.sum_abs = s[2];
  float mx = 0.0f;
#pragma omp parallel for reduction(max : mx) schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, std::fabs(x[i]));
  m.max_abs = mx;
  return m;
}

ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) {
  const thr::Sums<3> s = thr::chunked_sums<3>(n, n > kParallelMin, [&](std::size_t i, double* term) {
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
  ExceedanceMoments m;
  m.count = count_above(x, n, t);
  m.sum = s[0];
  m.sum_sq = s[1];
  m.sum_log = s[2];
  return m;
}

std::uint64_t count_above(const float* x, std::size_t n, float t) {
  std::uint64_t c = 0;
#pragma omp parallel for reduction(+ : c) schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) c += std::fabs(x[i]) > t;
  return c;
}

std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out) {
  if (n <= kParallelMin) return kernels::select_above(x, n, t, idx_out);
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::size_t> count(blocks + 1, 0);
#pragma omp parallel for schedule(static)
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    std::size_t c = 0;
    for (std::size_t i = lo; i < hi; ++i) c += std::fabs(x[i]) > t;
    count[b + 1] = c;
  }
  for (std::size_t b = 0; b < blocks; ++b) count[b + 1] += count[b];
#pragma omp parallel for schedule(static)
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    std::size_t o = count[b];
    for (std::size_t i = lo; i < hi; ++i)
      if (std::fabs(x[i]) > t) idx_out[o++] = static_cast<std::uint32_t>(i);
  }
  return count[blocks];
}

void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out) {
  if (m <= kParallelMin / 8 || n == 0 || n > 0xffffffffull || worker >= thr::kMaxSampleWorkers)
    return kernels::sample_magnitudes(x, n, m, seed, step, tensor, worker, out);  // small, or its errors
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < m; ++i)
    out[i] = std::fabs(x[thr::sample_position(i, static_cast<std::uint32_t>(n), seed, step, tensor, worker)]);
}

void scale(const float* x, std::size_t n, float s, float* out) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) out[i] = s * x[i];
}

}  // namespace arcsim::kernels::cpu
