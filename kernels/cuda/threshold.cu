// Threshold estimators (DGC, GaussianK, RedSync, SIDCo) on the device: the moment sums in the
// chunked-tree order of kernels/threshold_math.hpp (one CTA of 256 threads per 4096-element chunk,
// each thread its lane's 16 coalesced terms, the shared-memory halving tree, then the same on the
// chunk sums until one is left), with every double operation written as __dadd_rn / __dmul_rn so
// no contraction changes a bit: equal to kernels::value_moments / exceedance_moments. Counts and
// maxima are atomics of order-free integers; select_above is CUB's order-preserving compaction;
// the sample and the scale write one output per thread.
#include <cuda_runtime.h>

#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/threshold_math.hpp"

namespace arcsim::cuda {

namespace {

constexpr unsigned kLanes = thr::kSumLanes;
constexpr unsigned kPerLane = thr::kSumPerLane;
constexpr std::size_t kChunk = thr::kSumChunk;
constexpr int kThreads = 256;

std::size_t chunks_of(std::size_t n) { return (n + kChunk - 1) / kChunk; }

__device__ __forceinline__ void tree3(double (&sh)[3][kLanes], double a0, double a1, double a2) {
  const unsigned l = threadIdx.x;
  sh[0][l] = a0;
  sh[1][l] = a1;
  sh[2][l] = a2;
  __syncthreads();
  for (unsigned s = kLanes / 2; s >= 1; s /= 2) {
    if (l < s)
      for (int q = 0; q < 3; ++q) sh[q][l] = __dadd_rn(sh[q][l], sh[q][l + s]);
    __syncthreads();
  }
}

// Level 0 over the floats. mode 0: value moments (x, x^2, |x|; max |x| into *max_bits).
// mode 1: exceedances over t (e, e^2, log e when with_log; their count into *count).
__global__ void __launch_bounds__(kLanes) moments_level0(const float* __restrict__ x, std::size_t n, int mode, float t,
                                                          bool with_log, double* __restrict__ partial,
                                                          unsigned* __restrict__ max_bits,
                                                          unsigned long long* __restrict__ count) {
  __shared__ double sh[3][kLanes];
  __shared__ unsigned block_max;
  __shared__ unsigned block_count;
  if (threadIdx.x == 0) {
    block_max = 0;
    block_count = 0;
  }
  __syncthreads();
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * kChunk;
  double a0 = 0.0, a1 = 0.0, a2 = 0.0;
  unsigned mx = 0, cnt = 0;
  for (unsigned r = 0; r < kPerLane; ++r) {
    const std::size_t i = base + static_cast<std::size_t>(r) * kLanes + threadIdx.x;
    if (i >= n) break;
    const float v = x[i];
    const float a = fabsf(v);
    if (mode == 0) {
      const double d = v;
      a0 = __dadd_rn(a0, d);
      a1 = __dadd_rn(a1, __dmul_rn(d, d));
      a2 = __dadd_rn(a2, static_cast<double>(a));
      mx = max(mx, __float_as_uint(a));
    } else if (a > t) {
      const float e = __fsub_rn(a, t);
      const double d = e;
      a0 = __dadd_rn(a0, d);
      a1 = __dadd_rn(a1, __dmul_rn(d, d));
      a2 = __dadd_rn(a2, with_log ? static_cast<double>(thr::log_portable(e)) : 0.0);
      ++cnt;
    }
  }
  if (mode == 0) atomicMax(&block_max, mx);
  else atomicAdd(&block_count, cnt);
  tree3(sh, a0, a1, a2);
  if (threadIdx.x == 0) {
    for (int q = 0; q < 3; ++q) partial[static_cast<std::size_t>(blockIdx.x) * 3 + q] = sh[q][0];
    if (mode == 0) atomicMax(max_bits, block_max);
    else atomicAdd(count, static_cast<unsigned long long>(block_count));
  }
}

// Higher levels: the same order over the chunk sums (3 doubles per entry).
__global__ void __launch_bounds__(kLanes) moments_level(const double* __restrict__ in, std::size_t m,
                                                         double* __restrict__ out) {
  __shared__ double sh[3][kLanes];
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * kChunk;
  double a[3] = {0.0, 0.0, 0.0};
  for (unsigned r = 0; r < kPerLane; ++r) {
    const std::size_t i = base + static_cast<std::size_t>(r) * kLanes + threadIdx.x;
    if (i >= m) break;
    for (int q = 0; q < 3; ++q) a[q] = __dadd_rn(a[q], in[i * 3 + q]);
  }
  tree3(sh, a[0], a[1], a[2]);
  if (threadIdx.x == 0)
    for (int q = 0; q < 3; ++q) out[static_cast<std::size_t>(blockIdx.x) * 3 + q] = sh[q][0];
}

__global__ void count_kernel(const float* __restrict__ x, std::size_t n, float t, unsigned long long* count) {
  unsigned c = 0;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    c += fabsf(x[i]) > t;
  for (int off = 16; off > 0; off /= 2) c += __shfl_down_sync(0xffffffffu, c, off);
  if ((threadIdx.x & 31) == 0 && c) atomicAdd(count, static_cast<unsigned long long>(c));
}

__global__ void sample_kernel(const float* __restrict__ x, std::uint32_t n, std::size_t m, std::uint64_t seed,
                              std::uint32_t step, std::uint32_t tensor, std::uint32_t worker, float* __restrict__ out) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < m) out[i] = fabsf(x[thr::sample_position(i, n, seed, step, tensor, worker)]);
}

__global__ void scale_kernel(const float* __restrict__ x, std::size_t n, float s, float* __restrict__ out) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = __fmul_rn(s, x[i]);
}

struct AbovePred {
  const float* x;
  float t;
  __device__ bool operator()(std::uint32_t i) const { return fabsf(x[i]) > t; }
};

unsigned grid_for(std::size_t n) {
  const std::size_t cap = static_cast<std::size_t>(detail::sm_count()) * 8;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min((n + kThreads - 1) / kThreads, cap)));
}

// Level 0 into ws, then levels until one entry is left, the last written to out3.
void moments(const float* x, std::size_t n, int mode, float t, bool with_log, double* out3, unsigned* max_bits,
             unsigned long long* count, void* ws, std::size_t ws_bytes, Stream stream) {
  if (ws_bytes < moments_workspace_bytes(n)) throw std::invalid_argument("threshold moments: workspace too small");
  if (mode == 0) detail::check(cudaMemsetAsync(max_bits, 0, sizeof(unsigned), stream), "cudaMemsetAsync");
  else detail::check(cudaMemsetAsync(count, 0, sizeof(unsigned long long), stream), "cudaMemsetAsync");
  if (n == 0) {
    detail::check(cudaMemsetAsync(out3, 0, 3 * sizeof(double), stream), "cudaMemsetAsync");
    return;
  }
  const std::size_t c0 = chunks_of(n);
  auto* a = static_cast<double*>(ws);
  double* b = a + 3 * c0;
  double* level_out = c0 == 1 ? out3 : a;
  moments_level0<<<static_cast<unsigned>(c0), kLanes, 0, stream>>>(x, n, mode, t, with_log, level_out, max_bits, count);
  detail::check_launch("threshold moments level 0");
  std::size_t m = c0;
  double* in = a;
  while (m > 1) {
    const std::size_t next = chunks_of(m);
    double* out = next == 1 ? out3 : (in == a ? b : a);
    moments_level<<<static_cast<unsigned>(next), kLanes, 0, stream>>>(in, m, out);
    detail::check_launch("threshold moments level");
    in = out;
    m = next;
  }
}

}  // namespace

std::size_t moments_workspace_bytes(std::size_t n) {
  const std::size_t c0 = chunks_of(n);
  return (3 * c0 + 3 * chunks_of(c0) + 2) * sizeof(double);
}

void value_moments(const float* x, std::size_t n, double* out3, unsigned* max_abs_bits, void* ws,
                   std::size_t ws_bytes, Stream stream) {
  moments(x, n, 0, 0.0f, false, out3, max_abs_bits, nullptr, ws, ws_bytes, stream);
}

void exceedance_moments(const float* x, std::size_t n, float t, bool with_log, double* out3,
                        unsigned long long* count, void* ws, std::size_t ws_bytes, Stream stream) {
  moments(x, n, 1, t, with_log, out3, nullptr, count, ws, ws_bytes, stream);
}

void count_above(const float* x, std::size_t n, float t, unsigned long long* count, Stream stream) {
  detail::check(cudaMemsetAsync(count, 0, sizeof(unsigned long long), stream), "cudaMemsetAsync");
  if (n == 0) return;
  count_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, n, t, count);
  detail::check_launch("count_above");
}

std::size_t select_above_workspace_bytes(std::size_t n) {
  std::size_t bytes = 0;
  detail::check(cub::DeviceSelect::If(nullptr, bytes, thrust::counting_iterator<std::uint32_t>(0),
                                      static_cast<std::uint32_t*>(nullptr), static_cast<long long*>(nullptr),
                                      static_cast<std::int64_t>(n), AbovePred{nullptr, 0.0f}),
                "cub::DeviceSelect::If (size query)");
  return bytes;
}

void select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out, long long* count, void* ws,
                  std::size_t ws_bytes, Stream stream) {
  if (n > 0xffffffffull) throw std::invalid_argument("select_above: n must be < 2^32");
  std::size_t bytes = ws_bytes;
  detail::check(cub::DeviceSelect::If(ws, bytes, thrust::counting_iterator<std::uint32_t>(0), idx_out, count,
                                      static_cast<std::int64_t>(n), AbovePred{x, t}, stream),
                "select_above");
}

void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out, Stream stream) {
  if (m == 0) return;
  if (n == 0 || n > 0xffffffffull) throw std::invalid_argument("sample_magnitudes: expected 0 < n < 2^32");
  if (worker >= thr::kMaxSampleWorkers) throw std::invalid_argument("sample_magnitudes: expected worker < 65536");
  sample_kernel<<<static_cast<unsigned>((m + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      x, static_cast<std::uint32_t>(n), m, seed, step, tensor, worker, out);
  detail::check_launch("sample_magnitudes");
}

void scale(const float* x, std::size_t n, float s, float* out, Stream stream) {
  if (n == 0) return;
  scale_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, n, s, out);
  detail::check_launch("scale");
}

}  // namespace arcsim::cuda
