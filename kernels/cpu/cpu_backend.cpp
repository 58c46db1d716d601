// The fast CPU backend: kernels/cpu/fast.hpp behind the Backend interface. topk_rows is the same
// radix select on the row scores (non-negative, so their magnitude keys order them).
#include "kernels/backend.hpp"
#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels {

namespace {
class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx) override {
    cpu::topk_magnitude(x, n, k, idx);
  }
  void topk_rows(const float* s, std::size_t n, std::size_t k, std::uint32_t* idx) override {
    cpu::topk_magnitude(s, n, k, idx);
  }
  void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
              std::uint32_t tensor, float* P) override {
    cpu::sketch(G, n, m, r, seed, step, tensor, P);
  }
  void row_scores(const float* P, std::size_t n, std::size_t r, float* s) override { cpu::row_scores(P, n, r, s); }
  void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    cpu::gather_rows(src, m, rows, k, dst);
  }
  void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    cpu::scatter_rows(src, m, rows, k, dst);
  }
  void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    cpu::gather(src, idx, k, dst);
  }
  void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    cpu::scatter(src, idx, k, dst);
  }
  void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    cpu::scatter_add(src, idx, k, dst);
  }
  void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                     std::uint32_t* out) override {
    cpu::randk_indices(n, k, seed, step, tensor, out);
  }
  void ef_add(const float* g, const float* e, std::size_t n, float* u) override { cpu::ef_add(g, e, n, u); }
  void ef_sub(const float* g, const float* e, std::size_t n, float* d) override { cpu::ef_sub(g, e, n, d); }
  void ef14_residual(const float* u, const float* c, std::size_t n, float* e) override {
    cpu::ef14_residual(u, c, n, e);
  }
  void ef_accumulate(float* e, const float* c, std::size_t n) override { cpu::ef_accumulate(e, c, n); }
  void momentum_update(float* h, const float* g, std::size_t n, float eta) override {
    cpu::momentum_update(h, g, n, eta);
  }
  void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) override {
    cpu::heavy_ball_update(h, g, n, beta);
  }
  // Ok-Topk
  std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx) override {
    return cpu::select_at_least(x, n, key, idx);
  }
  void divide(float* x, std::size_t n, int workers) override { cpu::divide(x, n, workers); }
  void zero(float* x, std::size_t n) override { cpu::zero(x, n); }
  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo).
  ValueMoments value_moments(const float* x, std::size_t n) override { return cpu::value_moments(x, n); }
  ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) override {
    return cpu::exceedance_moments(x, n, t, with_log);
  }
  std::uint64_t count_above(const float* x, std::size_t n, float t) override { return cpu::count_above(x, n, t); }
  std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx) override {
    return cpu::select_above(x, n, t, idx);
  }
  void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                         std::uint32_t tensor, std::uint32_t worker, float* out) override {
    cpu::sample_magnitudes(x, n, m, seed, step, tensor, worker, out);
  }
  void scale(const float* x, std::size_t n, float s, float* out) override { cpu::scale(x, n, s, out); }
  // ADTopk
  void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx) override {
    cpu::topk_per_row(x, n_rows, m, k_row, idx);
  }
  void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                            std::uint32_t* counts) override {
    cpu::threshold_rows_count(x, n_rows, m, thr, counts);
  }
  void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                             const std::uint32_t* offsets, std::uint32_t* idx) override {
    cpu::threshold_rows_select(x, n_rows, m, thr, offsets, idx);
  }
  // PowerSGD
  void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) override {
    cpu::matmul_right(A, n, k, B, c, C);
  }
  void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) override {
    cpu::matmul_left_t(A, n, m, B, c, C);
  }
  // n x r with r <= 8 columns: a few passes over a small matrix, at the floor already.
  void orthogonalize(float* P, std::size_t n, std::size_t c) override { kernels::orthogonalize(P, n, c); }
};
}  // namespace

Backend& cpu_backend() {
  static CpuBackend b;
  return b;
}

}  // namespace arcsim::kernels
