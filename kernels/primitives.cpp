// CPU reference implementations of kernels/primitives.hpp. Written for clarity first: they are
// the oracle the CUDA backend is tested against. OpenMP only where the result cannot depend on it
// (independent outputs per row / element).
#include "kernels/primitives.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/philox.hpp"

namespace arcsim::kernels {

std::uint32_t magnitude_key(float x) { return std::bit_cast<std::uint32_t>(x) & 0x7fffffffu; }

void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out) {
  if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (k == 0) return;
  std::vector<std::uint32_t> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = magnitude_key(x[i]);
  // The k-th largest key is the threshold; everything above it is in, and of the elements equal
  // to it the lowest indices fill the remaining slots.
  std::vector<std::uint32_t> scratch(keys);
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k - 1), scratch.end(),
                   std::greater<std::uint32_t>());
  const std::uint32_t threshold = scratch[k - 1];
  std::size_t above = 0;
  for (std::uint32_t key : keys) above += key > threshold;
  std::size_t ties_left = k - above, out = 0;
  for (std::size_t i = 0; i < n && out < k; ++i) {
    if (keys[i] > threshold || (keys[i] == threshold && ties_left > 0)) {
      if (keys[i] == threshold) --ties_left;
      idx_out[out++] = static_cast<std::uint32_t>(i);
    }
  }
}

void topk_rows(const float* scores, std::size_t n_rows, std::size_t k, std::uint32_t* idx_out) {
  topk_magnitude(scores, n_rows, k, idx_out);
}

void sketch_matrix(std::size_t m, int r, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   float* V) {
  const std::size_t total = m * static_cast<std::size_t>(r);
  // Pairs share one Philox call; generating both halves at once halves the work.
#pragma omp parallel for schedule(static) if (total > 65536)
  for (std::size_t p = 0; p < (total + 1) / 2; ++p) {
    float z0, z1;
    const std::uint64_t flat = 2 * static_cast<std::uint64_t>(p);
    rng::gaussian_pair(seed, static_cast<std::uint32_t>(flat >> 1), tensor, step,
                       rng::kStreamSketch ^ static_cast<std::uint32_t>(flat >> 33), z0, z1);
    V[2 * p] = z0;
    if (2 * p + 1 < total) V[2 * p + 1] = z1;
  }
}

namespace {
// One row of the sketch. Cloned for x86 FMA hardware: std::fma is correctly rounded either way, so
// the bits are the same, but without the clone every fma is a libm call.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("fma", "default")))
#endif
void sketch_rows(const float* G, std::size_t n, std::size_t m, std::size_t rr, const float* V, float* P) {
  for (std::size_t i = 0; i < n; ++i) {
    const float* g = G + i * m;
    float* p = P + i * rr;
    for (std::size_t c = 0; c < rr; ++c) p[c] = 0.0f;
    for (std::size_t j = 0; j < m; ++j) {
      const float gij = g[j];
      const float* v = V + j * rr;
      for (std::size_t c = 0; c < rr; ++c) p[c] = std::fma(gij, v[c], p[c]);
    }
  }
}
}  // namespace

void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
            std::uint32_t tensor, float* P) {
  if (r <= 0) throw std::invalid_argument("sketch: rank r must be >= 1, got " + std::to_string(r));
  std::vector<float> V(m * static_cast<std::size_t>(r));
  sketch_matrix(m, r, seed, step, tensor, V.data());
  const std::size_t rr = static_cast<std::size_t>(r);
  // Rows are independent, so splitting them over threads cannot change any bit.
  constexpr std::size_t kBlock = 64;
#pragma omp parallel for schedule(static) if (n * m > 65536)
  for (std::size_t b = 0; b < n; b += kBlock)
    sketch_rows(G + b * m, std::min(kBlock, n - b), m, rr, V.data(), P + b * rr);
}

void row_scores(const float* P, std::size_t n, std::size_t r, float* scores) {
#pragma omp parallel for schedule(static) if (n * r > 65536)
  for (std::size_t i = 0; i < n; ++i) {
    float acc = 0.0f;
    for (std::size_t c = 0; c < r; ++c) acc = std::fma(P[i * r + c], P[i * r + c], acc);
    scores[i] = acc;
  }
}

void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) {
  for (std::size_t i = 0; i < k; ++i)
    std::memcpy(dst + i * m, src + static_cast<std::size_t>(rows[i]) * m, m * sizeof(float));
}

void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) {
  for (std::size_t i = 0; i < k; ++i)
    std::memcpy(dst + static_cast<std::size_t>(rows[i]) * m, src + i * m, m * sizeof(float));
}

void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
  for (std::size_t i = 0; i < k; ++i) dst[i] = src[idx[i]];
}

void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
  for (std::size_t i = 0; i < k; ++i) dst[idx[i]] = src[i];
}

void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
  for (std::size_t i = 0; i < k; ++i) dst[idx[i]] += src[i];
}

void randk_keys(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor, std::uint32_t keys[kFeistelRounds]) {
  for (std::uint32_t c = 0; c < kFeistelRounds / 4; ++c) {
    const rng::U32x4 r = rng::philox4x32(rng::U32x4{{step, tensor, c, rng::kStreamRandK}}, seed);
    for (int j = 0; j < 4; ++j) keys[4 * c + j] = r.v[j];
  }
}

namespace {
// Half width h of the Feistel domain (2h bits) that covers [0, n).
unsigned feistel_half_bits(std::uint32_t n) {
  const unsigned bits = n <= 1 ? 0u : static_cast<unsigned>(std::bit_width(n - 1));
  return std::max(1u, (bits + 1) / 2);
}
}  // namespace

std::uint32_t randk_permute(std::uint32_t i, std::uint32_t n, const std::uint32_t keys[kFeistelRounds]) {
  const unsigned h = feistel_half_bits(n);
  const std::uint64_t mask = (std::uint64_t{1} << h) - 1;
  std::uint64_t v = i;
  // Cycle walking: the Feistel network permutes [0, 2^(2h)); re-applying it until the value lands
  // in [0, n) restricts it to a permutation of [0, n). 2^(2h) < 4n, so fewer than 4 walks expected.
  do {
    std::uint64_t left = v >> h, right = v & mask;
    for (int round = 0; round < kFeistelRounds; ++round) {
      const std::uint64_t f = randk_mix(static_cast<std::uint32_t>(right) ^ keys[round]) & mask;
      const std::uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    v = (left << h) | right;
  } while (v >= n);
  return static_cast<std::uint32_t>(v);
}

void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out) {
  if (k > n) throw std::invalid_argument("randk_indices: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (n > 0xffffffffull) throw std::invalid_argument("randk_indices: n >= 2^32");
  std::uint32_t keys[kFeistelRounds];
  randk_keys(seed, step, tensor, keys);
  const auto n32 = static_cast<std::uint32_t>(n);
  for (std::size_t i = 0; i < k; ++i) out[i] = randk_permute(static_cast<std::uint32_t>(i), n32, keys);
  std::sort(out, out + k);
}

void ef_add(const float* g, const float* e, std::size_t n, float* u) {
  for (std::size_t i = 0; i < n; ++i) u[i] = g[i] + e[i];
}

void ef_sub(const float* g, const float* e, std::size_t n, float* d) {
  for (std::size_t i = 0; i < n; ++i) d[i] = g[i] - e[i];
}

std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (magnitude_key(x[i]) >= key) idx_out[count++] = static_cast<std::uint32_t>(i);
  return count;
}

void ef14_residual(const float* u, const float* c, std::size_t n, float* e) {
  for (std::size_t i = 0; i < n; ++i) e[i] = u[i] - c[i];
}

void ef_accumulate(float* e, const float* c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) e[i] += c[i];
}

void momentum_update(float* h, const float* g, std::size_t n, float eta) {
  const float keep = 1.0f - eta;
  for (std::size_t i = 0; i < n; ++i) h[i] = std::fma(eta, g[i], keep * h[i]);
}

void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) {
  for (std::size_t i = 0; i < n; ++i) h[i] = std::fma(beta, h[i], g[i]);
}

}  // namespace arcsim::kernels
