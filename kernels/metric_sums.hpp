#pragma once
// Sums over a bucket of per-element double terms, for the Compressor's quality metrics (retained
// energy, relative error), in one fixed order that does not depend on the thread count: elements
// in blocks of kMetricBlock, element i of a block added to lane i % 8 of that block, a block's 8
// lanes combined pairwise ((0+1)+(2+3))+((4+5)+(6+7)), the blocks' sums added in block order.
//
// Why not a plain index-order loop: its one chain of dependent double additions ran on one core
// at about 4 cycles an element and was a quarter of a large replay's time; the lanes make it
// vectorizable and the blocks parallel, and every caller (kernels::Compressor, the worker-streamed
// replay) gets the same bits from the same terms.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace arcsim::kernels {

inline constexpr std::size_t kMetricBlock = std::size_t{1} << 14;

// S sums. fill(lo, len, t) writes the terms of elements lo .. lo+len-1 (len <= kMetricBlock)
// into t[0..S-1][0..len-1] (std::array<double*, S>&): a block at a time, so the caller's loops
// over workers and elements vectorize.
template <std::size_t S, class Fill>
std::array<double, S> metric_sums(std::size_t n, Fill fill) {
  constexpr std::size_t kLanes = 8;
  const std::size_t blocks = (n + kMetricBlock - 1) / kMetricBlock;
  std::vector<std::array<double, S>> part(blocks);
#pragma omp parallel if (blocks > 1)
  {
    std::vector<double> terms(S * (blocks ? kMetricBlock : 0));
    std::array<double*, S> t;
    for (std::size_t s = 0; s < S; ++s) t[s] = terms.data() + s * kMetricBlock;
#pragma omp for schedule(static)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t lo = b * kMetricBlock, len = lo + kMetricBlock < n ? kMetricBlock : n - lo;
      fill(lo, len, t);
      for (std::size_t s = 0; s < S; ++s) {
        double acc[kLanes] = {};
        const double* x = t[s];
        std::size_t i = 0;
        for (; i + kLanes <= len; i += kLanes)
          for (std::size_t l = 0; l < kLanes; ++l) acc[l] += x[i + l];
        for (std::size_t l = 0; i < len; ++i, ++l) acc[l] += x[i];
        part[b][s] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      }
    }
  }
  std::array<double, S> sum{};
  for (const auto& p : part)
    for (std::size_t s = 0; s < S; ++s) sum[s] += p[s];
  return sum;
}

// A block's terms from its elements' mean inputs m[0..len) (m is replaced by its squares):
// err[i] = (agg[i] - m[i])^2 when err is given, kept[i] = selected[i] ? m[i]^2 : 0 when kept is.
// agg and selected point at the block's first element.
inline void metric_terms(double* m, std::size_t len, const float* agg, double* err, const std::uint8_t* selected,
                         double* kept) {
  for (std::size_t i = 0; i < len; ++i) {
    if (err) {
      const double d = agg[i] - m[i];
      err[i] = d * d;
    }
    m[i] *= m[i];
    if (kept) kept[i] = selected[i] ? m[i] : 0.0;
  }
}

// The metrics from their sums: the retained energy kept / total (1 for a zero input), the
// relative error num / den (infinite for a zero mean and a non-zero aggregate).
inline double retained_energy(double kept, double total) { return total > 0 ? kept / total : 1.0; }
inline double relative_error(double num, double den) { return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0); }

}  // namespace arcsim::kernels
