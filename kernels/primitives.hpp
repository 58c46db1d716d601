#pragma once
// The compression primitives of the CPU reference backend: plain functions on host pointers.
// They are the test oracle for the CUDA backend (kernels/cuda/), so every function states its
// exact semantics, including tie-breaking, summation order and output order. Where a statement
// says "bit-exact", a device implementation is expected to reproduce the same bits.
//
// Conventions
//  * Matrices are row-major. Indices are uint32 (a tensor has fewer than 2^32 elements).
//  * Magnitude key: key(x) = bit pattern of x with the sign bit cleared, compared as uint32. For
//    finite floats this is exactly the order of |x| (+0 and -0 share key 0; denormals order
//    correctly). NaN POLICY: the compressors reject non-finite input before any primitive runs
//    (std::invalid_argument naming the worker and the position). A primitive given NaN does not
//    fail: NaN's key is above +inf's, so a NaN ranks as larger than any number (radix-select
//    friendly, and the same on the device).
//  * Selection ties are broken by the lowest index; selected indices are returned sorted
//    ascending. So the result is a pure function of the input: the same on every worker, backend
//    and run.
//  * Empty inputs (n == 0, k == 0) are valid and do nothing.
#include <cstddef>
#include <cstdint>

#include "kernels/philox.hpp"  // ARCSIM_HD

namespace arcsim::kernels {

// Sign-cleared bit pattern of x (see "Magnitude key" above).
std::uint32_t magnitude_key(float x);

// Exactly k indices (k <= n, else std::invalid_argument) of the k largest magnitude keys of
// x[0..n), ties broken by the lowest index, written to idx_out[0..k) sorted ascending.
// Equivalently: the first k positions of a stable sort by descending key. O(n) expected.
void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out);

// Same selection rule on row scores (non-negative, e.g. from row_scores): the k largest scores,
// lowest row index on ties, idx_out sorted ascending. Identical to topk_magnitude(scores, ...).
void topk_rows(const float* scores, std::size_t n_rows, std::size_t k, std::uint32_t* idx_out);

// The shared Gaussian matrix V (m x r, row-major): V[j*r + c] = rng::sketch_entry(seed, step,
// tensor, j*r + c). Bit-exact on host and device.
void sketch_matrix(std::size_t m, int r, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   float* V);

// Sketch P = G V of G (n x m) with V = sketch_matrix(m, r, seed, step, tensor): P is n x r,
// P[i*r + c] = sum_j G[i*m + j] * V[j*r + c], accumulated from acc = +0 in ascending j with
// acc = fmaf(G[i,j], V[j,c], acc). A device kernel that keeps this order matches bit for bit;
// any other order agrees to rounding only.
void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
            std::uint32_t tensor, float* P);

// Squared row norms of P (n x r): scores[i] = acc over ascending c of acc = fmaf(P[i,c], P[i,c], acc)
// from +0. Bit-exact. With r = m and P = the matrix itself this gives the exact row energies.
void row_scores(const float* P, std::size_t n, std::size_t r, float* scores);

// dst[i*m + j] = src[rows[i]*m + j] for i < k (rows of an n x m matrix into a k x m block).
void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst);

// dst[rows[i]*m + j] = src[i*m + j] for i < k (assignment; rows not listed are left untouched).
void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst);

// Element versions: dst[i] = src[idx[i]]; dst[idx[i]] = src[i]; dst[idx[i]] += src[i] (in i order).
void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);
void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);
void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);

// k distinct indices in [0, n) (k <= n, else std::invalid_argument), a pure function of
// (n, k, seed, step, tensor), generated in O(k) time and memory with no permutation of [0, n):
// out[i] = pi(i) where pi is a keyed bijection on [0, n), a kFeistelRounds-round balanced Feistel
// network on 2h bits (h = max(1, ceil(bits(n-1) / 2))) with cycle walking (re-apply the network
// until the value is < n). Round keys: keys[4c + j] = word j of Philox4x32-10 of counter
// (step, tensor, c, kStreamRandK) under seed, c = 0, 1. Round t maps (L, R) to (R, L ^ F) with
// F = randk_mix(R ^ keys[t]) & (2^h - 1). out holds the set {pi(0), ..., pi(k-1)} in ascending
// order: Rand-K's result does not depend on the order (the indices are shared, never sent, and
// distinct), and ascending indices make its gathers and scatters stream through memory.
void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out);
// The bijection itself, for device implementations that generate out[i] in parallel.
inline constexpr int kFeistelRounds = 8;
std::uint32_t randk_permute(std::uint32_t i, std::uint32_t n, const std::uint32_t keys[kFeistelRounds]);
void randk_keys(std::uint64_t seed, std::uint32_t step, std::uint32_t tensor, std::uint32_t keys[kFeistelRounds]);
// 32-bit integer hash used by the Feistel round. Inline and host/device: the reference, the
// vectorised CPU lanes and the CUDA kernels all evaluate this one definition.
ARCSIM_HD std::uint32_t randk_mix(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// ---- Ok-Topk: threshold filter with a reused threshold
// Every index i < n with magnitude_key(x[i]) >= key, written to idx_out ascending (idx_out holds
// n entries); returns how many. One read of x: the selection step between exact re-evaluations.
std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out);

// ---- Error-feedback helpers (element-wise over n; every output is one rounding of the formula).
// u = g + e                       (EF14 input)
void ef_add(const float* g, const float* e, std::size_t n, float* u);
// d = g - e                       (EF21 / EF21M input)
void ef_sub(const float* g, const float* e, std::size_t n, float* d);
// e = u - c                       (EF14 residual; with c = C(u) a sparsification of u this is u with
//                                  the selected entries set to 0, so c + e == u exactly)
void ef14_residual(const float* u, const float* c, std::size_t n, float* e);
// e += c                          (EF21 state update with the local compressed message c)
void ef_accumulate(float* e, const float* c, std::size_t n);
// h = fmaf(eta, g, (1 - eta) * h) (EF21M momentum, eta = weight of the new gradient)
void momentum_update(float* h, const float* g, std::size_t n, float eta);
// Heavy-ball momentum (the authors' synthetic script): h = fma(beta, h, g).
void heavy_ball_update(float* h, const float* g, std::size_t n, float beta);

// ---- Threshold estimators (DGC, GaussianK, RedSync, SIDCo) ----------------------------------------
// Moment sums are double, added in the chunked-tree order of kernels/threshold_math.hpp (terms at
// their element positions, absent terms +0), which every backend reproduces: bit-exact. Products
// x*x of floats are exact in double, so only the additions round. Comparisons are strict:
// "|x| > t" (a caller wanting |x| >= thr passes t = nextafter(thr, 0)); t < 0 selects everything.
struct ValueMoments {
  double sum = 0.0, sum_sq = 0.0, sum_abs = 0.0;  // sums of x, x^2, |x|
  float max_abs = 0.0f;                           // max |x| (0 for n == 0)
};
ValueMoments value_moments(const float* x, std::size_t n);
// Over the elements with |x| > t, the exceedance e = |x| - t (one float rounding, > 0): their
// count and the sums of e, e^2 and, with with_log, thr::log_portable(e) (else sum_log = 0).
struct ExceedanceMoments {
  std::uint64_t count = 0;
  double sum = 0.0, sum_sq = 0.0, sum_log = 0.0;
};
ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log);
// #{i : |x[i]| > t}.
std::uint64_t count_above(const float* x, std::size_t n, float t);
// The indices i with |x[i]| > t, ascending, into idx_out (room for count_above(x, n, t));
// returns their count.
std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out);
// out[i] = |x[p_i]| for i < m, p_i = thr::sample_position(i, n, seed, step, tensor, worker)
// (uniform with replacement; n < 2^32 and n > 0 when m > 0, else std::invalid_argument).
void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out);
// out[i] = s * x[i] (one rounding; out may be x).
void scale(const float* x, std::size_t n, float s, float* out);
// ---- ADTopk (all-dimension top-k): per-row selection of an n_rows x m matrix ----------------
// Row i's k_row largest magnitude keys (topk_magnitude on the row: lowest index on ties),
// written as row-local column indices to idx_out[i*k_row .. (i+1)*k_row), ascending within the
// row. k_row <= m (else std::invalid_argument). Every row contributes k_row entries.
void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out);
// The threshold filter of ADTopk's threshold reuse, per row against a stored threshold thr[i]:
// row i keeps the columns j with magnitude_key(x[i,j]) >= magnitude_key(thr[i]); a row that keeps
// none keeps its single largest-magnitude entry (lowest index on ties), so every row still
// contributes. counts[i] = the number row i keeps (>= 1 when m >= 1).
void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts);
// The kept entries as matrix-flat indices i*m + j, row i's at idx_out[offsets[i] ..
// offsets[i] + counts[i]) ascending, offsets = the exclusive prefix sum of threshold_rows_count.
void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out);

// ---- PowerSGD (low-rank approximation) -------------------------------------------------------
// C = A B with A n x k, B k x c, C n x c (row-major): C[i,q] = fmaf chain over ascending j from
// +0 of A[i,j] * B[j,q]. The sketch's order: matmul_right(G, n, m, V, r, P) with
// V = sketch_matrix(m, r, ...) equals sketch(G, n, m, r, ...) bit for bit.
void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C);
// C = A^T B with A n x m, B n x c, C m x c: C[j,q] = fmaf chain over ascending i from +0 of
// A[i,j] * B[i,q].
void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C);
// Dot product of two strided vectors of length n in a fixed order a device CTA of kDotLanes
// threads reproduces: lane l accumulates terms l, l + L, l + 2L, ... (fmaf from +0, ascending),
// then lanes are combined by the tree lane[l] += lane[l + s] for s = L/2, L/4, ..., 1.
inline constexpr std::size_t kDotLanes = 256;
float lane_dot(const float* a, std::size_t stride_a, const float* b, std::size_t stride_b, std::size_t n);
// Modified Gram-Schmidt of the c columns of P (n x c, row-major), in place, columns in ascending
// order: col_q /= (sqrtf(lane_dot(col_q, col_q)) + kOrthoEps); then for every later column p,
// col_p[i] = fmaf(-lane_dot(col_q, col_p), col_q[i], col_p[i]). A zero column stays zero.
inline constexpr float kOrthoEps = 1e-16f;
void orthogonalize(float* P, std::size_t n, std::size_t c);

}  // namespace arcsim::kernels
