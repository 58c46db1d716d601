// The CUDA backend (kernels/backend.hpp) over the device kernels of device_kernels.hpp. Each
// primitive copies its host inputs to the device, runs the device kernels between two CUDA events
// on one stream, and copies the outputs back; only the time between the events counts towards the
// plan kernel's duration (duration_source "measured-gpu:<device>"), so the copies that exist only
// because the emulated workers live on the host are not charged to the kernel. Results are those
// of the CPU reference bit for bit (the device kernels' contract, tested in
// tests/kernels/test_cuda_*.cpp where a device exists).
//
// Registered with the backend registry at static initialisation; the anchor symbol at the end
// keeps this object in every executable that links arcsim_kernels_cuda.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/backend_registry.hpp"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/cuda/gpu_bench.hpp"

namespace arcsim::cuda {

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA backend: ") + what + ": " + cudaGetErrorString(err));
}

// Rows / elements a host buffer addressed by `idx` must hold: max index + 1.
std::size_t extent(const std::uint32_t* idx, std::size_t k) {
  std::uint32_t mx = 0;
  for (std::size_t i = 0; i < k; ++i) mx = std::max(mx, idx[i]);
  return k ? static_cast<std::size_t>(mx) + 1 : 0;
}

class CudaBackend final : public kernels::Backend {
 public:
  CudaBackend() {
    check(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
    source_ = "measured-gpu:" + device_name();
  }
  const char* name() const override { return "cuda"; }
  std::string duration_source() const override { return source_; }
  void timer_begin() override { device_s_ = 0.0; }
  double timer_seconds() override { return device_s_; }

  void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* idx) override {
    if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
    if (k == 0) return;
    DeviceBuffer dx = up(x, n), di(k * 4), ws(topk_workspace_bytes(n));
    timed([&] { cuda::topk_magnitude(dx.as<float>(), n, k, di.as<std::uint32_t>(), ws.as<void>(), ws.bytes(), stream_); });
    down(idx, di, k * 4);
  }
  void topk_rows(const float* s, std::size_t n, std::size_t k, std::uint32_t* idx) override { topk_magnitude(s, n, k, idx); }
  void sketch(const float* G, std::size_t n, std::size_t m, int r, std::uint64_t seed, std::uint32_t step,
              std::uint32_t tensor, float* P) override {
    if (r <= 0) throw std::invalid_argument("sketch: rank r must be >= 1, got " + std::to_string(r));
    if (r > 8) throw std::invalid_argument("CUDA backend: sketch rank r must be <= 8, got " + std::to_string(r));
    if (n == 0) return;
    const std::size_t rr = static_cast<std::size_t>(r);
    DeviceBuffer dg = up(G, n * m), dp(n * rr * 4);
    SketchTensor t;
    t.g = dg.as<float>();
    t.p = dp.as<float>();
    t.rows = static_cast<std::uint32_t>(n);
    t.cols = static_cast<std::uint32_t>(m);
    t.tensor_id = tensor;
    timed([&] { sketch_bucket(&t, 1, r, seed, step, stream_); });
    down(P, dp, n * rr * 4);
  }
  void row_scores(const float* P, std::size_t n, std::size_t r, float* scores) override {
    if (n == 0) return;
    // The device computes scores inside the row selection; k = 1 keeps its work to the scores.
    DeviceBuffer dp = up(P, n * r), ds(n * 4), dr(4);
    RowSelectTensor t;
    t.p = dp.as<float>();
    t.scores = ds.as<float>();
    t.rows = static_cast<std::uint32_t>(n);
    t.width = static_cast<std::uint32_t>(r);
    t.k = 1;
    t.rows_out = dr.as<std::uint32_t>();
    timed([&] { select_rows_bucket(&t, 1, stream_); });
    down(scores, ds, n * 4);
  }
  void gather_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    if (k == 0 || m == 0) return;
    const std::size_t nrows = extent(rows, k);
    DeviceBuffer dsrc = up(src, nrows * m), dsel = up(rows, k), ddst(k * m * 4);
    RowCopyTensor t{dsrc.as<float>(), ddst.as<float>(), dsel.as<std::uint32_t>(), static_cast<std::uint32_t>(k),
                    static_cast<std::uint32_t>(m)};
    timed([&] { gather_rows_bucket(&t, 1, false, stream_); });
    down(dst, ddst, k * m * 4);
  }
  void scatter_rows(const float* src, std::size_t m, const std::uint32_t* rows, std::size_t k, float* dst) override {
    if (k == 0 || m == 0) return;
    const std::size_t nrows = extent(rows, k);
    DeviceBuffer ddst = up(dst, nrows * m), dsel = up(rows, k), dsrc = up(src, k * m);
    RowCopyTensor t{ddst.as<float>(), dsrc.as<float>(), dsel.as<std::uint32_t>(), static_cast<std::uint32_t>(k),
                    static_cast<std::uint32_t>(m)};
    timed([&] { scatter_rows_bucket(&t, 1, stream_); });
    down(dst, ddst, nrows * m * 4);
  }
  void gather(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    if (k == 0) return;
    DeviceBuffer ds = up(src, extent(idx, k)), di = up(idx, k), dd(k * 4);
    timed([&] { cuda::gather(ds.as<float>(), di.as<std::uint32_t>(), k, dd.as<float>(), stream_); });
    down(dst, dd, k * 4);
  }
  void scatter(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    if (k == 0) return;
    const std::size_t n = extent(idx, k);
    DeviceBuffer ds = up(src, k), di = up(idx, k), dd = up(dst, n);
    timed([&] { cuda::scatter(ds.as<float>(), di.as<std::uint32_t>(), k, dd.as<float>(), stream_); });
    down(dst, dd, n * 4);
  }
  void scatter_add(const float* src, const std::uint32_t* idx, std::size_t k, float* dst) override {
    if (k == 0) return;
    // The device kernel needs distinct indices (one thread per index); others keep the host order.
    for (std::size_t i = 1; i < k; ++i)
      if (idx[i - 1] >= idx[i]) return kernels::reference_backend().scatter_add(src, idx, k, dst);
    const std::size_t n = extent(idx, k);
    DeviceBuffer ds = up(src, k), di = up(idx, k), dd = up(dst, n);
    timed([&] { cuda::scatter_add(ds.as<float>(), di.as<std::uint32_t>(), k, dd.as<float>(), stream_); });
    down(dst, dd, n * 4);
  }
  void randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor,
                     std::uint32_t* out) override {
    if (k > n) throw std::invalid_argument("randk_indices: k = " + std::to_string(k) + " > n = " + std::to_string(n));
    if (k == 0) return;
    DeviceBuffer d(k * 4);
    timed([&] { cuda::randk_indices(n, k, seed, step, tensor, d.as<std::uint32_t>(), stream_); });
    down(out, d, k * 4);
  }
  // Ok-Topk
  std::size_t select_at_least(const float* x, std::size_t n, std::uint32_t key, std::uint32_t* idx) override {
    if (n == 0) return 0;
    DeviceBuffer dx = up(x, n), di(n * 4), dc(sizeof(long long)), ws(select_at_least_workspace_bytes(n));
    timed([&] {
      cuda::select_at_least(dx.as<float>(), n, key, di.as<std::uint32_t>(), dc.as<long long>(), ws.as<void>(),
                            ws.bytes(), stream_);
    });
    long long count = 0;
    down(&count, dc, sizeof count);
    down(idx, di, static_cast<std::size_t>(count) * 4);
    return static_cast<std::size_t>(count);
  }
  void ef_add(const float* g, const float* e, std::size_t n, float* u) override { binary(g, e, n, u, cuda::ef_add); }
  void ef_sub(const float* g, const float* e, std::size_t n, float* d) override { binary(g, e, n, d, cuda::ef_sub); }
  void ef14_residual(const float* u, const float* c, std::size_t n, float* e) override {
    binary(u, c, n, e, cuda::ef14_residual);
  }
  void ef_accumulate(float* e, const float* c, std::size_t n) override {
    if (n == 0) return;
    DeviceBuffer de = up(e, n), dc = up(c, n);
    timed([&] { cuda::ef_accumulate(de.as<float>(), dc.as<float>(), n, stream_); });
    down(e, de, n * 4);
  }
  void momentum_update(float* h, const float* g, std::size_t n, float eta) override {
    if (n == 0) return;
    DeviceBuffer dh = up(h, n), dg = up(g, n);
    timed([&] { cuda::momentum_update(dh.as<float>(), dg.as<float>(), n, eta, stream_); });
    down(h, dh, n * 4);
  }
  void heavy_ball_update(float* h, const float* g, std::size_t n, float beta) override {
    if (n == 0) return;
    DeviceBuffer dh = up(h, n), dg = up(g, n);
    timed([&] { cuda::heavy_ball_update(dh.as<float>(), dg.as<float>(), n, beta, stream_); });
    down(h, dh, n * 4);
  }
  void divide(float* x, std::size_t n, int workers) override {
    if (n == 0) return;
    DeviceBuffer dx = up(x, n);
    timed([&] { cuda::divide(dx.as<float>(), n, workers, stream_); });
    down(x, dx, n * 4);
  }
  void zero(float* x, std::size_t n) override {
    if (n == 0) return;
    DeviceBuffer dx(n * 4);
    timed([&] { check(cudaMemsetAsync(dx.as<void>(), 0, n * 4, stream_), "cudaMemsetAsync"); });
    down(x, dx, n * 4);
  }
  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo).
  kernels::ValueMoments value_moments(const float* x, std::size_t n) override {
    kernels::ValueMoments m;
    if (n == 0) return m;
    DeviceBuffer dx = up(x, n), out(3 * sizeof(double)), mx(sizeof(unsigned)), ws(moments_workspace_bytes(n));
    timed([&] { cuda::value_moments(dx.as<float>(), n, out.as<double>(), mx.as<unsigned>(), ws.as<void>(), ws.bytes(), stream_); });
    double s[3];
    unsigned bits = 0;
    down(s, out, sizeof s);
    down(&bits, mx, sizeof bits);
    m.sum = s[0];
    m.sum_sq = s[1];
    m.sum_abs = s[2];
    std::memcpy(&m.max_abs, &bits, sizeof bits);
    return m;
  }
  kernels::ExceedanceMoments exceedance_moments(const float* x, std::size_t n, float t, bool with_log) override {
    kernels::ExceedanceMoments m;
    if (n == 0) return m;
    DeviceBuffer dx = up(x, n), out(3 * sizeof(double)), cnt(sizeof(unsigned long long)), ws(moments_workspace_bytes(n));
    timed([&] {
      cuda::exceedance_moments(dx.as<float>(), n, t, with_log, out.as<double>(), cnt.as<unsigned long long>(),
                               ws.as<void>(), ws.bytes(), stream_);
    });
    double s[3];
    unsigned long long c = 0;
    down(s, out, sizeof s);
    down(&c, cnt, sizeof c);
    m.count = c;
    m.sum = s[0];
    m.sum_sq = s[1];
    m.sum_log = s[2];
    return m;
  }
  std::uint64_t count_above(const float* x, std::size_t n, float t) override {
    if (n == 0) return 0;
    DeviceBuffer dx = up(x, n), cnt(sizeof(unsigned long long));
    timed([&] { cuda::count_above(dx.as<float>(), n, t, cnt.as<unsigned long long>(), stream_); });
    unsigned long long c = 0;
    down(&c, cnt, sizeof c);
    return c;
  }
  std::size_t select_above(const float* x, std::size_t n, float t, std::uint32_t* idx) override {
    if (n == 0) return 0;
    DeviceBuffer dx = up(x, n), di(n * 4), cnt(sizeof(long long)), ws(select_above_workspace_bytes(n));
    timed([&] { cuda::select_above(dx.as<float>(), n, t, di.as<std::uint32_t>(), cnt.as<long long>(), ws.as<void>(), ws.bytes(), stream_); });
    long long c = 0;
    down(&c, cnt, sizeof c);
    down(idx, di, static_cast<std::size_t>(c) * 4);
    return static_cast<std::size_t>(c);
  }
  void sample_magnitudes(const float* x, std::size_t n, std::size_t m, std::uint64_t seed, std::uint32_t step,
                         std::uint32_t tensor, std::uint32_t worker, float* out) override {
    if (m == 0) return;
    if (n == 0) return kernels::reference_backend().sample_magnitudes(x, n, m, seed, step, tensor, worker, out);  // its error
    DeviceBuffer dx = up(x, n), dout(m * 4);
    timed([&] { cuda::sample_magnitudes(dx.as<float>(), n, m, seed, step, tensor, worker, dout.as<float>(), stream_); });
    down(out, dout, m * 4);
  }
  void scale(const float* x, std::size_t n, float s, float* out) override {
    if (n == 0) return;
    DeviceBuffer dx = up(x, n), dout(n * 4);
    timed([&] { cuda::scale(dx.as<float>(), n, s, dout.as<float>(), stream_); });
    down(out, dout, n * 4);
  }

  // ADTopk
  void topk_per_row(const float* x, std::size_t n_rows, std::size_t m, std::size_t k_row, std::uint32_t* idx) override {
    if (k_row > m) throw std::invalid_argument("topk_per_row: k_row = " + std::to_string(k_row) + " > m = " + std::to_string(m));
    if (n_rows == 0 || k_row == 0) return;
    DeviceBuffer dx = up(x, n_rows * m), di(n_rows * k_row * 4);
    timed([&] { cuda::topk_per_row(dx.as<float>(), n_rows, m, k_row, di.as<std::uint32_t>(), stream_); });
    down(idx, di, n_rows * k_row * 4);
  }
  void threshold_rows_count(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                            std::uint32_t* counts) override {
    if (n_rows == 0) return;
    DeviceBuffer dx = up(x, n_rows * m), dt = up(thr, n_rows), dc(n_rows * 4);
    timed([&] { cuda::threshold_rows_count(dx.as<float>(), n_rows, m, dt.as<float>(), dc.as<std::uint32_t>(), stream_); });
    down(counts, dc, n_rows * 4);
  }
  void threshold_rows_select(const float* x, std::size_t n_rows, std::size_t m, const float* thr,
                             const std::uint32_t* offsets, std::uint32_t* idx) override {
    if (n_rows == 0) return;
    // The total is the last offset plus the last row's count, which the host does not have here:
    // recount that row (the device output is sized by it).
    std::uint32_t last = 0;
    kernels::reference_backend().threshold_rows_count(x + (n_rows - 1) * m, 1, m, thr + n_rows - 1, &last);
    const std::size_t total = static_cast<std::size_t>(offsets[n_rows - 1]) + last;
    if (total == 0) return;
    DeviceBuffer dx = up(x, n_rows * m), dt = up(thr, n_rows), doff = up(offsets, n_rows), di(total * 4);
    timed([&] {
      cuda::threshold_rows_select(dx.as<float>(), n_rows, m, dt.as<float>(), doff.as<std::uint32_t>(),
                                  di.as<std::uint32_t>(), stream_);
    });
    down(idx, di, total * 4);
  }
  // PowerSGD
  void matmul_right(const float* A, std::size_t n, std::size_t k, const float* B, std::size_t c, float* C) override {
    if (n == 0 || c == 0) return;
    DeviceBuffer da = up(A, n * k), db = up(B, k * c), dc(n * c * 4);
    if (c <= 8 && n <= 0xffffffffu && k <= 0xffffffffu) {
      // P = M Q: ARC-Top-K's tiled sketch kernel with the given Q as its V (same fma chains).
      SketchTensor t;
      t.g = da.as<float>();
      t.p = dc.as<float>();
      t.v = db.as<float>();
      t.rows = static_cast<std::uint32_t>(n);
      t.cols = static_cast<std::uint32_t>(k);
      timed([&] { sketch_bucket(&t, 1, static_cast<int>(c), 0, 0, stream_); });
    } else {
      timed([&] { cuda::matmul_right(da.as<float>(), n, k, db.as<float>(), c, dc.as<float>(), stream_); });
    }
    down(C, dc, n * c * 4);
  }
  void matmul_left_t(const float* A, std::size_t n, std::size_t m, const float* B, std::size_t c, float* C) override {
    if (m == 0 || c == 0) return;
    DeviceBuffer da = up(A, n * m), db = up(B, n * c), dc(m * c * 4);
    timed([&] { cuda::matmul_left_t(da.as<float>(), n, m, db.as<float>(), c, dc.as<float>(), stream_); });
    down(C, dc, m * c * 4);
  }
  void orthogonalize(float* P, std::size_t n, std::size_t c) override {
    if (n == 0 || c == 0) return;
    DeviceBuffer dp = up(P, n * c);
    timed([&] { cuda::orthogonalize(dp.as<float>(), n, c, stream_); });
    down(P, dp, n * c * 4);
  }

 private:
  template <class T>
  DeviceBuffer up(const T* h, std::size_t count) {
    DeviceBuffer d(count * sizeof(T));
    if (count) check(cudaMemcpy(d.as<void>(), h, count * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
    return d;
  }
  void down(void* h, const DeviceBuffer& d, std::size_t bytes) {
    if (bytes) check(cudaMemcpy(h, d.as<void>(), bytes, cudaMemcpyDeviceToHost), "copy to host");
  }
  // Runs `enqueue` between two events and adds the device time to the running plan kernel.
  void timed(const std::function<void()>& enqueue) {
    check(cudaEventRecord(start_, stream_), "cudaEventRecord");
    enqueue();
    check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
    check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    device_s_ += static_cast<double>(ms) * 1e-3;
  }
  using BinaryOp = void (*)(const float*, const float*, std::size_t, float*, Stream);
  void binary(const float* a, const float* b, std::size_t n, float* out, BinaryOp op) {
    if (n == 0) return;
    DeviceBuffer da = up(a, n), db = up(b, n), dout(n * 4);
    timed([&] { op(da.as<float>(), db.as<float>(), n, dout.as<float>(), stream_); });
    down(out, dout, n * 4);
  }

  Stream stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::string source_;
  double device_s_ = 0.0;
};

const bool kRegistered = [] {
  kernels::register_cuda_backend({[] { return device_count(); },
                                  []() -> kernels::Backend& {
                                    static CudaBackend b;
                                    return b;
                                  }});
  return true;
}();

}  // namespace

}  // namespace arcsim::cuda

// Referenced by the link option of arcsim_kernels_cuda, so the linker keeps this object (and its
// registration) in every executable that links the library.
extern "C" {
int arcsim_cuda_backend_anchor = 1;
}
