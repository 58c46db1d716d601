#pragma once
// A DDP bucket as the compressors see it: a flat float vector made of tensors in bucket order,
// and the rules that turn one tensor into ARC-Top-K's matrix of rows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace arcsim::kernels {

struct BucketLayout {
  std::vector<std::vector<std::int64_t>> shapes;  // one per tensor, bucket order
  std::vector<std::string> names;                 // optional; "t0", "t1", ... when empty
  // Throws std::invalid_argument on a negative dim or names/shapes length mismatch.
  void validate() const;
  std::size_t numel() const;
  std::size_t numel(std::size_t tensor) const;
  std::size_t offset(std::size_t tensor) const;   // first element of the tensor in the bucket
  std::string name(std::size_t tensor) const;
};

// How ARC-Top-K views a tensor as rows.
//  kReference: the authors' hook (group_topk_hook_no_reshape.py): 2-D rows = dim 0; >2-D rows of
//              m = 2 t^2 (t = last dim; the tensor size must be divisible by m, else
//              std::invalid_argument); 1-D (and 0-D) tensors are "their own sketch": every entry is
//              a row of length 1, the whole tensor is all-reduced as the sketch, k entries kept.
//  kRows (default): >= 2-D viewed as (shape[0], numel / shape[0]) as PowerSGD does; 1-D and 0-D
//              as in kReference (own sketch, k entries); and whenever a row is no longer than the
//              sketch rank (m <= r) the matrix is its own sketch (exact row scores, n*m <= n*r
//              floats) instead of a sketch larger than the tensor (the reference's 1x1-conv case).
enum class ShapeRule { kReference, kRows };
ShapeRule parse_shape_rule(const std::string& s);  // "reference" | "rows"

struct RowView {
  std::size_t rows = 0, cols = 0;
  bool own_sketch = false;  // true: the sketch is the matrix itself (exact row energies)
};
// `rank` = sketch rank r; `exact` = row_scores=exact ablation (always own sketch).
RowView row_view(const std::vector<std::int64_t>& shape, ShapeRule rule, int rank, bool exact,
                 const std::string& name_for_errors);

// k = max(1, floor(ratio * n)) as the reference computes it; 0 for n == 0.
std::size_t k_of(double ratio, std::size_t n);

}  // namespace arcsim::kernels
