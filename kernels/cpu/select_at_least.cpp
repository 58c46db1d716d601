// Ok-Topk's threshold filter on the cpu backend: the input is cut into one contiguous chunk per
// thread; each thread counts its chunk, a prefix sum over the chunk counts gives each chunk's
// first output slot, and each thread writes its ascending run there. The output is therefore the
// reference's (every index with key >= threshold, ascending), whatever the thread count.
#include <omp.h>

#include <bit>
#include <vector>

#include "kernels/cpu/fast.hpp"

namespace arcsim::kernels::cpu {

namespace {
constexpr std::size_t kParallelMin = std::size_t{1} << 15;
inline std::uint32_t key_of(float x) { return std::bit_cast<std::uint32_t>(x) & 0x7fffffffu; }
}  // namespace

std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out) {
  const int T = n > kParallelMin ? omp_get_max_threads() : 1;
  if (T <= 1) {
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (key_of(x[i]) >= key) idx_out[c++] = static_cast<std::uint32_t>(i);
    return c;
  }
  std::vector<std::size_t> counts(static_cast<std::size_t>(T) + 1, 0);
  std::size_t used = 1;  // threads the runtime actually gave the region (may be fewer than T)
#pragma omp parallel num_threads(T)
  {
    const std::size_t nt = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t chunk = (n + nt - 1) / nt;
#pragma omp single
    used = nt;
    const std::size_t lo = std::min(n, t * chunk), hi = std::min(n, lo + chunk);
    std::size_t c = 0;
    for (std::size_t i = lo; i < hi; ++i) c += key_of(x[i]) >= key;
    counts[t + 1] = c;
#pragma omp barrier
#pragma omp single
    for (std::size_t j = 1; j <= nt; ++j) counts[j] += counts[j - 1];
    std::size_t at = counts[t];
    for (std::size_t i = lo; i < hi; ++i)
      if (key_of(x[i]) >= key) idx_out[at++] = static_cast<std::uint32_t>(i);
  }
  return counts[used];
}

}  // namespace arcsim::kernels::cpu
