#pragma once
// Per-worker float buffers of one bucket. Built one at a time: std::vector(W,
// std::vector<float>(n)) fills one prototype and copies it W times, a memset plus W memmoves of
// the bucket on one core, which a large replay paid several times per bucket and configuration.
#include <cstddef>
#include <memory>
#include <vector>

namespace arcsim::kernels {

// W zero-filled buffers of n floats.
inline std::vector<std::vector<float>> worker_buffers(std::size_t workers, std::size_t n) {
  std::vector<std::vector<float>> v(workers);
  for (auto& x : v) x.assign(n, 0.0f);
  return v;
}

// The same, uninitialised (no fill): for buffers whose every element the next kernel writes.
inline std::vector<std::unique_ptr<float[]>> uninitialised_worker_buffers(std::size_t workers, std::size_t n) {
  std::vector<std::unique_ptr<float[]>> v(workers);
  for (auto& x : v) x.reset(new float[n]);
  return v;
}

}  // namespace arcsim::kernels
