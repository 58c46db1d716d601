#pragma once
// The fast CPU backend's kernels (multi-threaded with OpenMP, loops written to vectorise). Each has
// the exact semantics of its namesake in kernels/primitives.hpp and returns the same bits: the
// tests (tests/kernels/test_cpu_backend.cpp) compare them with the reference on the property
// inputs. Exposed for those tests and the benchmarks; everything else reaches them through
// cpu_backend() (kernels/backend.hpp).
#include <cstddef>
#include <cstdint>

#include "kernels/primitives.hpp"  // ValueMoments, ExceedanceMoments

namespace arcsim::kernels::cpu {

// Radix select over the 31 magnitude-key bits: a histogram pass over the top 11 bits (per-thread
// histograms), one pass that writes the indices above the threshold digit and the candidates
// equal to it (in index order, into exactly sized per-thread regions), then 10 + 10 bits resolved
// on the candidates only, and a per-thread merge of the two ascending lists. Two reads of x plus
// O(k + candidates): the same indices as kernels::topk_magnitude (lowest index on ties, ascending).
// Before the histogram passes, a sample of x (every 64th key) predicts a band of keys around the
// threshold; one pass then keeps the keys above the band and the candidates inside it, and the
// digits are resolved on the candidates. If the band misses (or holds too many candidates, as on
// low-entropy inputs) the histogram passes run instead: the result is exact either way.
void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out);
// The histogram passes alone (for the tests, which check both paths).
void topk_magnitude_histogram(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out);

// P = G V with V = kernels::sketch_matrix(...): blocks of 8 rows advance together over j, so
// 8 x r independent fma chains are in flight, each (row, c) still accumulated from +0 in
// ascending j with one fmaf per term: bit-identical to kernels::sketch.
void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
            std::uint32_t tensor, float* P);

// Parallel over disjoint outputs, so identical to the reference. The scatter variants run in
// parallel only when the indices are strictly ascending (distinct: no two writes to one place);
// otherwise they keep the reference's sequential order (last write wins, sums in i order).
void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                   std::uint32_t* out);
void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);
void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);
void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst);
void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst);
void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst);
void row_scores(const float* P, std::size_t n, std::size_t r, float* scores);
void ef_add(const float* g, const float* e, std::size_t n, float* u);
void ef_sub(const float* g, const float* e, std::size_t n, float* d);
void ef14_residual(const float* u, const float* c, std::size_t n, float* e);
void ef_accumulate(float* e, const float* c, std::size_t n);
void momentum_update(float* h, const float* g, std::size_t n, float eta);
void heavy_ball_update(float* h, const float* g, std::size_t n, float beta);  // h = fma(beta, h, g)
void divide(float* x, std::size_t n, int workers);
// Ok-Topk: kernels::select_at_least, one pass split into per-thread chunks (counts, then each
// chunk writes its ascending run at its prefix offset): the same indices in the same order.
std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out);
void zero(float* x, std::size_t n);

// Threshold estimators (DGC, GaussianK, RedSync, SIDCo): the chunks of the moment sums in
// parallel (same fixed tree, same bits); counts, the sample and the scale in parallel over
// disjoint outputs; select_above counts per thread block then writes each block's ascending run
// at its prefix offset (kernels/cpu/threshold.cpp).
ValueMoments value_moments(const float* x, std::size_t n);
ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log);
std::uint64_t count_above(const float* x, std::size_t n, float t);
std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out);
void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                       std::uint32_t tensor, std::uint32_t worker, float* out);
void scale(const float* x, std::size_t n, float s, float* out);
// ADTopk: rows are independent, so they are split over the threads (each row the reference's
// topk_magnitude / filter): identical to kernels::topk_per_row and kernels::threshold_rows_*.
void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out);
void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts);
void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out);
// PowerSGD: C = A B through the blocked sketch loop (8 rows advance together, each C[i,q] the
// reference's fmaf chain over ascending j) and C = A^T B with the columns of C split over the
// threads (each C[j,q] still summed over ascending i): identical to kernels::matmul_right /
// kernels::matmul_left_t.
void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C);
void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C);

}  // namespace arcsim::kernels::cpu
