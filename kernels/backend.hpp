#pragma once
// Backend: where the compression primitives run. The sparsifiers and the Compressor call the
// primitives through a Backend, the way they call collectives through a Communicator, so the same
// compressor code runs on
//   reference  the plain C++ of kernels/primitives.hpp: the test oracle;
//   cpu        the fast CPU backend (kernels/cpu/): multi-threaded, vectorised, the default on a
//              machine without a GPU;
//   cuda       the CUDA kernels of kernels/cuda/ (built when nvcc is present, usable when a device
//              is): host buffers are copied to the device and back around each primitive, and the
//              device work alone is timed with CUDA events.
// Every backend returns the same selections (top-k indices, rows, Rand-K indices) and the same
// element-wise results, bit for bit, as the reference; the one documented difference is the cpu
// backend's sketch, which also equals the reference bit for bit (see kernels/cpu/sketch.cpp) —
// docs/kernels.md states the contract and how the tests check it.
//
// Pointers are host pointers; semantics, tie rules and output orders are those of
// kernels/primitives.hpp, which each method names.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/primitives.hpp"  // ValueMoments, ExceedanceMoments

namespace arcsim::kernels {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;  // "reference" | "cpu" | "cuda"
  // What kernel durations timed on this backend are: "measured-cpu" or "measured-gpu:<device>".
  virtual std::string duration_source() const { return "measured-cpu"; }

  // Timing of a plan kernel (KernelTimer): begin, the primitives, then seconds since begin. CPU
  // backends use a steady clock; the CUDA backend sums the CUDA-event time of the device work.
  virtual void timer_begin();
  virtual double timer_seconds();

  virtual void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx_out) = 0;
  virtual void topk_rows(const float* scores, std::size_t n_rows, std::size_t k, std::uint32_t* idx_out) = 0;
  virtual void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
                      std::uint32_t tensor, float* P) = 0;
  virtual void row_scores(const float* P, std::size_t n, std::size_t r, float* scores) = 0;
  virtual void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) = 0;
  virtual void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) = 0;
  virtual void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) = 0;
  virtual void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) = 0;
  virtual void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) = 0;
  virtual void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step,
                             std::uint32_t tensor, std::uint32_t* out) = 0;
  virtual void ef_add(const float* g, const float* e, std::size_t n, float* u) = 0;
  virtual void ef_sub(const float* g, const float* e, std::size_t n, float* d) = 0;
  virtual void ef14_residual(const float* u, const float* c, std::size_t n, float* e) = 0;
  virtual void ef_accumulate(float* e, const float* c, std::size_t n) = 0;
  virtual void momentum_update(float* h, const float* g, std::size_t n, float eta) = 0;
  virtual void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) = 0;
  // Ok-Topk: indices with magnitude key >= key, ascending; returns the count (idx_out holds n).
  virtual std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx_out) = 0;
  // x[i] /= float(workers) (the averaging after a sum all-reduce).
  virtual void divide(float* x, std::size_t n, int workers) = 0;
  // x[0..n) = 0.
  virtual void zero(float* x, std::size_t n) = 0;

  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo): kernels/primitives.hpp.
  virtual ValueMoments value_moments(const float* x, std::size_t n) = 0;
  virtual ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) = 0;
  virtual std::uint64_t count_above(const float* x, std::size_t n, float t) = 0;
  virtual std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx_out) = 0;
  virtual void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                                 std::uint32_t tensor, std::uint32_t worker, float* out) = 0;
  virtual void scale(const float* x, std::size_t n, float s, float* out) = 0;
  // ADTopk: per-row top-k and the per-row threshold filter (primitives.hpp).
  virtual void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row,
                            std::uint32_t* idx_out) = 0;
  virtual void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                                    std::uint32_t* counts) = 0;
  virtual void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                                     const std::uint32_t* offsets, std::uint32_t* idx_out) = 0;
  // PowerSGD: C = A B, C = A^T B, in-place Gram-Schmidt of the columns (primitives.hpp).
  virtual void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) = 0;
  virtual void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) = 0;
  virtual void orthogonalize(float* P, std::size_t n, std::size_t c) = 0;

 private:
  double clock_start_ = 0.0;
};

// The process-wide instances. reference() and cpu() always exist; cuda() throws
// BackendUnavailable when the build has no CUDA backend or the machine has no device.
Backend& reference_backend();
Backend& cpu_backend();
Backend& cuda_backend();

struct BackendUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Valid names: "reference" | "cpu" | "cuda" | "auto" (cuda when a device is present, else cpu).
const std::vector<std::string>& backend_names();
// true when cuda_backend() would succeed (a CUDA build and at least one device).
bool cuda_available();
// The backend of a name; std::invalid_argument for an unknown name ("backend: expected ..."),
// BackendUnavailable ("backend cuda: ...") for cuda without a device.
Backend& backend_by_name(const std::string& name);
// The default of every command: "auto".
inline constexpr const char* kDefaultBackend = "auto";

}  // namespace arcsim::kernels
