#pragma once
// What the threshold estimators (DGC, GaussianK, RedSync, SIDCo) share: each worker keeps, per
// tensor, the elements whose magnitude exceeds a threshold it estimated on its own data, so k
// varies per worker. Given those thresholds:
//   count_rounds  the count passes of an adjustment loop, in lockstep over workers and tensors
//                 (one thr_count plan kernel per round);
//   select        the compaction (thr_select): every worker's bucket-flat ascending indices and
//                 their values;
//   exchange      the communication as a real implementation sends it: an all-gather of the
//                 per-worker counts (one int32 per rank; the receivers size their buffers from
//                 it), then an all-gather-v of the values (value_dtype) and one of the indices
//                 (index_dtype) with the real per-worker sizes; each worker scatter-adds all N
//                 contributions in worker order and divides by N (as Top-K). Fills local_out
//                 (each worker's message, values as rounded on the wire), selected and
//                 k_by_worker.
// Comparisons are strict, |x| > t (kernels/primitives.hpp); a method that keeps |x| >= thr uses
// t = below(thr).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "kernels/sparsifier.hpp"

namespace arcsim::kernels::threshold {

// Per worker, per tensor.
template <class T>
using Grid = std::vector<std::vector<T>>;

// The strict threshold equivalent to |x| >= thr: the next float below thr when thr > 0; else 0,
// which keeps every nonzero (sending zeros would change nothing but the bytes).
float below(float thr);

// Per-tensor target k of a bucket at `ratio` (k_of per tensor, as Top-K).
std::vector<std::size_t> tensor_targets(const BucketLayout& layout, double ratio);

// Counts count[w][t] = #{|src[w][off_t + i]| > t_grid[w][t]}, then up to max_rounds adjustment
// rounds: adjust(w, t, count, thr) may change thr (the strict threshold) and returns true when
// it did and the tensor needs recounting; a tensor whose adjust returns false is final. Each
// pass is one thr_count plan kernel (elements = the largest number of elements any worker
// counted in it). Returns the number of adjustment rounds run.
using AdjustFn = std::function<bool(std::size_t w, std::size_t t, std::uint64_t count, float& thr)>;
int count_rounds(Communicator& comm, Backend& be, const BucketLayout& layout, std::span<const float* const> src,
                 Grid<float>& thr, Grid<std::uint64_t>& count, int max_rounds, const AdjustFn& adjust);

struct Selection {
  Grid<std::uint32_t> idx;  // per worker: bucket-flat indices, ascending
  Grid<float> vals;         // per worker: src values at idx (float32; exchange rounds them to the wire)
};
// Compaction of src[w] against thr[w][t] per tensor (count[w][t] from count_rounds sizes it).
Selection select(Communicator& comm, Backend& be, const BucketLayout& layout, std::span<const float* const> src,
                 const Grid<float>& thr, const Grid<std::uint64_t>& count);

// The exchange described above, values as a.value_wire and indices as a.index_wire. sel.vals are
// replaced by the values as rounded on the wire (what was sent).
SparsifyResult exchange(Communicator& comm, Backend& be, const BucketLayout& layout, const SparsifyArgs& a,
                        Selection& sel);

}  // namespace arcsim::kernels::threshold
