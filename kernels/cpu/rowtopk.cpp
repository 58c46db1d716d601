// ADTopk's per-row selection on the fast CPU backend (kernels/cpu/fast.hpp): the rows of the
// matrix are independent, so they are split over the threads and each runs the reference's rule;
// no bit depends on the split.
#include <omp.h>

#include <stdexcept>
#include <string>

#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels::cpu {

void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx_out) {
  if (k_row > m)
    throw std::invalid_argument("topk_per_row: k_row = " + std::to_string(k_row) + " > m = " + std::to_string(m));
#pragma omp parallel for schedule(dynamic, 16) if (n_rows * m > 65536)
  for (std::size_t i = 0; i < n_rows; ++i) kernels::topk_magnitude(x + i * m, m, k_row, idx_out + i * k_row);
}

void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr, std::uint32_t* counts) {
#pragma omp parallel for schedule(static) if (n_rows * m > 65536)
  for (std::size_t i = 0; i < n_rows; ++i) kernels::threshold_rows_count(x + i * m, 1, m, thr + i, counts + i);
}

void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                           const std::uint32_t* offsets, std::uint32_t* idx_out) {
#pragma omp parallel for schedule(static) if (n_rows * m > 65536)
  for (std::size_t i = 0; i < n_rows; ++i) {
    const float* row = x + i * m;
    const std::uint32_t t = kernels::magnitude_key(thr[i]);
    std::uint32_t* out = idx_out + offsets[i];
    std::size_t c = 0, best = 0;
    for (std::size_t j = 0; j < m; ++j) {
      const std::uint32_t key = kernels::magnitude_key(row[j]);
      if (key >= t) out[c++] = static_cast<std::uint32_t>(i * m + j);
      if (key > kernels::magnitude_key(row[best])) best = j;
    }
    if (c == 0 && m > 0) out[0] = static_cast<std::uint32_t>(i * m + best);
  }
}

}  // namespace arcsim::kernels::cpu
