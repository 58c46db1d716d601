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
    {KernelId::kRandkIndices, "randk_indices", "randk_indices per tensor (Feistel bijection, cycle walking)",
     "k", "4 k", [](const W& w) { return w.k; }, [](const W& w) { return kF * w.k; }, {1, 0.0, 1.0}},
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
