// Reference primitives of ADTopk's all-dimension selection (declared in kernels/primitives.hpp):
// plain loops, the oracle of the fast CPU and CUDA backends.
#include <stdexcept>
#include <string>

#include "kernels/primitives.hpp"

namespace arcsim::kernels {

void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out) {
  if (k_row > m)
    throw std::invalid_argument("topk_per_row: k_row = " + std::to_string(k_row) + " > m = " + std::to_string(m));
  for (std::size_t i = 0; i < n_rows; ++i) topk_magnitude(x + i * m, m, k_row, idx_out + i * k_row);
}

namespace {
// Index of the row's largest magnitude key, lowest index on ties (m >= 1).
std::size_t row_argmax(const float* row, std::size_t m) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < m; ++j)
    if (magnitude_key(row[j]) > magnitude_key(row[best])) best = j;
  return best;
}
}  // namespace

void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts) {
  for (std::size_t i = 0; i < n_rows; ++i) {
    const std::uint32_t t = magnitude_key(thr[i]);
    std::uint32_t c = 0;
    for (std::size_t j = 0; j < m; ++j) c += magnitude_key(x[i * m + j]) >= t ? 1u : 0u;
    counts[i] = (c == 0 && m > 0) ? 1u : c;
  }
}

void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out) {
  for (std::size_t i = 0; i < n_rows; ++i) {
    const float* row = x + i * m;
    const std::uint32_t t = magnitude_key(thr[i]);
    std::uint32_t* out = idx_out + offsets[i];
    std::size_t c = 0;
    for (std::size_t j = 0; j < m; ++j)
      if (magnitude_key(row[j]) >= t) out[c++] = static_cast<std::uint32_t>(i * m + j);
    if (c == 0 && m > 0) out[0] = static_cast<std::uint32_t>(i * m + row_argmax(row, m));
  }
}

}  // namespace arcsim::kernels
