// PowerSGD's products and orthogonalisation on the device, in the summation orders of
// kernels/primitives.hpp so the results equal the CPU reference bit for bit: every output of a
// product is one thread's __fmaf_rn chain in the reference's order; the Gram-Schmidt dot products
// use the reference's kDotLanes lanes and its tree, with one CTA of kDotLanes threads per matrix.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kLanes = static_cast<int>(kernels::kDotLanes);
static_assert(kLanes == 256, "one CTA of kDotLanes threads");

// C (n x c) = A (n x k) B (k x c): thread per output, ascending j.
__global__ void matmul_right_kernel(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c,
                                    float* C) {
  const std::size_t total = n * c;
  for (std::size_t o = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; o < total;
       o += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t i = o / c, q = o % c;
    float acc = 0.0f;
    for (std::size_t j = 0; j < k; ++j) acc = __fmaf_rn(A[i * k + j], B[j * c + q], acc);
    C[o] = acc;
  }
}

// C (m x c) = A^T B, A n x m, B n x c: thread per output, ascending i (consecutive threads read
// consecutive columns of a row of A).
__global__ void matmul_left_t_kernel(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c,
                                     float* C) {
  const std::size_t total = m * c;
  for (std::size_t o = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; o < total;
       o += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t j = o / c, q = o % c;
    float acc = 0.0f;
    for (std::size_t i = 0; i < n; ++i) acc = __fmaf_rn(A[i * m + j], B[i * c + q], acc);
    C[o] = acc;
  }
}

// kernels::lane_dot of columns a and b of P (n x c): lane l = thread l, then the same tree.
__device__ float block_lane_dot(const float* P, std::size_t n, std::size_t c, std::size_t a, std::size_t b,
                                float* lanes) {
  float acc = 0.0f;
  for (std::size_t i = threadIdx.x; i < n; i += kLanes) acc = __fmaf_rn(P[i * c + a], P[i * c + b], acc);
  lanes[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kLanes / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s) lanes[threadIdx.x] = __fadd_rn(lanes[threadIdx.x], lanes[threadIdx.x + s]);
    __syncthreads();
  }
  const float r = lanes[0];
  __syncthreads();  // lanes is reused by the next call
  return r;
}

__global__ void __launch_bounds__(kLanes) orthogonalize_kernel(float* P, std::size_t n, std::size_t c) {
  __shared__ float lanes[kLanes];
  for (std::size_t q = 0; q < c; ++q) {
    const float d = __fadd_rn(__fsqrt_rn(block_lane_dot(P, n, c, q, q, lanes)), kernels::kOrthoEps);
    for (std::size_t i = threadIdx.x; i < n; i += kLanes) P[i * c + q] = __fdiv_rn(P[i * c + q], d);
    __syncthreads();
    for (std::size_t p = q + 1; p < c; ++p) {
      const float proj = block_lane_dot(P, n, c, q, p, lanes);
      for (std::size_t i = threadIdx.x; i < n; i += kLanes) P[i * c + p] = __fmaf_rn(-proj, P[i * c + q], P[i * c + p]);
      __syncthreads();
    }
  }
}

unsigned grid_for(std::size_t outputs) {
  const std::size_t blocks = (outputs + kThreads - 1) / kThreads;
  const std::size_t cap = static_cast<std::size_t>(detail::sm_count()) * 32;
  return static_cast<unsigned>(blocks < cap ? (blocks ? blocks : 1) : cap);
}

}  // namespace

void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C,
                  Stream stream) {
  if (n == 0 || c == 0) return;
  matmul_right_kernel<<<grid_for(n * c), kThreads, 0, stream>>>(A, n, k, B, c, C);
  detail::check_launch("matmul_right");
}

void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C,
                   Stream stream) {
  if (m == 0 || c == 0) return;
  matmul_left_t_kernel<<<grid_for(m * c), kThreads, 0, stream>>>(A, n, m, B, c, C);
  detail::check_launch("matmul_left_t");
}

void orthogonalize(float* P, std::size_t n, std::size_t c, Stream stream) {
  if (n == 0 || c == 0) return;
  orthogonalize_kernel<<<1, kLanes, 0, stream>>>(P, n, c);
  detail::check_launch("orthogonalize");
}

}  // namespace arcsim::cuda
