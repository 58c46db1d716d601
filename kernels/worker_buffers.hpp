#pragma once
// Per-worker float buffers of one bucket. Built one at a time: std::vector(W,
// std::vector<float>(n)) fills one prototype and copies it W times, a memset plus W memmoves of
// the bucket on one core, which a large replay paid several times per bucket and configuration.
#include <cstddef>
#include <vector>

namespace arcsim::kernels {

inline std::vector<std::vector<float>> worker_buffers(std::size_t workers, std::size_t n, float value = 0.0f) {
  std::vector<std::vector<float>> v(workers);
  for (auto& x : v) x.assign(n, value);
  return v;
}

}  // namespace arcsim::kernels
