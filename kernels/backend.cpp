// The reference backend (the primitives of kernels/primitives.hpp as they are) and the backend
// registry. The CUDA backend lives in arcsim_kernels_cuda and registers itself here when that
// library is linked (kernels/cuda/cuda_backend.cpp), so this library never depends on CUDA.
#include "kernels/backend.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "kernels/backend_registry.hpp"
#include "kernels/primitives.hpp"

namespace arcsim::kernels {

void Backend::timer_begin() {
  clock_start_ = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Backend::timer_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count() - clock_start_;
}

namespace {

class ReferenceBackend final : public Backend {
 public:
  const char* name() const override { return "reference"; }
  void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx) override {
    kernels::topk_magnitude(x, n, k, idx);
  }
  void topk_rows(const float* s, std::size_t n, std::size_t k, std::uint32_t* idx) override {
    kernels::topk_rows(s, n, k, idx);
  }
  void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
              std::uint32_t tensor, float* P) override {
    kernels::sketch(G, n, m, r, seed, step, tensor, P);
  }
  void row_scores(const float* P, std::size_t n, std::size_t r, float* s) override { kernels::row_scores(P, n, r, s); }
  void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    kernels::gather_rows(src, m, rows, k, dst);
  }
  void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    kernels::scatter_rows(src, m, rows, k, dst);
  }
  void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    kernels::gather(src, idx, k, dst);
  }
  void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    kernels::scatter(src, idx, k, dst);
  }
  void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    kernels::scatter_add(src, idx, k, dst);
  }
  void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                     std::uint32_t* out) override {
    kernels::randk_indices(n, k, seed, step, tensor, out);
  }
  void ef_add(const float* g, const float* e, std::size_t n, float* u) override { kernels::ef_add(g, e, n, u); }
  void ef_sub(const float* g, const float* e, std::size_t n, float* d) override { kernels::ef_sub(g, e, n, d); }
  void ef14_residual(const float* u, const float* c, std::size_t n, float* e) override {
    kernels::ef14_residual(u, c, n, e);
  }
  void ef_accumulate(float* e, const float* c, std::size_t n) override { kernels::ef_accumulate(e, c, n); }
  void momentum_update(float* h, const float* g, std::size_t n, float eta) override {
    kernels::momentum_update(h, g, n, eta);
  }
  void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) override {
    kernels::heavy_ball_update(h, g, n, beta);
  }
  // Ok-Topk
  std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx) override {
    return kernels::select_at_least(x, n, key, idx);
  }
  void divide(float* x, std::size_t n, int workers) override {
    const auto w = static_cast<float>(workers);
    for (std::size_t i = 0; i < n; ++i) x[i] /= w;
  }
  void zero(float* x, std::size_t n) override { std::fill(x, x + n, 0.0f); }
  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo).
  ValueMoments value_moments(const float* x, std::size_t n) override { return kernels::value_moments(x, n); }
  ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) override {
    return kernels::exceedance_moments(x, n, t, with_log);
  }
  std::uint64_t count_above(const float* x, std::size_t n, float t) override { return kernels::count_above(x, n, t); }
  std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx) override {
    return kernels::select_above(x, n, t, idx);
  }
  void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                         std::uint32_t tensor, std::uint32_t worker, float* out) override {
    kernels::sample_magnitudes(x, n, m, seed, step, tensor, worker, out);
  }
  void scale(const float* x, std::size_t n, float s, float* out) override { kernels::scale(x, n, s, out); }
  // ADTopk
  void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx) override {
    kernels::topk_per_row(x, n_rows, m, k_row, idx);
  }
  void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                            std::uint32_t* counts) override {
    kernels::threshold_rows_count(x, n_rows, m, thr, counts);
  }
  void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                             const std::uint32_t* offsets, std::uint32_t* idx) override {
    kernels::threshold_rows_select(x, n_rows, m, thr, offsets, idx);
  }
  // PowerSGD
  void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) override {
    kernels::matmul_right(A, n, k, B, c, C);
  }
  void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) override {
    kernels::matmul_left_t(A, n, m, B, c, C);
  }
  void orthogonalize(float* P, std::size_t n, std::size_t c) override { kernels::orthogonalize(P, n, c); }
};

CudaProvider& provider() {
  static CudaProvider p;
  return p;
}

}  // namespace

void register_cuda_backend(const CudaProvider& p) { provider() = p; }

Backend& reference_backend() {
  static ReferenceBackend b;
  return b;
}

bool cuda_available() { return provider().device_count && provider().device_count() > 0; }

Backend& cuda_backend() {
  if (!provider().device_count)
    throw BackendUnavailable("backend cuda: this arcsim was built without the CUDA backend (nvcc not found at build time)");
  if (provider().device_count() == 0)
    throw BackendUnavailable("backend cuda: no CUDA device on this machine (use --backend cpu or auto)");
  return provider().backend();
}

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names = {"auto", "cpu", "cuda", "reference"};
  return names;
}

Backend& backend_by_name(const std::string& name) {
  if (name == "reference") return reference_backend();
  if (name == "cpu") return cpu_backend();
  if (name == "cuda") return cuda_backend();
  if (name == "auto") return cuda_available() ? cuda_backend() : cpu_backend();
  throw std::invalid_argument("backend: expected auto, cpu, cuda or reference, got '" + name + "'");
}

}  // namespace arcsim::kernels
