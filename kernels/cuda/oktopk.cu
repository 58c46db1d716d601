// Ok-Topk's threshold filter on the device: every index whose magnitude key is >= the reused
// threshold, in ascending order (an order-preserving cub::DeviceSelect::If over the index range),
// with the count left in device memory: no host synchronisation. Equal to kernels::select_at_least.
#include <cuda_runtime.h>

#include <cstdint>

#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"

namespace arcsim::cuda {

namespace {
struct AtLeast {
  const float* x;
  std::uint32_t key;
  __device__ bool operator()(std::uint32_t i) const { return (__float_as_uint(x[i]) & 0x7fffffffu) >= key; }
};
}  // namespace

std::size_t select_at_least_workspace_bytes(std::size_t n) {
  std::size_t bytes = 0;
  detail::check(cub::DeviceSelect::If(nullptr, bytes, thrust::counting_iterator<std::uint32_t>(0),
                                      static_cast<std::uint32_t*>(nullptr), static_cast<long long*>(nullptr),
                                      static_cast<std::int64_t>(n), AtLeast{nullptr, 0}),
                "select_at_least (size query)");
  return bytes;
}

void select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out, long long* count_out,
                     void* workspace, std::size_t workspace_bytes, Stream stream) {
  if (n == 0) {
    detail::check(cudaMemsetAsync(count_out, 0, sizeof(long long), stream), "select_at_least (empty)");
    return;
  }
  std::size_t bytes = workspace_bytes;
  detail::check(cub::DeviceSelect::If(workspace, bytes, thrust::counting_iterator<std::uint32_t>(0), idx_out, count_out,
                                      static_cast<std::int64_t>(n), AtLeast{x, key}, stream),
                "select_at_least");
}

}  // namespace arcsim::cuda
