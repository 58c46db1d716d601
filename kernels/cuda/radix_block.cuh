#pragma once
// Block-level building blocks of the radix select (device code only; included by topk.cu).
#include <cub/block/block_scan.cuh>

#include <cstdint>

#include "kernels/cuda/radix_digits.hpp"

namespace arcsim::cuda::radix {

__device__ __forceinline__ std::uint32_t key_of(float x) { return __float_as_uint(x) & 0x7fffffffu; }

// Adds 1 to sh[bin] for every lane with `valid`. All 32 lanes of the warp must call it together
// (callers loop in warp-uniform steps). Gradient magnitudes crowd into a few exponent bins, so
// lanes with the same bin are merged first (__match_any_sync) and one leader adds their count:
// one shared atomic per distinct bin per warp instead of up to 32 colliding ones.
__device__ __forceinline__ void warp_hist_add(std::uint32_t* sh, std::uint32_t bin, bool valid) {
  // Filtering passes keep a few percent of the elements: most warps have nothing to add.
  if (!__any_sync(0xffffffffu, valid)) return;
  const std::uint32_t tag = valid ? bin : 0xffffffffu;
  const unsigned peers = __match_any_sync(0xffffffffu, tag);
  if (valid && (threadIdx.x & 31u) == static_cast<unsigned>(__ffs(peers) - 1))
    atomicAdd(&sh[bin], static_cast<std::uint32_t>(__popc(peers)));
}

// Block-parallel choose_bucket_serial over kBins counts given by load(b). Exactly one thread
// returns true, with the bucket's digit, the count above it and its own count. The whole block
// must call it.
template <int BLOCK, typename Load>
__device__ bool block_choose(Load load, std::uint32_t k_remaining, std::uint32_t& digit, std::uint32_t& above,
                             std::uint32_t& count) {
  static_assert(kBins % BLOCK == 0, "block size must divide the bin count");
  constexpr int kPer = kBins / BLOCK;
  using Scan = cub::BlockScan<std::uint32_t, BLOCK>;
  __shared__ typename Scan::TempStorage scan_tmp;
  std::uint32_t h[kPer];
  std::uint32_t mine = 0;
#pragma unroll
  for (int q = 0; q < kPer; ++q) {
    h[q] = load(static_cast<int>(threadIdx.x) * kPer + q);
    mine += h[q];
  }
  std::uint32_t below = 0, total = 0;
  __syncthreads();  // scan_tmp may still be in use by a previous call
  Scan(scan_tmp).ExclusiveSum(mine, below, total);
  // This thread owns digits [t*kPer, (t+1)*kPer); `above_mine` counts every digit above them.
  const std::uint32_t above_mine = total - below - mine;
  if (!(above_mine < k_remaining && k_remaining <= above_mine + mine)) return false;
  std::uint32_t cum = above_mine;
#pragma unroll
  for (int q = kPer - 1; q >= 0; --q) {
    if (cum + h[q] >= k_remaining) {
      digit = static_cast<std::uint32_t>(threadIdx.x) * kPer + q;
      above = cum;
      count = h[q];
      return true;
    }
    cum += h[q];
  }
  return false;  // unreachable: the range check above guarantees a hit
}

// Order-preserving output of a final selection by one block: walks i = 0..n-1 in tiles of BLOCK,
// takes key > threshold, and keys == threshold while fewer than ties_needed ties have been taken
// (so the lowest indices win), and writes the taken indices in ascending order. No atomics.
template <int BLOCK, typename KeyAt>
__device__ void block_ordered_output(KeyAt key_at, std::uint32_t n, std::uint32_t threshold,
                                     std::uint32_t ties_needed, std::uint32_t* out) {
  using Scan = cub::BlockScan<std::uint32_t, BLOCK>;
  __shared__ typename Scan::TempStorage scan_tmp;
  std::uint32_t ties_before = 0, written = 0;
  for (std::uint32_t base = 0; base < n; base += BLOCK) {
    const std::uint32_t i = base + threadIdx.x;
    const std::uint32_t key = i < n ? key_at(i) : 0u;
    const bool tie = i < n && key == threshold;
    std::uint32_t tie_rank = 0, tie_total = 0;
    __syncthreads();
    Scan(scan_tmp).ExclusiveSum(tie ? 1u : 0u, tie_rank, tie_total);
    const bool take = i < n && (key > threshold || (tie && ties_before + tie_rank < ties_needed));
    std::uint32_t pos = 0, taken = 0;
    __syncthreads();
    Scan(scan_tmp).ExclusiveSum(take ? 1u : 0u, pos, taken);
    if (take) out[written + pos] = i;
    ties_before += tie_total;
    written += taken;
  }
}

}  // namespace arcsim::cuda::radix
