// Element-wise, gather / scatter and Rand-K kernels of the fast CPU backend (kernels/cpu/fast.hpp).
// Each output element is computed by exactly one thread with the reference's formula (one
// rounding), so the bits equal the reference's for any thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels::cpu {

namespace {
constexpr std::size_t kParallelMin = std::size_t{1} << 15;

// Strictly ascending indices are distinct, so their writes may go in any order.
bool strictly_ascending(const std::uint32_t* idx, std::size_t k) {
  std::uint32_t bad = 0;  // no early exit: the loop vectorizes
#pragma omp parallel for simd reduction(| : bad) schedule(static) if (k > kParallelMin)
  for (std::size_t i = 1; i < k; ++i) bad |= static_cast<std::uint32_t>(idx[i - 1] >= idx[i]);
  return bad == 0;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void momentum_range(float* h, const float* g, std::size_t lo, std::size_t hi, float eta, float keep) {
  for (std::size_t i = lo; i < hi; ++i) h[i] = std::fma(eta, g[i], keep * h[i]);
}
// Rand-K in lanes: the Feistel rounds of 16 indices run side by side (32-bit integer ops, so they
// vectorise); each lane keeps walking until its value falls in [0, n), exactly the reference's
// cycle walk per index (kernels::randk_permute), so every value is the reference's. A lane whose
// value lands takes the next index at once: the domain is up to 4x n, so a walk takes one to
// several passes of the network, and a block of 16 that waited for its slowest walk idled.
constexpr std::size_t kRandkLanes = 16;

// pi(i) for i in [lo, hi), written to out[0 .. hi-lo) in the order the walks end (a set: the
// callers sort it or mark it in a bitmap).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void randk_range(std::uint32_t lo, std::uint32_t hi, std::uint32_t n, const std::uint32_t keys[kFeistelRounds],
                 std::uint32_t* out) {
  const unsigned bits = n <= 1 ? 0u : static_cast<unsigned>(32 - __builtin_clz(n - 1));
  const unsigned h = std::max(1u, (bits + 1) / 2);  // half width: the domain is 2^(2h) >= n
  const std::uint32_t mask = (h >= 32) ? 0xffffffffu : ((1u << h) - 1u);
  std::uint32_t v[kRandkLanes];
  bool live[kRandkLanes];
  std::uint32_t next = lo;
  std::size_t pos = 0, lanes_live = 0;
  for (std::size_t l = 0; l < kRandkLanes; ++l) {
    live[l] = next < hi;
    v[l] = live[l] ? next++ : 0u;
    lanes_live += live[l];
  }
  while (lanes_live > 0) {
    for (std::size_t l = 0; l < kRandkLanes; ++l) {
      std::uint32_t left = v[l] >> h, right = v[l] & mask;
      for (int round = 0; round < kFeistelRounds; ++round) {
        const std::uint32_t f = kernels::randk_mix(right ^ keys[round]) & mask;
        const std::uint32_t nxt = left ^ f;
        left = right;
        right = nxt;
      }
      v[l] = (left << h) | right;
    }
    for (std::size_t l = 0; l < kRandkLanes; ++l) {
      if (!live[l] || v[l] >= n) continue;  // still walking (or idle)
      out[pos++] = v[l];
      if (next < hi) {
        v[l] = next++;
      } else {
        live[l] = false;
        --lanes_live;
      }
    }
  }
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
  if (k == 0) return;
  // pi(i) depends on i alone, and the ascending set is read from bitmaps: any split over threads
  // gives the same bits. Each thread marks the values it generates in its own bitmap of n bits (no
  // atomics; a 25 MiB bucket's is 0.8 MB, cache-resident), then each thread emits, in order, the
  // set bits of its own range of words of all the bitmaps ORed, at the offset the counts give.
  const std::size_t words = (n + 63) / 64;
  if (k < words) {  // fewer indices than bitmap words: generating and sorting them is cheaper
    randk_range(0, static_cast<std::uint32_t>(k), n32, keys, out);
    std::sort(out, out + k);
    return;
  }
  const int T = k > 4096 ? omp_get_max_threads() : 1;
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(T) * words, 0);
  std::vector<std::size_t> count(static_cast<std::size_t>(T) + 1, 0);
#pragma omp parallel num_threads(T) if (T > 1)
  {
    const auto me = static_cast<std::size_t>(omp_get_thread_num()), nt = static_cast<std::size_t>(omp_get_num_threads());
    std::uint64_t* mine = bits.data() + me * words;
    constexpr std::size_t kChunk = 4096;
    std::uint32_t v[kChunk];
    const std::size_t chunks = (k + kChunk - 1) / kChunk;
#pragma omp for schedule(static)
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t lo = c * kChunk, hi = std::min(k, lo + kChunk);
      randk_range(static_cast<std::uint32_t>(lo), static_cast<std::uint32_t>(hi), n32, keys, v);
      for (std::size_t l = 0; l < hi - lo; ++l) mine[v[l] >> 6] |= std::uint64_t{1} << (v[l] & 63);
    }
    // implicit barrier: every bitmap complete
    const std::size_t w0 = words * me / nt, w1 = words * (me + 1) / nt;
    auto word = [&](std::size_t w) {
      std::uint64_t x = 0;
      for (std::size_t t = 0; t < nt; ++t) x |= bits[t * words + w];
      return x;
    };
    std::size_t c = 0;
    for (std::size_t w = w0; w < w1; ++w) c += static_cast<std::size_t>(__builtin_popcountll(word(w)));
    count[me + 1] = c;
#pragma omp barrier
    std::size_t pos = 0;
    for (std::size_t t = 0; t <= me; ++t) pos += count[t];
    for (std::size_t w = w0; w < w1; ++w)
      for (std::uint64_t x = word(w); x; x &= x - 1)
        out[pos++] = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(x)));
  }
}

void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (std::size_t i = 0; i < n; ++i) h[i] = std::fma(beta, h[i], g[i]);
}

}  // namespace arcsim::kernels::cpu
