#pragma once
// Host-callable entry points of the CUDA backend (library arcsim_kernels_cuda). This header
// compiles with g++ alone: it names no CUDA type except the stream, which it forward-declares
// exactly as cuda_runtime.h does (cudaStream_t is `CUstream_st*`), so callers need no CUDA headers.
//
// Every function takes plain device pointers and a stream, enqueues its kernels and returns
// without synchronizing; nothing copies a scalar back to the host, so a whole bucket can be
// captured in a CUDA graph. Semantics are those of the CPU reference in kernels/primitives.hpp,
// bit for bit where that header says "bit-exact" (same indices, same RNG bits, same rounding):
// the GPU tests (tests/kernels/test_cuda_*.cpp) compare the two on the property-test inputs.
// Errors (launch failures, bad arguments) throw std::runtime_error / std::invalid_argument.
#include <cstddef>
#include <cstdint>
#include <string>

struct CUstream_st;

namespace arcsim::cuda {

using Stream = CUstream_st*;  // == cudaStream_t; nullptr is the legacy default stream

// ---- Runtime --------------------------------------------------------------------------------
// Number of usable CUDA devices; 0 when there is no device or no driver (never throws).
int device_count();
// "NVIDIA H100 80GB HBM3" etc. of the current device; throws when there is none.
std::string device_name();
// Driver and runtime versions as "13.0" style strings (driver "none" without a driver).
std::string driver_version();
std::string runtime_version();

// ---- Top-k by magnitude (AIR-style radix select, deterministic) ------------------------------
// Exactly k indices of the k largest magnitude keys of x[0..n), lowest index on ties, written to
// idx_out[0..k) ascending: identical to kernels::topk_magnitude. k <= n (else invalid_argument).
// Passes: 11/11/10-bit digits, each a fused filter + histogram kernel whose last block chooses
// the bucket on the device; candidates are buffered once they fit (adaptive, as AIR Top-K); the
// output is an order-preserving compaction (no atomics-order dependence), so results never
// depend on scheduling.
// EF14 fusion: with e_inout != nullptr the first pass computes u = x + e (one rounding, as
// kernels::ef_add), stores u into e_inout and selects on u; call gather_and_zero afterwards to
// take the values and leave e = u - C(u) in place.
std::size_t topk_workspace_bytes(std::size_t n);
void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out, void* workspace,
                    std::size_t workspace_bytes, Stream stream, float* e_inout = nullptr);

// ---- ARC-Top-K sketch, one launch per bucket --------------------------------------------------
// P = G V for every tensor of a bucket, V (cols x r) generated in the kernel from
// rng::sketch_entry(seed, step, tensor_id, j*r + c). Each (row, c) is accumulated from +0 in
// ascending j with fmaf, so P is bit-identical to kernels::sketch. r in [1, 8].
// EF14 fusion: with e != nullptr the kernel sketches u = g + e and, if u != nullptr, writes u.
struct SketchTensor {
  const float* g = nullptr;
  const float* e = nullptr;  // optional EF14 residual (same shape as g)
  float* u = nullptr;        // optional output u = g + e
  float* p = nullptr;        // rows x r output
  std::uint32_t rows = 0, cols = 0;
  std::uint32_t tensor_id = 0;
  const float* v = nullptr;  // optional: V itself (cols x r), read instead of generated (PowerSGD's Q)
};
void sketch_bucket(const SketchTensor* tensors, std::size_t count, int r, std::uint64_t seed, std::uint32_t step,
                   Stream stream);

// ---- Row scores + row top-k, one launch per bucket -------------------------------------------
// For each tensor: scores[i] = sum_c fmaf(P[i,c], P[i,c], .) (kernels::row_scores), then the k
// rows with the largest scores, lowest index on ties, ascending (kernels::topk_rows). One CTA per
// tensor (n rows is small: the sketch has r floats per row).
struct RowSelectTensor {
  const float* p = nullptr;     // rows x width (width = r, or cols for exact row norms)
  float* scores = nullptr;      // rows entries: the row scores (output, also the select's scratch)
  std::uint32_t rows = 0, width = 0;
  std::uint32_t k = 0;          // <= rows
  std::uint32_t* rows_out = nullptr;  // k entries
};
void select_rows_bucket(const RowSelectTensor* tensors, std::size_t count, Stream stream);

// ---- Gather / scatter of rows, one launch per bucket -----------------------------------------
// gather:  dst[i*cols + j] = src[rows[i]*cols + j]; with zero_src also src[rows[i]*cols + j] = 0
//          (EF14 residual e = u - C(u) in place, since C(u) keeps the selected rows exactly).
// scatter: dst[rows[i]*cols + j] = src[i*cols + j] (rows not listed untouched; zero dst first
//          with cudaMemsetAsync for a dense aggregate).
struct RowCopyTensor {
  float* dense = nullptr;        // the rows x cols tensor (src of gather, dst of scatter)
  float* packed = nullptr;       // k x cols selected rows (dst of gather, src of scatter)
  const std::uint32_t* rows = nullptr;
  std::uint32_t k = 0, cols = 0;
};
void gather_rows_bucket(const RowCopyTensor* tensors, std::size_t count, bool zero_src, Stream stream);
void scatter_rows_bucket(const RowCopyTensor* tensors, std::size_t count, Stream stream);

// ---- Element gather / scatter ------------------------------------------------------------------
void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream);
// dst[i] = src[idx[i]], then src[idx[i]] = 0 (EF14 residual for Top-K / Rand-K, in place).
void gather_and_zero(float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream);
void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream);
// dst[idx[i]] += src[i]; idx must be distinct within one call (true for every selection above),
// which makes the result independent of thread order and equal to kernels::scatter_add.
void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst, Stream stream);

// ---- Rand-K ---------------------------------------------------------------------------------
// The set {pi(i), i < k} in ascending order: the same keyed Feistel bijection with cycle walking as
// kernels::randk_indices (identical indices), then a device radix sort. O(k) work, no
// permutation of [0, n).
void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out, Stream stream);
// Pick: randk_indices, then vals[i] = x[idx[i]] (and idx_out = the indices if idx_out != nullptr);
// with zero_src the picked entries of x are set to 0 afterwards (EF14 residual in place). Ascending
// indices read at most every sector once: about min(32 k, 4 n) B of DRAM traffic + 4 k written,
// the bound its benchmark measures against.
void randk_gather(float* x, std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step,
                  std::uint32_t tensor, float* vals, std::uint32_t* idx_out, bool zero_src, Stream stream);

// ---- Error feedback, element-wise (each output one rounding, as kernels/primitives.hpp) ----------
void ef_add(const float* g, const float* e, std::size_t n, float* u, Stream stream);          // u = g + e
void ef_sub(const float* g, const float* e, std::size_t n, float* d, Stream stream);          // d = g - e
void ef14_residual(const float* u, const float* c, std::size_t n, float* e, Stream stream);   // e = u - c
void ef_accumulate(float* e, const float* c, std::size_t n, Stream stream);                   // e += c
void heavy_ball_update(float* h, const float* g, std::size_t n, float beta, Stream stream);  // h = fmaf(beta, h, g)
void momentum_update(float* h, const float* g, std::size_t n, float eta, Stream stream);      // h = fmaf(eta, g, (1-eta) h)
// x[i] = x[i] / float(workers): the averaging after a sum all-reduce (kernels::divide_by).
void divide(float* x, std::size_t n, int workers, Stream stream);

// ---- Threshold estimators (DGC, GaussianK, RedSync, SIDCo) -------------------------------------
// kernels/primitives.hpp semantics, results left in device memory (no host sync). The moment sums
// use the chunked-tree order of kernels/threshold_math.hpp with explicit _rn double operations:
// bit-exact with kernels::value_moments / exceedance_moments. out3 = {sum, sum_sq, sum_abs} or
// {sum e, sum e^2, sum log e}; the max |x| comes back as its float bit pattern.
std::size_t moments_workspace_bytes(std::size_t n);
void value_moments(const float* x, std::size_t n, double* out3, unsigned* max_abs_bits, void* ws,
                   std::size_t ws_bytes, Stream stream);
void exceedance_moments(const float* x, std::size_t n, float t, bool with_log, double* out3,
                        unsigned long long* count, void* ws, std::size_t ws_bytes, Stream stream);
void count_above(const float* x, std::size_t n, float t, unsigned long long* count, Stream stream);
// Ascending indices with |x| > t (order-preserving compaction); *count = how many.
std::size_t select_above_workspace_bytes(std::size_t n);
void select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out, long long* count, void* ws,
                  std::size_t ws_bytes, Stream stream);
void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out, Stream stream);
void scale(const float* x, std::size_t n, float s, float* out, Stream stream);  // out = s * x
// ---- ADTopk: per-row selection, one CTA per row (rowtopk.cu) ------------------------------------
// Same semantics and outputs as kernels::topk_per_row / threshold_rows_count / threshold_rows_select.
void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out,
                  Stream stream);
void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts,
                          Stream stream);
void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out, Stream stream);

// ---- PowerSGD: products and Gram-Schmidt (lowrank.cu) ---------------------------------------------
// Bit-identical to kernels::matmul_right / matmul_left_t / orthogonalize (same fma chains, the
// same lane-and-tree dot products).
void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C, Stream stream);
void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C,
                   Stream stream);
void orthogonalize(float* P, std::size_t n, std::size_t c, Stream stream);
// ---- Ok-Topk: threshold filter ---------------------------------------------------------------
// Every i < n with magnitude key of x[i] >= key, ascending, into idx_out (room for n); the count
// is written to *count_out (device memory). Identical to kernels::select_at_least.
std::size_t select_at_least_workspace_bytes(std::size_t n);
void select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out, long long* count_out,
                     void* workspace, std::size_t workspace_bytes, Stream stream);

// ---- Test and benchmark inputs ----------------------------------------------------------------
// x[i] = standard normal from rng::gaussian_pair(seed, i / 2, 0, 0, stream 0): reproducible
// inputs of any size without a host round trip.
void fill_normal(float* x, std::size_t n, std::uint64_t seed, Stream stream);

}  // namespace arcsim::cuda
