// The fast CPU backend: kernels/cpu/fast.hpp behind the Backend interface. topk_rows is the same
// radix select on the row scores (non-negative, so their magnitude keys order them).
#include "kernels/backend.hpp"
#include "kernels/cpu/fast.hpp"

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
  void divide(float* x, std::size_t n, int workers) override { cpu::divide(x, n, workers); }
  void zero(float* x, std::size_t n) override { cpu::zero(x, n); }
};
}  // namespace

Backend& cpu_backend() {
  static CpuBackend b;
  return b;
}

}  // namespace arcsim::kernels
