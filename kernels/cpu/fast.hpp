#pragma once
// The fast CPU backend's kernels (multi-threaded with OpenMP, loops written to vectorise). Each has
// the exact semantics of its namesake in kernels/primitives.hpp and returns the same bits: the
// tests (tests/kernels/test_cpu_backend.cpp) compare them with the reference on the property
// inputs. Exposed for those tests and the benchmarks; everything else reaches them through
// cpu_backend() (kernels/backend.hpp).
#include <cstddef>
#include <cstdint>

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
void zero(float* x, std::size_t n);

}  // namespace arcsim::kernels::cpu
