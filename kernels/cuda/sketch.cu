// The ARC-Top-K sketch P = G V for every tensor of a bucket in one launch, bit-identical to
// kernels::sketch: each (row, c) is one fmaf chain from +0 in ascending column order.
//
// The sum order is fixed by the reference, so a row cannot be split across threads; instead a CTA
// streams a block of 32 rows through shared memory in tiles of 128 columns (coalesced loads, the
// next tile prefetched into registers while the current one is consumed), and each thread runs
// the chains of one row for one or two of the r columns of V. ARC's V is never read from memory: each
// tile's 128 x r entries are generated in the kernel from rng::gaussian_pair (Philox + Box-Muller,
// the same bits as the host), once per CTA and tile; given a V (PowerSGD's warm-started Q,
// SketchTensor::v) the tile is read from it instead. With EF14 fused, the kernel reads g and e,
// sketches u = g + e and writes u: 12 B per element instead of a separate EF pass.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/philox.hpp"

namespace arcsim::cuda {

namespace {

constexpr int kThreads = 128;
constexpr int kRows = 32;        // rows per CTA: one per lane
constexpr int kTile = 128;       // columns per shared-memory tile
constexpr int kPerThread = kRows * kTile / kThreads;  // tile elements each thread loads
constexpr int kMaxBatch = 32;    // tensors per launch (kernel parameter space)

struct SketchBatch {
  SketchTensor t[kMaxBatch];
  std::uint32_t cta_begin[kMaxBatch + 1];  // CTAs of tensor i: [cta_begin[i], cta_begin[i+1])
  int count;
};

template <int R>
__global__ void __launch_bounds__(kThreads) sketch_kernel(const SketchBatch batch, std::uint64_t seed,
                                                          std::uint32_t step) {
  __shared__ float g_tile[kRows][kTile + 1];  // +1: lane l reads row l at one column, no bank conflicts
  __shared__ float v_tile[kTile * R];

  int ti = 0;
  while (ti + 1 < batch.count && blockIdx.x >= batch.cta_begin[ti + 1]) ++ti;
  const SketchTensor& t = batch.t[ti];
  const std::uint32_t row0 = (blockIdx.x - batch.cta_begin[ti]) * kRows;
  const std::uint32_t cols = t.cols;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  // Chains of this thread: row row0 + lane, columns c0 = warp and c1 = warp + 4 of V (if < R).
  const int c0 = warp, c1 = warp + 4;
  float acc0 = 0.0f, acc1 = 0.0f;

  // kTile == kThreads: in a tile, thread x loads column j0 + x of each of the CTA's 32 rows.
  static_assert(kTile == kThreads && kPerThread == kRows, "tile layout");
  const std::uint32_t rows_here = min(static_cast<std::uint32_t>(kRows), t.rows - row0);
  float pre[kRows];
  auto load_tile = [&](std::uint32_t j0) {
    const std::uint32_t col = j0 + threadIdx.x;
    std::size_t at = static_cast<std::size_t>(row0) * cols + col;
#pragma unroll
    for (int q = 0; q < kRows; ++q, at += cols) {
      float v = 0.0f;
      if (col < cols && static_cast<std::uint32_t>(q) < rows_here) {
        v = t.g[at];
        if (t.e != nullptr) {
          v = v + t.e[at];  // kernels::ef_add: one rounding
          if (t.u != nullptr) t.u[at] = v;
        }
      }
      pre[q] = v;
    }
  };

  if (cols > 0) load_tile(0);
  for (std::uint32_t j0 = 0; j0 < cols; j0 += kTile) {
    const int width = static_cast<int>(min(static_cast<std::uint32_t>(kTile), cols - j0));
#pragma unroll
    for (int q = 0; q < kRows; ++q) g_tile[q][threadIdx.x] = pre[q];
    // V entries of this tile: flat indices [j0 R, (j0 + width) R), in Philox pairs (j0 R is even),
    // or read from t.v when V is given (PowerSGD's warm-started Q).
    const int entries = width * R;
    if (t.v != nullptr) {
      for (int x = threadIdx.x; x < entries; x += kThreads) v_tile[x] = t.v[static_cast<std::size_t>(j0) * R + x];
    } else {
      for (int pr = threadIdx.x; 2 * pr < entries; pr += kThreads) {
        const std::uint64_t flat = static_cast<std::uint64_t>(j0) * R + 2 * static_cast<std::uint64_t>(pr);
        float z0, z1;
        rng::gaussian_pair(seed, static_cast<std::uint32_t>(flat >> 1), t.tensor_id, step,
                           rng::kStreamSketch ^ static_cast<std::uint32_t>(flat >> 33), z0, z1);
        v_tile[2 * pr] = z0;
        if (2 * pr + 1 < entries) v_tile[2 * pr + 1] = z1;
      }
    }
    __syncthreads();
    if (j0 + kTile < cols) load_tile(j0 + kTile);  // in flight while this tile is consumed
    if (c0 < R) {
      for (int jj = 0; jj < width; ++jj) {
        const float g = g_tile[lane][jj];
        acc0 = __fmaf_rn(g, v_tile[jj * R + c0], acc0);
        if (c1 < R) acc1 = __fmaf_rn(g, v_tile[jj * R + c1], acc1);
      }
    }
    __syncthreads();
  }
  const std::uint32_t row = row0 + lane;
  if (row < t.rows) {
    if (c0 < R) t.p[static_cast<std::size_t>(row) * R + c0] = acc0;
    if (c1 < R) t.p[static_cast<std::size_t>(row) * R + c1] = acc1;
  }
}

template <int R>
void launch(const SketchBatch& b, unsigned ctas, std::uint64_t seed, std::uint32_t step, Stream stream) {
  sketch_kernel<R><<<ctas, kThreads, 0, stream>>>(b, seed, step);
}

}  // namespace

void sketch_bucket(const SketchTensor* tensors, std::size_t count, int r, std::uint64_t seed, std::uint32_t step,
                   Stream stream) {
  if (r < 1 || r > 8) throw std::invalid_argument("sketch_bucket: rank r must be in [1, 8], got " + std::to_string(r));
  for (std::size_t first = 0; first < count; first += kMaxBatch) {
    SketchBatch b{};
    b.count = static_cast<int>(std::min<std::size_t>(kMaxBatch, count - first));
    std::uint32_t ctas = 0;
    for (int i = 0; i < b.count; ++i) {
      b.t[i] = tensors[first + i];
      b.cta_begin[i] = ctas;
      ctas += (b.t[i].rows + kRows - 1) / kRows;
    }
    b.cta_begin[b.count] = ctas;
    if (ctas == 0) continue;
    switch (r) {
      case 1: launch<1>(b, ctas, seed, step, stream); break;
      case 2: launch<2>(b, ctas, seed, step, stream); break;
      case 3: launch<3>(b, ctas, seed, step, stream); break;
      case 4: launch<4>(b, ctas, seed, step, stream); break;
      case 5: launch<5>(b, ctas, seed, step, stream); break;
      case 6: launch<6>(b, ctas, seed, step, stream); break;
      case 7: launch<7>(b, ctas, seed, step, stream); break;
      default: launch<8>(b, ctas, seed, step, stream); break;
    }
    detail::check_launch("sketch_bucket");
  }
}

}  // namespace arcsim::cuda
