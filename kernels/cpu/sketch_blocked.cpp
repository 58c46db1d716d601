// The blocked sketch and row scores of the fast CPU backend (kernels/cpu/fast.hpp).
//
// Why blocking and not a different summation order: every P[i, c] must be the fmaf chain over
// ascending j from +0 to stay bit-identical to the reference (and to the CUDA kernel). A single
// row is one dependency chain per c, latency-bound; 8 rows advanced together give 8 r independent
// chains, which fill the FMA pipes while each row of G is still streamed once, in order.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels::cpu {

namespace {

constexpr std::size_t kRowBlock = 8;

template <int R, std::size_t B>
[[gnu::always_inline]] inline void block_rows(const float* G, std::size_t m, const float* V, float* P) {
  float acc[B][R] = {};
  for (std::size_t j = 0; j < m; ++j) {
    const float* v = V + j * R;
    for (std::size_t b = 0; b < B; ++b) {
      const float g = G[b * m + j];
      for (int c = 0; c < R; ++c) acc[b][c] = std::fma(g, v[c], acc[b][c]);
    }
  }
  for (std::size_t b = 0; b < B; ++b)
    for (int c = 0; c < R; ++c) P[b * R + c] = acc[b][c];
}

template <int R>
[[gnu::always_inline]] inline void rows_fixed(const float* G, std::size_t n, std::size_t m, const float* V, float* P) {
  std::size_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock) block_rows<R, kRowBlock>(G + i * m, m, V, P + i * R);
  for (; i < n; ++i) block_rows<R, 1>(G + i * m, m, V, P + i * R);
}

// Any rank: one row at a time, the reference loop.
[[gnu::always_inline]] inline void rows_any(const float* G, std::size_t n, std::size_t m, std::size_t r,
                                            const float* V, float* P) {
  for (std::size_t i = 0; i < n; ++i) {
    float* p = P + i * r;
    for (std::size_t c = 0; c < r; ++c) p[c] = 0.0f;
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t c = 0; c < r; ++c) p[c] = std::fma(G[i * m + j], V[j * r + c], p[c]);
  }
}

// Cloned for FMA hardware: std::fma is correctly rounded either way (same bits), but without the
// clone every fma is a libm call.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void sketch_rows(const float* G, std::size_t n, std::size_t m, int r, const float* V, float* P) {
  switch (r) {
    case 1: rows_fixed<1>(G, n, m, V, P); break;
    case 2: rows_fixed<2>(G, n, m, V, P); break;
    case 3: rows_fixed<3>(G, n, m, V, P); break;
    case 4: rows_fixed<4>(G, n, m, V, P); break;
    case 8: rows_fixed<8>(G, n, m, V, P); break;
    default: rows_any(G, n, m, static_cast<std::size_t>(r), V, P);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void scores_rows(const float* P, std::size_t lo, std::size_t hi, std::size_t r, float* scores) {
  for (std::size_t i = lo; i < hi; ++i) {
    float acc = 0.0f;
    for (std::size_t c = 0; c < r; ++c) acc = std::fma(P[i * r + c], P[i * r + c], acc);
    scores[i] = acc;
  }
}

}  // namespace

void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
            std::uint32_t tensor, float* P) {
  if (r <= 0) throw std::invalid_argument("sketch: rank r must be >= 1, got " + std::to_string(r));
  std::vector<float> V(m * static_cast<std::size_t>(r));
  kernels::sketch_matrix(m, r, seed, step, tensor, V.data());
  const std::size_t rr = static_cast<std::size_t>(r);
  // 64-row tiles over the threads (rows are independent: no bit depends on the split).
  constexpr std::size_t kTile = 64;
  const std::size_t tiles = (n + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (n * m > 65536)
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t b = t * kTile;
    sketch_rows(G + b * m, std::min(kTile, n - b), m, r, V.data(), P + b * rr);
  }
}

void row_scores(const float* P, std::size_t n, std::size_t r, float* scores) {
  const int T = n * r > 65536 ? omp_get_max_threads() : 1;
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c)
    scores_rows(P, n * static_cast<std::size_t>(c) / static_cast<std::size_t>(T),
                n * static_cast<std::size_t>(c + 1) / static_cast<std::size_t>(T), r, scores);
}

// PowerSGD's products (fast.hpp). P = M Q is the sketch with a given Q in place of the generated
// V, so it runs the same blocked rows; the reconstruction P Q^T (inner size r, c = m outputs per
// row) goes through the same path, which falls back to the reference's row loop for widths
// other than 1, 2, 3, 4, 8; wider outputs (c > 8) run the reference's row loop on tiles of rows.
void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) {
  if (c == 0) return;
  constexpr std::size_t kTile = 64;
  if (c > 8) {  // the reconstruction P Q^T: the reference's streaming row loop, rows over the threads
    const std::size_t tiles = (n + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (n * c > 65536)
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t b = t * kTile;
      kernels::matmul_right(A + b * k, std::min(kTile, n - b), k, B, c, C + b * c);
    }
    return;
  }
  const std::size_t tiles = (n + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (n * k > 65536)
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t b = t * kTile;
    sketch_rows(A + b * k, std::min(kTile, n - b), k, static_cast<int>(c), B, C + b * c);
  }
}

void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) {
  const int T = n * m > 65536 ? omp_get_max_threads() : 1;
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int t = 0; t < T; ++t) {
    const std::size_t lo = m * static_cast<std::size_t>(t) / static_cast<std::size_t>(T);
    const std::size_t hi = m * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(T);
    for (std::size_t x = lo * c; x < hi * c; ++x) C[x] = 0.0f;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = lo; j < hi; ++j) {
        const float a = A[i * m + j];
        for (std::size_t q = 0; q < c; ++q) C[j * c + q] = std::fma(a, B[i * c + q], C[j * c + q]);
      }
  }
}

}  // namespace arcsim::kernels::cpu
