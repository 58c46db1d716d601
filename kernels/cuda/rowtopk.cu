// ADTopk's per-row selection on the device: one CTA per row. topk_per_row runs the radix select's
// three MSD passes (11/11/10-bit digits, radix_digits.hpp) over the row with a shared-memory
// histogram, then the order-preserving block output (lowest index on ties, ascending): the same
// indices as kernels::topk_per_row. The threshold filter counts and compacts each row in index
// order with block scans (no atomics in any output), so results never depend on scheduling.
#include <cuda_runtime.h>

#include <cstdint>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/cuda/radix_block.cuh"

namespace arcsim::cuda {

namespace {

constexpr int kRowThreads = 256;

__global__ void __launch_bounds__(kRowThreads)
    topk_per_row_kernel(const float* x, std::uint32_t m, std::uint32_t k_row, std::uint32_t* idx_out) {
  const float* row = x + static_cast<std::size_t>(blockIdx.x) * m;
  __shared__ std::uint32_t hist[radix::kBins];
  __shared__ std::uint32_t s_prefix, s_k;
  if (threadIdx.x == 0) {
    s_prefix = 0;
    s_k = k_row;
  }
  for (int pass = 0; pass < radix::kPasses; ++pass) {
    for (int b = threadIdx.x; b < radix::kBins; b += kRowThreads) hist[b] = 0;
    __syncthreads();
    const std::uint32_t mask = radix::fixed_mask(pass), prefix = s_prefix, k_rem = s_k;
    for (std::uint32_t j = threadIdx.x; j < m; j += kRowThreads) {
      const std::uint32_t key = radix::key_of(row[j]);
      if ((key & mask) == prefix) atomicAdd(&hist[radix::digit_of(key, pass)], 1u);  // counts: order-free
    }
    __syncthreads();
    std::uint32_t digit = 0, above = 0, count = 0;
    if (radix::block_choose<kRowThreads>([&](int b) { return hist[b]; }, k_rem, digit, above, count)) {
      s_prefix = prefix | (digit << radix::pass_shift(pass));
      s_k = k_rem - above;
    }
    __syncthreads();
  }
  // Every key bit is fixed: take key > prefix, and the first s_k keys equal to it.
  radix::block_ordered_output<kRowThreads>([&](std::uint32_t j) { return radix::key_of(row[j]); }, m, s_prefix, s_k,
                                           idx_out + static_cast<std::size_t>(blockIdx.x) * k_row);
}

__global__ void __launch_bounds__(kRowThreads)
    threshold_count_kernel(const float* x, std::uint32_t m, const float* thr, std::uint32_t* counts) {
  const float* row = x + static_cast<std::size_t>(blockIdx.x) * m;
  const std::uint32_t t = radix::key_of(thr[blockIdx.x]);
  std::uint32_t c = 0;
  for (std::uint32_t j = threadIdx.x; j < m; j += kRowThreads) c += radix::key_of(row[j]) >= t ? 1u : 0u;
  using Reduce = cub::BlockReduce<std::uint32_t, kRowThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  const std::uint32_t total = Reduce(tmp).Sum(c);
  if (threadIdx.x == 0) counts[blockIdx.x] = (total == 0 && m > 0) ? 1u : total;
}

struct MaxU64 {
  __device__ unsigned long long operator()(unsigned long long a, unsigned long long b) const { return a > b ? a : b; }
};

__global__ void __launch_bounds__(kRowThreads)
    threshold_select_kernel(const float* x, std::uint32_t m, const float* thr, const std::uint32_t* offsets,
                            std::uint32_t* idx_out) {
  const std::size_t base = static_cast<std::size_t>(blockIdx.x) * m;
  const float* row = x + base;
  const std::uint32_t t = radix::key_of(thr[blockIdx.x]);
  std::uint32_t* out = idx_out + offsets[blockIdx.x];
  using Scan = cub::BlockScan<std::uint32_t, kRowThreads>;
  __shared__ typename Scan::TempStorage scan_tmp;
  std::uint32_t written = 0;
  unsigned long long best = 0;  // (key << 32) | ~j: the largest key, lowest index on ties
  for (std::uint32_t b0 = 0; b0 < m; b0 += kRowThreads) {
    const std::uint32_t j = b0 + threadIdx.x;
    const std::uint32_t key = j < m ? radix::key_of(row[j]) : 0u;
    const bool take = j < m && key >= t;
    if (j < m) {
      const unsigned long long packed = (static_cast<unsigned long long>(key) << 32) | (0xffffffffu - j);
      best = packed > best ? packed : best;
    }
    std::uint32_t pos = 0, taken = 0;
    __syncthreads();
    Scan(scan_tmp).ExclusiveSum(take ? 1u : 0u, pos, taken);
    if (take) out[written + pos] = static_cast<std::uint32_t>(base + j);
    written += taken;
  }
  using Reduce = cub::BlockReduce<unsigned long long, kRowThreads>;
  __shared__ typename Reduce::TempStorage red_tmp;
  const unsigned long long top = Reduce(red_tmp).Reduce(best, MaxU64{});
  if (threadIdx.x == 0 && written == 0 && m > 0)
    out[0] = static_cast<std::uint32_t>(base + (0xffffffffu - static_cast<std::uint32_t>(top & 0xffffffffu)));
}

void check_rows(std::size_t n_rows, std::size_t m, const char* what) {
  if (n_rows > 0x7fffffffu || m > 0xffffffffu || n_rows * m > 0xffffffffu)
    throw std::invalid_argument(std::string(what) + ": matrix too large for 32-bit indices");
}

}  // namespace

void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out,
                  Stream stream) {
  if (k_row > m)
    throw std::invalid_argument("topk_per_row: k_row = " + std::to_string(k_row) + " > m = " + std::to_string(m));
  if (n_rows == 0 || k_row == 0) return;
  check_rows(n_rows, m, "topk_per_row");
  topk_per_row_kernel<<<static_cast<unsigned>(n_rows), kRowThreads, 0, stream>>>(
      x, static_cast<std::uint32_t>(m), static_cast<std::uint32_t>(k_row), idx_out);
  detail::check_launch("topk_per_row");
}

void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts,
                          Stream stream) {
  if (n_rows == 0) return;
  check_rows(n_rows, m, "threshold_rows_count");
  threshold_count_kernel<<<static_cast<unsigned>(n_rows), kRowThreads, 0, stream>>>(x, static_cast<std::uint32_t>(m),
                                                                                    thr, counts);
  detail::check_launch("threshold_rows_count");
}

void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out, Stream stream) {
  if (n_rows == 0) return;
  check_rows(n_rows, m, "threshold_rows_select");
  threshold_select_kernel<<<static_cast<unsigned>(n_rows), kRowThreads, 0, stream>>>(x, static_cast<std::uint32_t>(m),
                                                                                     thr, offsets, idx_out);
  detail::check_launch("threshold_rows_select");
}

}  // namespace arcsim::cuda
