#pragma once
// Error checking for the dispatch layer: every CUDA call and launch is checked and turned into one
// std::runtime_error line naming the operation.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace arcsim::cuda::detail {

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

// After a <<<...>>> launch: reports configuration errors without synchronizing.
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

// Streaming multiprocessors of the current device (cached; grids are sized from it).
inline int sm_count() {
  static thread_local int cached_device = -1, cached_sms = 0;
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  if (dev != cached_device) {
    check(cudaDeviceGetAttribute(&cached_sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
    cached_device = dev;
  }
  return cached_sms;
}

inline std::size_t align_up(std::size_t x, std::size_t a = 256) { return (x + a - 1) / a * a; }

}  // namespace arcsim::cuda::detail
