// Element-wise, gather / scatter and Rand-K kernels of the fast CPU backend (kernels/cpu/fast.hpp).
// Each output element is computed by exactly one thread with the reference's formula (one
// rounding), so the bits equal the reference's for any thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels::cpu {

namespace {
constexpr std::size_t kParallelMin = std::size_t{1} << 15;

// Strictly ascending indices are distinct, so their writes may go in any order.
bool strictly_ascending(const std::uint32_t* idx, std::size_t k) {
  bool ok = true;
#pragma omp parallel for reduction(&& : ok) schedule(static) if (k > kParallelMin)
  for (std::size_t i = 1; i < k; ++i) ok = ok && idx[i - 1] < idx[i];
  return ok;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void momentum_range(float* h, const float* g, std::size_t lo, std::size_t hi, float eta, float keep) {
  for (std::size_t i = lo; i < hi; ++i) h[i] = std::fma(eta, g[i], keep * h[i]);
}
// Rand-K in lanes: the Feistel rounds of 16 indices run side by side (32-bit integer ops, so they
// vectorise); each lane keeps walking until its value falls in [0, n), exactly the reference's
// cycle walk per index (kernels::randk_permute), so every index is the reference's.
constexpr std::size_t kRandkLanes = 16;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void randk_block(std::uint32_t first, std::size_t count, std::uint32_t n, const std::uint32_t keys[kFeistelRounds],
                 std::uint32_t* out) {
  const unsigned bits = n <= 1 ? 0u : static_cast<unsigned>(32 - __builtin_clz(n - 1));
  const unsigned h = std::max(1u, (bits + 1) / 2);  // half width: the domain is 2^(2h) >= n
  const std::uint32_t mask = (h >= 32) ? 0xffffffffu : ((1u << h) - 1u);
  std::uint32_t v[kRandkLanes], res[kRandkLanes] = {};
  bool done[kRandkLanes];
  for (std::size_t l = 0; l < kRandkLanes; ++l) {
    v[l] = first + static_cast<std::uint32_t>(l);
    done[l] = l >= count;
  }
  for (;;) {
    for (std::size_t l = 0; l < kRandkLanes; ++l) {
      std::uint32_t left = v[l] >> h, right = v[l] & mask;
      for (int round = 0; round < kFeistelRounds; ++round) {
        const std::uint32_t f = kernels::randk_mix(right ^ keys[round]) & mask;
        const std::uint32_t next = left ^ f;
        left = right;
        right = next;
      }
      v[l] = (left << h) | right;
    }
    bool all = true;
    for (std::size_t l = 0; l < kRandkLanes; ++l) {
      if (!done[l] && v[l] < n) {
        res[l] = v[l];
        done[l] = true;
      }
      all = all && done[l];
    }
    if (all) break;
  }
  for (std::size_t l = 0; l < count; ++l) out[l] = res[l];
}

}  // namespace

void ef_add(const float* g, const float* e, std::size_t n, float* u) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) u[i] = g[i] + e[i];
}

void ef_sub(const float* g, const float* e, std::size_t n, float* d) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) d[i] = g[i] - e[i];
}

void ef14_residual(const float* u, const float* c, std::size_t n, float* e) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) e[i] = u[i] - c[i];
}

void ef_accumulate(float* e, const float* c, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) e[i] += c[i];
}

void momentum_update(float* h, const float* g, std::size_t n, float eta) {
  const float keep = 1.0f - eta;
  const int T = n > kParallelMin ? omp_get_max_threads() : 1;
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c)
    momentum_range(h, g, n * static_cast<std::size_t>(c) / static_cast<std::size_t>(T),
                   n * static_cast<std::size_t>(c + 1) / static_cast<std::size_t>(T), eta, keep);
}

void divide(float* x, std::size_t n, int workers) {
  const auto w = static_cast<float>(workers);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) x[i] /= w;
}

void zero(float* x, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) x[i] = 0.0f;
}

void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
#pragma omp parallel for schedule(static) if (k > kParallelMin)
  for (std::size_t i = 0; i < k; ++i) dst[i] = src[idx[i]];
}

namespace {
// Indices in any order, repeats allowed (Rand-K's permutation order): every thread reads all of
// them and applies, in index order, the writes that land in its own destinations (every T-th
// 64-byte block), so each destination sees its writes in the sequential order: the same bits.
// About 1.4x the sequential loop on 2 threads for random indices into a large bucket.
template <class Apply>
void scatter_by_owner(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Apply apply) {
#pragma omp parallel
  {
    const auto T = static_cast<std::uint32_t>(omp_get_num_threads());
    const auto me = static_cast<std::uint32_t>(omp_get_thread_num());
    for (std::size_t i = 0; i < k; ++i)
      if ((idx[i] >> 4) % T == me) apply(dst[idx[i]], src[i]);
  }
}
}  // namespace

void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
  if (k <= kParallelMin) {
    for (std::size_t i = 0; i < k; ++i) dst[idx[i]] = src[i];
  } else if (strictly_ascending(idx, k)) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < k; ++i) dst[idx[i]] = src[i];
  } else {
    scatter_by_owner(src, idx, k, dst, [](float& d, float v) { d = v; });
  }
}

void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) {
  if (k <= kParallelMin) {
    for (std::size_t i = 0; i < k; ++i) dst[idx[i]] += src[i];
  } else if (strictly_ascending(idx, k)) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < k; ++i) dst[idx[i]] += src[i];
  } else {
    scatter_by_owner(src, idx, k, dst, [](float& d, float v) { d += v; });
  }
}

void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) {
#pragma omp parallel for schedule(static) if (k * m > kParallelMin)
  for (std::size_t i = 0; i < k; ++i)
    std::memcpy(dst + i * m, src + static_cast<std::size_t>(rows[i]) * m, m * sizeof(float));
}

void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) {
  if (k * m > kParallelMin && strictly_ascending(rows, k)) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < k; ++i)
      std::memcpy(dst + static_cast<std::size_t>(rows[i]) * m, src + i * m, m * sizeof(float));
  } else {
    kernels::scatter_rows(src, m, rows, k, dst);
  }
}

void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out) {
  if (k > n) throw std::invalid_argument("randk_indices: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (n > 0xffffffffull) throw std::invalid_argument("randk_indices: n >= 2^32");
  std::uint32_t keys[kFeistelRounds];
  randk_keys(seed, step, tensor, keys);
  const auto n32 = static_cast<std::uint32_t>(n);
  // out[i] depends on i alone: any split over threads gives the same bits.
  const std::size_t blocks = (k + kRandkLanes - 1) / kRandkLanes;
#pragma omp parallel for schedule(static) if (k > 4096)
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t lo = b * kRandkLanes;
    randk_block(static_cast<std::uint32_t>(lo), std::min(kRandkLanes, k - lo), n32, keys, out + lo);
  }
}

void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) h[i] = std::fma(beta, h[i], g[i]);
}

}  // namespace arcsim::kernels::cpu
