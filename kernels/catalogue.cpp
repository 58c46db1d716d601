// The kernel catalogue (catalogue.hpp). The work formulas are those the plan has always recorded;
// the cost entries are explained, number by number, in docs/gpu.md ("Cost model").
#include "kernels/catalogue.hpp"

#include <stdexcept>

namespace arcsim::kernels {

namespace {
using W = KernelWork;
constexpr std::size_t kF = 4;  // bytes of a float32 / int32

const KernelSpec kCatalogue[] = {
    // radix select: histogram pass + filter/histogram pass + ordered select pass = 3 reads of the
    // input where bytes_moved counts 1 (+ the k outputs); memset, 3 passes, tie cutoff, select.
    {KernelId::kTopkSelect, "topk_select", "topk_magnitude per tensor + gather of the k values",
     "n", "4 n + 8 k", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + 2 * kF * w.k; },
     {6, 8.0, 1.0}},
    // k values at distinct random positions: one 32 B sector read + one written per element.
    {KernelId::kTopkScatterAdd, "topk_scatter_add", "zero the bucket, scatter_add of every worker's message, divide",
     "workers k", "12 workers k + 8 n", [](const W& w) { return w.workers * w.k; },
     [](const W& w) { return 3 * kF * w.workers * w.k + 2 * kF * w.n; }, {1, 56.0, 1.0}},
    // the Feistel walk into scratch, then the set sorted ascending (CUB's radix sort: a histogram
    // pass and three onesweep passes of 8-bit digits, each reading and writing 4 B per index).
    {KernelId::kRandkIndices, "randk_indices", "randk_indices per tensor (Feistel bijection, cycle walking, sorted)",
     "k", "4 k", [](const W& w) { return w.k; }, [](const W& w) { return kF * w.k; }, {5, 28.0, 1.0}},
    // one 32 B sector per pick where bytes_moved counts 4 B; target within 1.5x of it.
    {KernelId::kRandkGather, "randk_gather", "gather of the k values (optional d/k rescale)",
     "k", "12 k", [](const W& w) { return w.k; }, [](const W& w) { return 3 * kF * w.k; }, {1, 28.0, 1.0 / 1.5}},
    {KernelId::kRandkScatter, "randk_scatter", "divide the summed values, zero the bucket, scatter",
     "k", "12 k + 4 n", [](const W& w) { return w.k; }, [](const W& w) { return 3 * kF * w.k + kF * w.n; },
     {2, 28.0, 1.0 / 1.5}},
    {KernelId::kArcSketch, "arc_sketch", "sketch P = G V per tensor (V from sketch_matrix), or a copy when own sketch",
     "n", "4 n + 4 sketch", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + kF * w.sketch; },
     {1, 0.0, 0.85}},
    // one CTA per tensor, four passes over the (L2-resident) sketch: latency-bound; 2% of copy
    // bandwidth is an assumption to be replaced by a calibration (docs/gpu.md).
    {KernelId::kArcSelectRows, "arc_select_rows", "divide the summed sketch, row_scores, topk_rows per tensor",
     "rows", "8 sketch + 8 rows", [](const W& w) { return w.rows; },
     [](const W& w) { return 2 * kF * w.sketch + 2 * kF * w.rows; }, {1, 0.0, 0.02}},
    {KernelId::kArcGatherRows, "arc_gather_rows", "gather_rows of the selected rows per tensor",
     "k", "8 k", [](const W& w) { return w.k; }, [](const W& w) { return 2 * kF * w.k; }, {1, 0.0, 0.80}},
    {KernelId::kArcScatterRows, "arc_scatter_rows", "divide the summed rows, zero the bucket, scatter_rows",
     "k", "8 k + 4 n", [](const W& w) { return w.k; }, [](const W& w) { return 2 * kF * w.k + kF * w.n; },
     {2, 0.0, 0.80}},
    {KernelId::kEfInput, "ef_input", "ef_add (EF14), ef_sub (EF21), momentum_update + ef_sub (EF21M)",
     "n", "12 n", [](const W& w) { return w.n; }, [](const W& w) { return 3 * kF * w.n; }, {1, 0.0, 0.95}},
    {KernelId::kEfUpdate, "ef_update", "ef14_residual (EF14), ef_accumulate (EF21, EF21M), or the EF21 state copy",
     "n", "12 n", [](const W& w) { return w.n; }, [](const W& w) { return 3 * kF * w.n; }, {1, 0.0, 0.95}},
    {KernelId::kAverage, "average", "divide after the dense all-reduce",
     "n", "8 n", [](const W& w) { return w.n; }, [](const W& w) { return 2 * kF * w.n; }, {1, 0.0, 0.95}},
    // Threshold estimators (DGC, GaussianK, RedSync, SIDCo). One record per pass over the bucket
    // (all tensors of a pass batched); the sums end in a second, tiny launch.
    {KernelId::kThrStats, "thr_stats", "value_moments / exceedance_moments per tensor (one read; DGC: the clip norm)",
     "n", "4 n", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n; }, {2, 0.0, 0.90}},
    // k values at random positions: one 32 B sector each where bytes_moved counts 4 B, then the
    // sample's top-k (small, L2-resident).
    {KernelId::kThrSample, "thr_sample", "sample_magnitudes + topk_magnitude of the sample per tensor (DGC)",
     "k", "8 k", [](const W& w) { return w.k; }, [](const W& w) { return 2 * kF * w.k; }, {7, 28.0, 1.0 / 1.5}},
    {KernelId::kThrCount, "thr_count", "count_above per tensor still adjusting (one adjustment round)",
     "n", "4 n", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n; }, {1, 0.0, 0.90}},
    // compaction (count, scan, write) + gather of the k values.
    {KernelId::kThrSelect, "thr_select", "select_above per tensor + gather of the selected values",
     "n", "8 n + 8 k", [](const W& w) { return w.n; }, [](const W& w) { return 2 * kF * w.n + 2 * kF * w.k; },
     {3, 0.0, 0.85}},
    {KernelId::kDgcAccumulate, "dgc_accumulate", "DGC: optional clip scale, u = m u + g (heavy_ball_update), v += u",
     "n", "20 n", [](const W& w) { return w.n; }, [](const W& w) { return 5 * kF * w.n; }, {2, 0.0, 0.95}},
    {KernelId::kDgcMask, "dgc_mask", "DGC momentum factor masking: scatter zeros into u and v at the sent positions",
     "k", "12 k", [](const W& w) { return w.k; }, [](const W& w) { return 3 * kF * w.k; }, {2, 56.0, 1.0}},
    // ADTopk: one segmented radix select per row (or the threshold filter: count + select
    // passes), then the gather of the kept values; costed as Top-K's select.
    {KernelId::kAdtopkSelect, "adtopk_select",
     "topk_per_row / threshold_rows_count + threshold_rows_select / topk_magnitude (interleaved calls) + gather",
     "n", "4 n + 8 k", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + 2 * kF * w.k; },
     {6, 8.0, 1.0}},
    {KernelId::kAdtopkScatterAdd, "adtopk_scatter_add",
     "zero the bucket, scatter_add of every worker's message (uncompressed tensors included), divide",
     "workers k", "12 workers k + 8 n", [](const W& w) { return w.workers * w.k; },
     [](const W& w) { return 3 * kF * w.workers * w.k + 2 * kF * w.n; }, {1, 56.0, 1.0}},
    // PowerSGD (n = elements of the compressed matrices, sketch = floats of P and Q): the two
    // products stream M once each; the r-column factors are small and L2-resident.
    {KernelId::kPowersgdProjectP, "powersgd_project_p", "matmul_right P = M Q per matrix (sketch with V = the first Q)",
     "n", "4 n + 4 sketch", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + kF * w.sketch; },
     {1, 0.0, 0.85}},
    // one CTA per matrix, 2r + r(r-1) passes over the L2-resident P: latency-bound, as ARC's row
    // selection; the same assumed 2% of copy bandwidth until a calibration replaces it. n = floats of P.
    {KernelId::kPowersgdOrthogonalize, "powersgd_orthogonalize", "divide the summed P, orthogonalize per matrix",
     "n", "8 n", [](const W& w) { return w.n; }, [](const W& w) { return 2 * kF * w.n; },
     {1, 0.0, 0.02}},
    {KernelId::kPowersgdProjectQ, "powersgd_project_q", "matmul_left_t Q = M^T P per matrix",
     "n", "4 n + 4 sketch", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + kF * w.sketch; },
     {1, 0.0, 0.85}},
    {KernelId::kPowersgdDecompress, "powersgd_decompress",
     "divide the summed Q and the dense part, matmul_right M_hat = P Q^T per matrix",
     "n", "4 n + 4 sketch", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + kF * w.sketch; },
     {1, 0.0, 0.85}},
    // Ok-Topk. Between re-evaluations the selection is one filter read (4 n + 8 k); at a
    // re-evaluation it is the exact top-k (radix select, as topk_select), charged the same floor.
    {KernelId::kOktopkSelect, "oktopk_select",
     "topk_magnitude (every tau calls) or select_at_least (reused threshold) + gather of the values",
     "n", "4 n + 8 k", [](const W& w) { return w.n; }, [](const W& w) { return kF * w.n + 2 * kF * w.k; },
     {2, 0.0, 0.85}},
    // n = the owner's region width, k = the pairs it received: zero the region, scatter-add the
    // pairs (read 8 B, read-modify-write 4 B each). The owner's filter with the global threshold
    // is an oktopk_select over the region.
    {KernelId::kOktopkReduce, "oktopk_reduce",
     "zero the owner's region, scatter_add of the received pairs in source order",
     "k", "12 k + 4 n", [](const W& w) { return w.k; }, [](const W& w) { return 3 * kF * w.k + kF * w.n; },
     {3, 28.0, 0.85}},
    {KernelId::kOktopkScatter, "oktopk_scatter", "zero the bucket, scatter of the gathered global top-k, divide",
     "k", "12 k + 8 n", [](const W& w) { return w.k; }, [](const W& w) { return 3 * kF * w.k + 2 * kF * w.n; },
     {2, 28.0, 0.85}},
};

const KernelCost kGeneric = {1, 0.0, 0.95};
}  // namespace

std::span<const KernelSpec> kernel_catalogue() { return kCatalogue; }

const KernelSpec& kernel_spec(KernelId id) {
  for (const auto& k : kCatalogue)
    if (k.id == id) return k;
  throw std::logic_error("kernel catalogue: no entry for a KernelId");
}

const KernelSpec* find_kernel(const std::string& name) {
  for (const auto& k : kCatalogue)
    if (name == k.name) return &k;
  return nullptr;
}

const KernelCost& generic_kernel_cost() { return kGeneric; }

}  // namespace arcsim::kernels
