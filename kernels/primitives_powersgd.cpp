// Reference primitives of PowerSGD's low-rank step (declared in kernels/primitives.hpp): the
// products M Q, M^T P, P Q^T and the Gram-Schmidt orthogonalisation, in the summation orders the
// header fixes, so the fast CPU backend and the CUDA kernels reproduce them bit for bit.
#include <cmath>
#include <vector>

#include "kernels/primitives.hpp"

namespace arcsim::kernels {

void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) {
  for (std::size_t i = 0; i < n; ++i) {
    float* out = C + i * c;
    for (std::size_t q = 0; q < c; ++q) out[q] = 0.0f;
    for (std::size_t j = 0; j < k; ++j) {
      const float a = A[i * k + j];
      const float* b = B + j * c;
      for (std::size_t q = 0; q < c; ++q) out[q] = std::fma(a, b[q], out[q]);
    }
  }
}

void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) {
  for (std::size_t x = 0; x < m * c; ++x) C[x] = 0.0f;
  // i outermost: each C[j,q] still receives its terms in ascending i.
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      const float a = A[i * m + j];
      for (std::size_t q = 0; q < c; ++q) C[j * c + q] = std::fma(a, B[i * c + q], C[j * c + q]);
    }
}

float lane_dot(const float* a, std::size_t stride_a, const float* b, std::size_t stride_b, std::size_t n) {
  float lane[kDotLanes] = {};
  for (std::size_t i = 0; i < n; ++i)
    lane[i % kDotLanes] = std::fma(a[i * stride_a], b[i * stride_b], lane[i % kDotLanes]);
  for (std::size_t s = kDotLanes / 2; s > 0; s /= 2)
    for (std::size_t l = 0; l < s; ++l) lane[l] = lane[l] + lane[l + s];
  return lane[0];
}

void orthogonalize(float* P, std::size_t n, std::size_t c) {
  for (std::size_t q = 0; q < c; ++q) {
    float* col = P + q;
    const float d = std::sqrt(lane_dot(col, c, col, c, n)) + kOrthoEps;
    for (std::size_t i = 0; i < n; ++i) col[i * c] = col[i * c] / d;
    for (std::size_t p = q + 1; p < c; ++p) {
      float* other = P + p;
      const float proj = lane_dot(col, c, other, c, n);
      for (std::size_t i = 0; i < n; ++i) other[i * c] = std::fma(-proj, col[i * c], other[i * c]);
    }
  }
}

}  // namespace arcsim::kernels
