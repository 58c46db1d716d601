// Data movement of the compressors: row gather/scatter for a whole bucket in one launch, element
// gather/scatter, Rand-K index generation and pick, and the element-wise error-feedback updates.
// All of it is memory-bound and order-free (every output element is written by one thread), so
// the results equal the CPU reference exactly.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/philox.hpp"
#include "kernels/cuda/randk_feistel.hpp"

namespace arcsim::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kRowThreads = 256;
constexpr int kMaxRowBatch = 32;

unsigned grid_for(std::size_t n, int threads = kThreads) {
  const std::size_t cap = static_cast<std::size_t>(detail::sm_count()) * 8;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min((n + threads - 1) / threads, cap)));
}

// ---- rows -----------------------------------------------------------------------------------------
struct RowBatch {
  RowCopyTensor t[kMaxRowBatch];
  std::uint32_t cta_begin[kMaxRowBatch + 1];  // one CTA per selected row
  int count;
};

// One CTA copies one selected row; 16-byte accesses when both row starts are 16-byte aligned.
template <bool kGather>
__global__ void __launch_bounds__(kRowThreads) row_copy_kernel(const RowBatch batch, bool zero_src) {
  int ti = 0;
  while (ti + 1 < batch.count && blockIdx.x >= batch.cta_begin[ti + 1]) ++ti;
  const RowCopyTensor& t = batch.t[ti];
  const std::uint32_t i = blockIdx.x - batch.cta_begin[ti];
  float* dense = t.dense + static_cast<std::size_t>(t.rows[i]) * t.cols;
  float* packed = t.packed + static_cast<std::size_t>(i) * t.cols;
  float* dst = kGather ? packed : dense;
  const float* src = kGather ? dense : packed;
  const std::uint32_t cols = t.cols;
  std::uint32_t done = 0;
  if ((reinterpret_cast<std::uintptr_t>(dst) | reinterpret_cast<std::uintptr_t>(src)) % 16 == 0) {
    const std::uint32_t c4 = cols / 4;
    for (std::uint32_t j = threadIdx.x; j < c4; j += kRowThreads) {
      reinterpret_cast<float4*>(dst)[j] = reinterpret_cast<const float4*>(src)[j];
      if (kGather && zero_src) reinterpret_cast<float4*>(dense)[j] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    done = 4 * c4;
  }
  for (std::uint32_t j = done + threadIdx.x; j < cols; j += kRowThreads) {
    dst[j] = src[j];
    if (kGather && zero_src) dense[j] = 0.0f;
  }
}

template <bool kGather>
void rows_bucket(const RowCopyTensor* tensors, std::size_t count, bool zero_src, Stream stream, const char* what) {
  for (std::size_t first = 0; first < count; first += kMaxRowBatch) {
    RowBatch b{};
    b.count = static_cast<int>(std::min<std::size_t>(kMaxRowBatch, count - first));
    std::uint32_t ctas = 0;
    for (int i = 0; i < b.count; ++i) {
      b.t[i] = tensors[first + i];
      b.cta_begin[i] = ctas;
      ctas += b.t[i].cols == 0 ? 0u : b.t[i].k;
      if (b.t[i].cols == 0) b.t[i].k = 0;
    }
    b.cta_begin[b.count] = ctas;
    if (ctas == 0) continue;
    row_copy_kernel<kGather><<<ctas, kRowThreads, 0, stream>>>(b, zero_src);
    detail::check_launch(what);
  }
}

// ---- elements -------------------------------------------------------------------------------------
__global__ void gather_kernel(float* src, const std::uint32_t* __restrict__ idx, std::size_t k, float* dst,
                              bool zero_src) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < k;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    dst[i] = src[idx[i]];
    if (zero_src) src[idx[i]] = 0.0f;
  }
}

template <bool kAdd>
__global__ void scatter_kernel(const float* __restrict__ src, const std::uint32_t* __restrict__ idx, std::size_t k,
                               float* dst) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < k;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (kAdd) dst[idx[i]] = dst[idx[i]] + src[i];
    else dst[idx[i]] = src[i];
  }
}

__global__ void randk_kernel(Feistel f, std::size_t k, std::uint32_t* idx_out) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < k;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    idx_out[i] = feistel_permute(static_cast<std::uint32_t>(i), f);
}

void check_randk(std::size_t n, std::size_t k, const char* what) {
  if (k > n) throw std::invalid_argument(std::string(what) + ": k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (n > 0xffffffffull) throw std::invalid_argument(std::string(what) + ": n >= 2^32");
}

// ---- error feedback ---------------------------------------------------------------------------------
enum class EfOp { kAdd, kSub, kResidual, kAccumulate, kMomentum, kHeavyBall, kDivide };

template <EfOp kOp>
__global__ void ef_kernel(const float* __restrict__ a, const float* __restrict__ b, std::size_t n, float* out,
                          float eta, float keep) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if constexpr (kOp == EfOp::kAdd) out[i] = __fadd_rn(a[i], b[i]);
    else if constexpr (kOp == EfOp::kSub) out[i] = __fsub_rn(a[i], b[i]);
    else if constexpr (kOp == EfOp::kResidual) out[i] = __fsub_rn(a[i], b[i]);
    else if constexpr (kOp == EfOp::kAccumulate) out[i] = __fadd_rn(out[i], b[i]);
    else if constexpr (kOp == EfOp::kMomentum) out[i] = __fmaf_rn(eta, b[i], __fmul_rn(keep, out[i]));
    else if constexpr (kOp == EfOp::kHeavyBall) out[i] = __fmaf_rn(eta, out[i], b[i]);  // eta carries beta
    else out[i] = __fdiv_rn(out[i], eta);  // divide: eta carries float(workers)
  }
}

template <EfOp kOp>
void ef_launch(const float* a, const float* b, std::size_t n, float* out, float eta, Stream stream, const char* what) {
  if (n == 0) return;
  ef_kernel<kOp><<<grid_for(n), kThreads, 0, stream>>>(a, b, n, out, eta, 1.0f - eta);
  detail::check_launch(what);
}

__global__ void fill_normal_kernel(float* x, std::size_t n, std::uint64_t seed) {
  const std::size_t pairs = (n + 1) / 2;
  for (std::size_t p = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; p < pairs;
       p += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    float z0, z1;
    rng::gaussian_pair(seed, static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(p >> 32), 0u, 0u, z0, z1);
    x[2 * p] = z0;
    if (2 * p + 1 < n) x[2 * p + 1] = z1;
  }
}

}  // namespace

void fill_normal(float* x, std::size_t n, std::uint64_t seed, Stream stream) {
  if (n == 0) return;
  fill_normal_kernel<<<grid_for((n + 1) / 2), kThreads, 0, stream>>>(x, n, seed);
  detail::check_launch("fill_normal");
}

void divide(float* x, std::size_t n, int workers, Stream s) {
  ef_launch<EfOp::kDivide>(nullptr, nullptr, n, x, static_cast<float>(workers), s, "divide");
}

void gather_rows_bucket(const RowCopyTensor* tensors, std::size_t count, bool zero_src, Stream stream) {
  rows_bucket<true>(tensors, count, zero_src, stream, "gather_rows_bucket");
}

void scatter_rows_bucket(const RowCopyTensor* tensors, std::size_t count, Stream stream) {
  rows_bucket<false>(tensors, count, false, stream, "scatter_rows_bucket");
}

void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream) {
  if (k == 0) return;
  gather_kernel<<<grid_for(k), kThreads, 0, stream>>>(const_cast<float*>(src), idx, k, dst, false);
  detail::check_launch("gather");
}

void gather_and_zero(float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream) {
  if (k == 0) return;
  gather_kernel<<<grid_for(k), kThreads, 0, stream>>>(src, idx, k, dst, true);
  detail::check_launch("gather_and_zero");
}

void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream) {
  if (k == 0) return;
  scatter_kernel<false><<<grid_for(k), kThreads, 0, stream>>>(src, idx, k, dst);
  detail::check_launch("scatter");
}

void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream) {
  if (k == 0) return;
  scatter_kernel<true><<<grid_for(k), kThreads, 0, stream>>>(src, idx, k, dst);
  detail::check_launch("scatter_add");
}

void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out, Stream stream) {
  check_randk(n, k, "randk_indices");
  if (k == 0) return;
  // pi(0..k-1) into a scratch buffer, then a radix sort of its bits(n-1) low bits into out: the
  // reference's ascending set.
  std::uint32_t* raw = nullptr;
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;
  const int end_bit = n <= 1 ? 1 : 32 - __builtin_clz(static_cast<unsigned>(n - 1));
  detail::check(cub::DeviceRadixSort::SortKeys(nullptr, scratch_bytes, raw, out, static_cast<std::int64_t>(k), 0,
                                               end_bit, stream),
                "randk_indices (sort size query)");
  detail::check(cudaMallocAsync(reinterpret_cast<void**>(&raw), k * sizeof(std::uint32_t), stream), "randk_indices (alloc)");
  detail::check(cudaMallocAsync(&scratch, scratch_bytes ? scratch_bytes : 1, stream), "randk_indices (alloc)");
  randk_kernel<<<grid_for(k), kThreads, 0, stream>>>(make_feistel(n, seed, step, tensor), k, raw);
  detail::check_launch("randk_indices");
  detail::check(cub::DeviceRadixSort::SortKeys(scratch, scratch_bytes, raw, out, static_cast<std::int64_t>(k), 0,
                                               end_bit, stream),
                "randk_indices (sort)");
  detail::check(cudaFreeAsync(scratch, stream), "randk_indices (free)");
  detail::check(cudaFreeAsync(raw, stream), "randk_indices (free)");
}

void randk_gather(float* x, std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step,
                  std::uint32_t tensor, float* vals, std::uint32_t* idx_out, bool zero_src, Stream stream) {
  check_randk(n, k, "randk_gather");
  if (k == 0) return;
  std::uint32_t* idx = idx_out;
  if (idx == nullptr)
    detail::check(cudaMallocAsync(reinterpret_cast<void**>(&idx), k * sizeof(std::uint32_t), stream), "randk_gather (alloc)");
  randk_indices(n, k, seed, step, tensor, idx, stream);
  gather_kernel<<<grid_for(k), kThreads, 0, stream>>>(x, idx, k, vals, zero_src);
  detail::check_launch("randk_gather");
  if (idx_out == nullptr) detail::check(cudaFreeAsync(idx, stream), "randk_gather (free)");
}

void ef_add(const float* g, const float* e, std::size_t n, float* u, Stream s) {
  ef_launch<EfOp::kAdd>(g, e, n, u, 0.f, s, "ef_add");
}
void ef_sub(const float* g, const float* e, std::size_t n, float* d, Stream s) {
  ef_launch<EfOp::kSub>(g, e, n, d, 0.f, s, "ef_sub");
}
void ef14_residual(const float* u, const float* c, std::size_t n, float* e, Stream s) {
  ef_launch<EfOp::kResidual>(u, c, n, e, 0.f, s, "ef14_residual");
}
void ef_accumulate(float* e, const float* c, std::size_t n, Stream s) {
  ef_launch<EfOp::kAccumulate>(nullptr, c, n, e, 0.f, s, "ef_accumulate");
}
void momentum_update(float* h, const float* g, std::size_t n, float eta, Stream s) {
  ef_launch<EfOp::kMomentum>(nullptr, g, n, h, eta, s, "momentum_update");
}
void heavy_ball_update(float* h, const float* g, std::size_t n, float beta, Stream s) {
  ef_launch<EfOp::kHeavyBall>(nullptr, g, n, h, beta, s, "heavy_ball_update");
}

}  // namespace arcsim::cuda
