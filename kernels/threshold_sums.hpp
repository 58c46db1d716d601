#pragma once
// The chunked-tree summation of kernels/threshold_math.hpp on the host, for K sums at once. Used
// by the reference primitives (sequential) and the fast CPU backend (chunks in parallel): both
// give the same bits, since each chunk's sum is a pure function of its terms and the chunk sums
// are combined in the same fixed tree.
#include <array>
#include <cstddef>
#include <vector>

#include "kernels/threshold_math.hpp"

namespace arcsim::thr {

template <std::size_t K>
using Sums = std::array<double, K>;

// One chunk of up to kSumChunk terms, term(j, out) writing position j's K terms (j < len).
template <std::size_t K, class Term>
Sums<K> chunk_sum(std::size_t len, Term&& term) {
  double lane[K][kSumLanes] = {};
  double t[K];
  for (unsigned r = 0; r < kSumPerLane; ++r)
    for (unsigned l = 0; l < kSumLanes; ++l) {
      const std::size_t j = static_cast<std::size_t>(r) * kSumLanes + l;
      if (j >= len) break;
      term(j, t);
      for (std::size_t q = 0; q < K; ++q) lane[q][l] += t[q];
    }
  for (unsigned s = kSumLanes / 2; s >= 1; s /= 2)
    for (unsigned l = 0; l < s; ++l)
      for (std::size_t q = 0; q < K; ++q) lane[q][l] += lane[q][l + s];
  Sums<K> out;
  for (std::size_t q = 0; q < K; ++q) out[q] = lane[q][0];
  return out;
}

// Sums of the chunk sums, level by level, until one is left.
template <std::size_t K>
Sums<K> combine_levels(std::vector<Sums<K>> level) {
  if (level.empty()) return Sums<K>{};
  while (level.size() > 1) {
    std::vector<Sums<K>> next((level.size() + kSumChunk - 1) / kSumChunk);
    for (std::size_t c = 0; c < next.size(); ++c) {
      const std::size_t lo = c * kSumChunk, len = std::min<std::size_t>(kSumChunk, level.size() - lo);
      next[c] = chunk_sum<K>(len, [&](std::size_t j, double* t) {
        for (std::size_t q = 0; q < K; ++q) t[q] = level[lo + j][q];
      });
    }
    level.swap(next);
  }
  return level[0];
}

// The K sums over positions [0, n): term(i, out) writes position i's K terms. `parallel` splits the
// chunks over OpenMP threads (the result does not depend on it).
template <std::size_t K, class Term>
Sums<K> chunked_sums(std::size_t n, bool parallel, Term&& term) {
  const std::size_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<Sums<K>> level(chunks);
#pragma omp parallel for schedule(static) if (parallel && chunks > 8)
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t lo = c * kSumChunk, len = std::min<std::size_t>(kSumChunk, n - lo);
    level[c] = chunk_sum<K>(len, [&](std::size_t j, double* t) { term(lo + j, t); });
  }
  return combine_levels<K>(std::move(level));
}

}  // namespace arcsim::thr
