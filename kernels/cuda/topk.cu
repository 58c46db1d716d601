// Exact top-k by magnitude on the device: an AIR-style MSD radix select (11/11/10-bit digits,
// fused filter + histogram, bucket chosen on the device by the last block of each pass, adaptive
// candidate buffer) followed by an order-preserving compaction, so the result is the reference's
// (lowest index on ties, ascending) whatever the scheduling. Also the per-bucket row selection of
// ARC-Top-K: one CTA per tensor runs the same radix passes over its row scores.
#include <cuda_runtime.h>

#include <cub/block/block_reduce.cuh>
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/cuda/radix_block.cuh"

namespace arcsim::cuda {

namespace {

using radix::kBins;
using radix::SelectState;

constexpr int kThreads = 256;          // every multi-CTA pass
constexpr int kUnroll = 4;             // float4 loads in flight per thread in a pass
constexpr std::uint32_t kTieChunk = 16384;  // elements per block of the tie-cutoff count
constexpr int kRowThreads = 1024;      // row selection: one CTA per tensor
constexpr int kMaxRowBatch = 64;       // tensors per row-selection launch (kernel parameter space)

// ---- workspace ---------------------------------------------------------------------------------
struct Workspace {
  SelectState* state;
  long long* num_selected;
  std::uint32_t* hist;         // kPasses x kBins
  std::uint32_t* blocks_done;  // kPasses counters
  std::uint32_t* tie_counts;   // one per kTieChunk elements
  uint2* buffer;               // (key, index) candidates
  std::uint32_t buffer_cap;
  void* cub_temp;
  std::size_t cub_bytes;
};

std::uint32_t buffer_capacity(std::size_t n) { return static_cast<std::uint32_t>(n / 32 + 1024); }

struct SelectPred {
  const float* values;
  const SelectState* state;
  __device__ bool operator()(std::uint32_t i) const {
    return radix::selected_by(*state, radix::key_of(values[i]), i);
  }
};

std::size_t cub_select_bytes(std::size_t n) {
  std::size_t bytes = 0;
  detail::check(cub::DeviceSelect::If(nullptr, bytes, thrust::counting_iterator<std::uint32_t>(0),
                                      static_cast<std::uint32_t*>(nullptr), static_cast<long long*>(nullptr),
                                      static_cast<std::int64_t>(n), SelectPred{nullptr, nullptr}),
                "cub::DeviceSelect::If (size query)");
  return bytes;
}

Workspace carve(void* base, std::size_t n, std::size_t available) {
  using detail::align_up;
  auto* p = static_cast<unsigned char*>(base);
  std::size_t off = 0;
  Workspace w{};
  w.state = reinterpret_cast<SelectState*>(p + off);
  w.num_selected = reinterpret_cast<long long*>(p + off + align_up(sizeof(SelectState), 8));
  off += 256;
  w.hist = reinterpret_cast<std::uint32_t*>(p + off);
  off += align_up(sizeof(std::uint32_t) * kBins * radix::kPasses);
  w.blocks_done = reinterpret_cast<std::uint32_t*>(p + off);
  off += 256;
  w.tie_counts = reinterpret_cast<std::uint32_t*>(p + off);
  off += align_up(sizeof(std::uint32_t) * ((n + kTieChunk - 1) / kTieChunk));
  w.buffer_cap = buffer_capacity(n);
  w.buffer = reinterpret_cast<uint2*>(p + off);
  off += align_up(sizeof(uint2) * w.buffer_cap);
  w.cub_temp = p + off;
  w.cub_bytes = cub_select_bytes(n);
  off += align_up(w.cub_bytes);
  if (off > available)
    throw std::invalid_argument("topk_magnitude: workspace of " + std::to_string(available) + " bytes, need " +
                                std::to_string(off));
  return w;
}

// ---- kernels -------------------------------------------------------------------------------------

// Zeroes the histograms and counters and sets the initial state (one launch instead of memsets).
__global__ void init_kernel(SelectState* state, std::uint32_t* hist, std::uint32_t* blocks_done, std::uint32_t n,
                            std::uint32_t k) {
  for (std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < kBins * radix::kPasses; i += gridDim.x * blockDim.x)
    hist[i] = 0;
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    radix::state_init(*state, n, k);
    for (int p = 0; p < radix::kPasses; ++p) blocks_done[p] = 0;
  }
}

// Appends (key, i) for every lane with `take` to the candidate buffer: one atomic per warp, the
// lanes' slots by rank among the takers. Order in the buffer does not matter (only histograms
// are built from it; the output pass reads the input in index order).
__device__ __forceinline__ void warp_append(uint2* buffer, std::uint32_t cap, std::uint32_t* count, bool take,
                                            std::uint32_t key, std::uint32_t i) {
  const unsigned ballot = __ballot_sync(0xffffffffu, take);
  if (ballot == 0) return;
  const unsigned lane = threadIdx.x & 31u;
  const int leader = __ffs(ballot) - 1;
  std::uint32_t base = 0;
  if (lane == static_cast<unsigned>(leader)) base = atomicAdd(count, static_cast<std::uint32_t>(__popc(ballot)));
  base = __shfl_sync(0xffffffffu, base, leader);
  if (take) {
    const std::uint32_t slot = base + static_cast<std::uint32_t>(__popc(ballot & ((1u << lane) - 1u)));
    if (slot < cap) buffer[slot] = make_uint2(key, i);
  }
}

// One radix pass over the input: filter by the digits fixed so far, histogram this pass's digit
// (privatized in shared memory), optionally buffer the candidates (pass 1), and let the last block
// to finish choose the bucket. With kEf (pass 0 only), the input is u = a + e, stored into e.
template <int kPass, bool kVec, bool kEf>
__global__ void __launch_bounds__(kThreads) radix_pass_kernel(const float* __restrict__ a, float* __restrict__ e,
                                                              std::uint32_t n, SelectState* state, std::uint32_t* hist_g,
                                                              std::uint32_t* blocks_done, uint2* buffer,
                                                              std::uint32_t cap) {
  __shared__ std::uint32_t hist[kBins];
  __shared__ bool last_block;
  if (state->done) return;  // uniform: an earlier pass ended the selection
  if (kPass == 2 && state->buffered) return;  // radix_buffer_pass_kernel does this pass
  for (int b = threadIdx.x; b < kBins; b += kThreads) hist[b] = 0;
  __syncthreads();
  const std::uint32_t prefix = state->prefix, mask = radix::fixed_mask(kPass);
  const bool to_buffer = kPass == 1 && state->candidates <= cap;

  auto consider = [&](float v, std::uint32_t i, bool valid) {
    const std::uint32_t key = radix::key_of(v);
    const bool match = valid && (key & mask) == prefix;
    radix::warp_hist_add(hist, radix::digit_of(key, kPass), match);
    if (kPass == 1 && to_buffer) warp_append(buffer, cap, &state->buffer_count, match, key, i);
  };
  auto load = [&](std::size_t i) -> float {
    if constexpr (kEf) {
      const float u = a[i] + e[i];  // kernels::ef_add: one rounding
      e[i] = u;
      return u;
    } else {
      return a[i];
    }
  };

  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  std::size_t done_upto = 0;
  if constexpr (kVec) {
    // 16-byte loads for the bulk (the base pointers are 16-byte aligned, checked by the caller),
    // kUnroll of them issued before any is consumed so enough bytes are in flight per SM.
    const std::size_t n4 = n / 4;
    for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * kThreads * kUnroll; base < n4;
         base += stride * kUnroll) {
      float4 v[kUnroll];
      bool valid[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const std::size_t q = base + static_cast<std::size_t>(u) * kThreads + threadIdx.x;
        valid[u] = q < n4;
        v[u] = valid[u] ? reinterpret_cast<const float4*>(a)[q] : make_float4(0.f, 0.f, 0.f, 0.f);
        if constexpr (kEf) {
          if (valid[u]) {
            const float4 ev = reinterpret_cast<const float4*>(e)[q];
            v[u] = make_float4(v[u].x + ev.x, v[u].y + ev.y, v[u].z + ev.z, v[u].w + ev.w);  // one rounding each
            reinterpret_cast<float4*>(e)[q] = v[u];
          }
        }
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const auto i = static_cast<std::uint32_t>(4 * (base + static_cast<std::size_t>(u) * kThreads + threadIdx.x));
        consider(v[u].x, i, valid[u]);
        consider(v[u].y, i + 1, valid[u]);
        consider(v[u].z, i + 2, valid[u]);
        consider(v[u].w, i + 3, valid[u]);
      }
    }
    done_upto = 4 * n4;
  }
  // Scalar path (and the tail after the vector loop): warp-uniform steps, lanes past n masked.
  for (std::size_t base = done_upto + static_cast<std::size_t>(blockIdx.x) * kThreads; base < n; base += stride) {
    const std::size_t i = base + threadIdx.x;
    const bool valid = i < n;
    consider(valid ? load(i) : 0.0f, static_cast<std::uint32_t>(i), valid);
  }

  // Merge into the global histogram; the last block to arrive chooses the bucket.
  __syncthreads();
  for (int b = threadIdx.x; b < kBins; b += kThreads)
    if (hist[b]) atomicAdd(&hist_g[b], hist[b]);
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last_block = atomicAdd(blocks_done, 1u) == gridDim.x - 1;
  __syncthreads();
  if (!last_block) return;
  __threadfence();
  std::uint32_t digit = 0, above = 0, count = 0;
  const std::uint32_t k_remaining = state->k_remaining;
  if (radix::block_choose<kThreads>([&](int b) { return __ldcg(&hist_g[b]); }, k_remaining, digit, above, count)) {
    SelectState s = *state;
    radix::apply_bucket(s, kPass, digit, above, count);
    state->prefix = s.prefix;
    state->k_remaining = s.k_remaining;
    state->above = s.above;
    state->candidates = s.candidates;
    state->threshold = s.threshold;
    state->ties_total = s.ties_total;
    state->ties_needed = s.ties_needed;
    state->cutoff = s.cutoff;
    if (kPass == 1) state->buffered = to_buffer ? 1u : 0u;
    __threadfence();
    state->done = s.done;
  }
}

// Pass 2 over the buffered candidates of pass 1 (when they fit): same filter + histogram + choose.
__global__ void __launch_bounds__(kThreads) radix_buffer_pass_kernel(const uint2* __restrict__ buffer,
                                                                     SelectState* state, std::uint32_t* hist_g,
                                                                     std::uint32_t* blocks_done) {
  constexpr int kPass = 2;
  __shared__ std::uint32_t hist[kBins];
  __shared__ bool last_block;
  if (state->done || !state->buffered) return;
  for (int b = threadIdx.x; b < kBins; b += kThreads) hist[b] = 0;
  __syncthreads();
  const std::uint32_t prefix = state->prefix, mask = radix::fixed_mask(kPass), count_in = state->buffer_count;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * kThreads; base < count_in; base += stride) {
    const std::size_t j = base + threadIdx.x;
    const bool valid = j < count_in;
    const std::uint32_t key = valid ? buffer[j].x : 0u;
    radix::warp_hist_add(hist, radix::digit_of(key, kPass), valid && (key & mask) == prefix);
  }
  __syncthreads();
  for (int b = threadIdx.x; b < kBins; b += kThreads)
    if (hist[b]) atomicAdd(&hist_g[b], hist[b]);
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last_block = atomicAdd(blocks_done, 1u) == gridDim.x - 1;
  __syncthreads();
  if (!last_block) return;
  __threadfence();
  std::uint32_t digit = 0, above = 0, count = 0;
  if (radix::block_choose<kThreads>([&](int b) { return __ldcg(&hist_g[b]); }, state->k_remaining, digit, above,
                                    count)) {
    SelectState s = *state;
    radix::apply_bucket(s, kPass, digit, above, count);
    *state = s;
  }
}

// Tie cutoff, step 1: keys equal to the threshold per chunk of kTieChunk elements. Runs only when
// fewer ties are taken than exist (otherwise every block returns at once).
__global__ void __launch_bounds__(kThreads) tie_count_kernel(const float* __restrict__ values, std::uint32_t n,
                                                             const SelectState* state, std::uint32_t* counts) {
  if (state->ties_needed >= state->ties_total) return;
  using Reduce = cub::BlockReduce<std::uint32_t, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  const std::uint32_t thr = state->threshold;
  const std::size_t begin = static_cast<std::size_t>(blockIdx.x) * kTieChunk;
  const std::size_t end = std::min<std::size_t>(n, begin + kTieChunk);
  std::uint32_t c = 0;
  for (std::size_t i = begin + threadIdx.x; i < end; i += kThreads) c += radix::key_of(values[i]) == thr;
  const std::uint32_t total = Reduce(tmp).Sum(c);
  if (threadIdx.x == 0) counts[blockIdx.x] = total;
}

// Tie cutoff, step 2 (one block): the chunk holding the ties_needed-th tie, then its index.
__global__ void __launch_bounds__(1024) tie_find_kernel(const float* __restrict__ values, std::uint32_t n,
                                                        SelectState* state, const std::uint32_t* counts,
                                                        std::uint32_t chunks) {
  if (state->ties_needed >= state->ties_total) return;
  using Scan = cub::BlockScan<std::uint32_t, 1024>;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ std::uint32_t found_chunk, rank_in_chunk;
  const std::uint32_t need = state->ties_needed, thr = state->threshold;
  // Chunks in order: the one where the running tie count first reaches `need`.
  std::uint32_t running = 0;
  for (std::uint32_t base = 0; base < chunks; base += 1024) {
    const std::uint32_t c = base + threadIdx.x;
    const std::uint32_t v = c < chunks ? counts[c] : 0u;
    std::uint32_t excl = 0, total = 0;
    __syncthreads();
    Scan(tmp).ExclusiveSum(v, excl, total);
    if (c < chunks && running + excl < need && need <= running + excl + v) {
      found_chunk = c;
      rank_in_chunk = need - (running + excl);  // 1-based rank of the last taken tie in the chunk
    }
    running += total;
    if (running >= need) break;  // uniform: every thread holds the same running total
  }
  __syncthreads();
  const std::size_t begin = static_cast<std::size_t>(found_chunk) * kTieChunk;
  const std::size_t end = std::min<std::size_t>(n, begin + kTieChunk);
  const std::uint32_t want = rank_in_chunk;
  running = 0;
  for (std::size_t base = begin; base < end; base += 1024) {
    const std::size_t i = base + threadIdx.x;
    const std::uint32_t tie = (i < end && radix::key_of(values[i]) == thr) ? 1u : 0u;
    std::uint32_t excl = 0, total = 0;
    __syncthreads();
    Scan(tmp).ExclusiveSum(tie, excl, total);
    if (tie && running + excl + 1 == want) state->cutoff = static_cast<std::uint32_t>(i);
    running += total;
    if (running >= want) break;
  }
}

// Row selection of ARC-Top-K: block b handles tensor b of the batch: row scores (written to
// t.scores), three radix passes in shared memory, ordered output.
struct RowBatch {
  RowSelectTensor t[kMaxRowBatch];
};

__global__ void __launch_bounds__(kRowThreads) select_rows_kernel(RowBatch batch) {
  const RowSelectTensor& t = batch.t[blockIdx.x];
  if (t.rows == 0 || t.k == 0) return;
  __shared__ std::uint32_t hist[kBins];
  __shared__ SelectState st;
  // Scores: kernels::row_scores, fmaf from +0 in ascending c.
  for (std::uint32_t i = threadIdx.x; i < t.rows; i += kRowThreads) {
    const float* p = t.p + static_cast<std::size_t>(i) * t.width;
    float acc = 0.0f;
    for (std::uint32_t c = 0; c < t.width; ++c) acc = __fmaf_rn(p[c], p[c], acc);
    t.scores[i] = acc;
  }
  if (threadIdx.x == 0) radix::state_init(st, t.rows, t.k);
  __syncthreads();  // scores (global) and state visible to the block
  for (int pass = 0; pass < radix::kPasses; ++pass) {
    for (int b = threadIdx.x; b < kBins; b += kRowThreads) hist[b] = 0;
    __syncthreads();
    const std::uint32_t prefix = st.prefix, mask = radix::fixed_mask(pass);
    for (std::uint32_t base = 0; base < t.rows; base += kRowThreads) {
      const std::uint32_t i = base + threadIdx.x;
      const std::uint32_t key = i < t.rows ? radix::key_of(t.scores[i]) : 0u;
      radix::warp_hist_add(hist, radix::digit_of(key, pass), i < t.rows && (key & mask) == prefix);
    }
    __syncthreads();
    std::uint32_t digit = 0, above = 0, count = 0;
    const std::uint32_t k_remaining = st.k_remaining;
    if (radix::block_choose<kRowThreads>([&](int b) { return hist[b]; }, k_remaining, digit, above, count))
      radix::apply_bucket(st, pass, digit, above, count);
    __syncthreads();
    if (st.done) break;  // uniform
  }
  const std::uint32_t thr = st.threshold, ties_needed = st.ties_needed;
  radix::block_ordered_output<kRowThreads>([&](std::uint32_t i) { return radix::key_of(t.scores[i]); }, t.rows, thr,
                                           ties_needed, t.rows_out);
}

}  // namespace

// ---- dispatch -------------------------------------------------------------------------------------

std::size_t topk_workspace_bytes(std::size_t n) {
  using detail::align_up;
  return 256 + align_up(sizeof(std::uint32_t) * kBins * radix::kPasses) + 256 +
         align_up(sizeof(std::uint32_t) * ((n + kTieChunk - 1) / kTieChunk)) +
         align_up(sizeof(uint2) * buffer_capacity(n)) + align_up(cub_select_bytes(n));
}

void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out, void* workspace,
                    std::size_t workspace_bytes, Stream stream, float* e_inout) {
  if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (n >= 0xffffffffull) throw std::invalid_argument("topk_magnitude: n >= 2^32");
  if (n == 0 || k == 0) return;
  const Workspace w = carve(workspace, n, workspace_bytes);
  const auto n32 = static_cast<std::uint32_t>(n);
  const int grid = static_cast<int>(
      std::max<std::size_t>(1, std::min<std::size_t>((n + 4 * kThreads * kUnroll - 1) / (4 * kThreads * kUnroll),
                                                     static_cast<std::size_t>(detail::sm_count()) * 4)));
  const bool ef = e_inout != nullptr;
  const bool vec = reinterpret_cast<std::uintptr_t>(x) % 16 == 0 &&
                   (!ef || reinterpret_cast<std::uintptr_t>(e_inout) % 16 == 0);
  const float* values = ef ? e_inout : x;  // what passes 1-2 and the output select on
  const bool vec_values = reinterpret_cast<std::uintptr_t>(values) % 16 == 0;

  init_kernel<<<4, 1024, 0, stream>>>(w.state, w.hist, w.blocks_done, n32, static_cast<std::uint32_t>(k));
  detail::check_launch("topk init");
  std::uint32_t* h0 = w.hist;
  std::uint32_t* h1 = w.hist + kBins;
  std::uint32_t* h2 = w.hist + 2 * kBins;
#define ARCSIM_PASS(P, V, E, A, H)                                                                            \
  radix_pass_kernel<P, V, E><<<grid, kThreads, 0, stream>>>(A, e_inout, n32, w.state, H, w.blocks_done + P, \
                                                            w.buffer, w.buffer_cap)
  if (ef && vec) ARCSIM_PASS(0, true, true, x, h0);
  else if (ef) ARCSIM_PASS(0, false, true, x, h0);
  else if (vec) ARCSIM_PASS(0, true, false, x, h0);
  else ARCSIM_PASS(0, false, false, x, h0);
  detail::check_launch("topk pass 0");
  if (vec_values) ARCSIM_PASS(1, true, false, values, h1);
  else ARCSIM_PASS(1, false, false, values, h1);
  detail::check_launch("topk pass 1");
  // Pass 2 runs from the buffer when pass 1 filled it, else over the input; exactly one of the two
  // kernels does work (both read the flag on the device: no host round trip).
  radix_buffer_pass_kernel<<<grid, kThreads, 0, stream>>>(w.buffer, w.state, h2, w.blocks_done + 2);
  detail::check_launch("topk pass 2 (buffer)");
  if (vec_values) ARCSIM_PASS(2, true, false, values, h2);
  else ARCSIM_PASS(2, false, false, values, h2);
  detail::check_launch("topk pass 2 (input)");
#undef ARCSIM_PASS
  const auto chunks = static_cast<std::uint32_t>((n + kTieChunk - 1) / kTieChunk);
  tie_count_kernel<<<chunks, kThreads, 0, stream>>>(values, n32, w.state, w.tie_counts);
  detail::check_launch("topk tie count");
  tie_find_kernel<<<1, 1024, 0, stream>>>(values, n32, w.state, w.tie_counts, chunks);
  detail::check_launch("topk tie find");
  std::size_t cub_bytes = w.cub_bytes;
  detail::check(cub::DeviceSelect::If(w.cub_temp, cub_bytes, thrust::counting_iterator<std::uint32_t>(0), idx_out,
                                      w.num_selected, static_cast<std::int64_t>(n), SelectPred{values, w.state},
                                      stream),
                "topk ordered select");
}

void select_rows_bucket(const RowSelectTensor* tensors, std::size_t count, Stream stream) {
  for (std::size_t first = 0; first < count; first += kMaxRowBatch) {
    RowBatch batch{};
    const std::size_t m = std::min<std::size_t>(kMaxRowBatch, count - first);
    for (std::size_t i = 0; i < m; ++i) {
      const RowSelectTensor& t = tensors[first + i];
      if (t.k > t.rows)
        throw std::invalid_argument("select_rows_bucket: tensor " + std::to_string(first + i) + ": k = " +
                                    std::to_string(t.k) + " > rows = " + std::to_string(t.rows));
      batch.t[i] = t;
    }
    select_rows_kernel<<<static_cast<unsigned>(m), kRowThreads, 0, stream>>>(batch);
    detail::check_launch("select_rows_bucket");
  }
}

}  // namespace arcsim::cuda
