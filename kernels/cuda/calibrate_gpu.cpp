// measure_calibration (kernels/cuda/calibrate_gpu.hpp): one runner per plan kernel of the
// catalogue (kernels/catalogue.hpp). Each runner allocates its inputs once per size, enqueues the
// device kernels that implement the plan kernel, and reports (elements, bytes_moved) from the
// catalogue's work formulas, with one worker: the same numbers the compressors record.
#include "kernels/cuda/calibrate_gpu.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "kernels/catalogue.hpp"
#include "kernels/cuda/device_kernels.hpp"
#include "kernels/cuda/gpu_bench.hpp"
#include "kernels/threshold_fit.hpp"

namespace arcsim::cuda {

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

struct Point {
  std::int64_t elements;
  double bytes_moved;
  TimingStats stats;
};

std::size_t k_of(double ratio, std::size_t n) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(ratio * static_cast<double>(n)));
}

// Ascending indices 0, step, 2 step, ... (k of them): a stand-in selection for scatter kernels.
DeviceBuffer spread_indices(std::size_t k, std::size_t n, Stream s) {
  std::vector<std::uint32_t> h(k);
  const std::size_t step = std::max<std::size_t>(1, n / std::max<std::size_t>(1, k));
  for (std::size_t i = 0; i < k; ++i) h[i] = static_cast<std::uint32_t>(std::min(n - 1, i * step));
  DeviceBuffer d(k * sizeof(std::uint32_t));
  check(cudaMemcpyAsync(d.as<void>(), h.data(), k * sizeof(std::uint32_t), cudaMemcpyHostToDevice, s), "upload");
  check(cudaStreamSynchronize(s), "upload");
  return d;
}

Point point(kernels::KernelId id, const kernels::KernelWork& w, const TimingStats& s) {
  const kernels::KernelSpec& k = kernels::kernel_spec(id);
  return {static_cast<std::int64_t>(k.elements(w)), static_cast<double>(k.bytes_moved(w)), s};
}

Point run_kernel(const std::string& name, std::size_t n, const CalibrateOptions& o, GpuBench& bench) {
  const Stream st = bench.stream();
  const std::size_t k = k_of(o.ratio, n);
  auto time = [&](const std::function<void(Stream)>& f) { return bench.time(f, o.runs, o.warmup); };
  auto normal = [&](std::size_t count, std::uint64_t seed) {
    DeviceBuffer b(count * sizeof(float));
    fill_normal(b.as<float>(), count, seed, st);
    return b;
  };
  if (name == "topk_select") {  // top-k + gather of the values
    DeviceBuffer x = normal(n, 1), idx(k * 4), vals(k * 4), ws(topk_workspace_bytes(n));
    const auto s = time([&](Stream s2) {
      topk_magnitude(x.as<float>(), n, k, idx.as<std::uint32_t>(), ws.as<void>(), ws.bytes(), s2);
      gather(x.as<float>(), idx.as<std::uint32_t>(), k, vals.as<float>(), s2);
    });
    return point(kernels::KernelId::kTopkSelect, {.n = n, .k = k}, s);
  }
  if (name == "topk_scatter_add") {  // zero, scatter-add the gathered values, average
    DeviceBuffer agg(n * 4), vals = normal(k, 2), idx = spread_indices(k, n, st);
    const auto s = time([&](Stream s2) {
      check(cudaMemsetAsync(agg.as<void>(), 0, n * 4, s2), "memset");
      scatter_add(vals.as<float>(), idx.as<std::uint32_t>(), k, agg.as<float>(), s2);
      divide(agg.as<float>(), n, 8, s2);
    });
    return point(kernels::KernelId::kTopkScatterAdd, {.n = n, .k = k, .workers = 1}, s);
  }
  if (name == "randk_indices") {
    DeviceBuffer idx(k * 4);
    const auto s = time([&](Stream s2) { randk_indices(n, k, 7, 1, 2, idx.as<std::uint32_t>(), s2); });
    return point(kernels::KernelId::kRandkIndices, {.n = n, .k = k}, s);
  }
  if (name == "randk_gather") {
    DeviceBuffer x = normal(n, 3), vals(k * 4);
    const auto s = time([&](Stream s2) {
      randk_gather(x.as<float>(), n, k, 7, 1, 2, vals.as<float>(), nullptr, false, s2);
    });
    return point(kernels::KernelId::kRandkGather, {.n = n, .k = k}, s);
  }
  if (name == "randk_scatter") {
    DeviceBuffer agg(n * 4), vals = normal(k, 4), idx(k * 4);
    randk_indices(n, k, 7, 1, 2, idx.as<std::uint32_t>(), st);
    const auto s = time([&](Stream s2) {
      divide(vals.as<float>(), k, 8, s2);
      check(cudaMemsetAsync(agg.as<void>(), 0, n * 4, s2), "memset");
      scatter(vals.as<float>(), idx.as<std::uint32_t>(), k, agg.as<float>(), s2);
    });
    return point(kernels::KernelId::kRandkScatter, {.n = n, .k = k}, s);
  }
  const auto rows = static_cast<std::uint32_t>(std::max<std::size_t>(1, n / o.cols));
  const std::size_t nn = std::size_t{rows} * o.cols;
  if (name == "arc_sketch") {
    DeviceBuffer g = normal(nn, 5), p(std::size_t{rows} * o.rank * 4);
    SketchTensor t;
    t.g = g.as<float>();
    t.p = p.as<float>();
    t.rows = rows;
    t.cols = o.cols;
    const auto s = time([&](Stream s2) { sketch_bucket(&t, 1, o.rank, 1, 0, s2); });
    return point(kernels::KernelId::kArcSketch, {.n = nn, .sketch = std::size_t{rows} * o.rank}, s);
  }
  if (name == "arc_select_rows") {  // average the sketch, scores, top-k rows; rows = n / 64
    const auto srows = static_cast<std::uint32_t>(std::max<std::size_t>(1, n / 64));
    const std::size_t sk = std::size_t{srows} * o.rank;
    DeviceBuffer p = normal(sk, 6), scores(srows * 4ull), out(k_of(o.ratio, srows) * 4);
    RowSelectTensor t;
    t.p = p.as<float>();
    t.scores = scores.as<float>();
    t.rows = srows;
    t.width = static_cast<std::uint32_t>(o.rank);
    t.k = static_cast<std::uint32_t>(k_of(o.ratio, srows));
    t.rows_out = out.as<std::uint32_t>();
    const auto s = time([&](Stream s2) {
      divide(p.as<float>(), sk, 1, s2);
      select_rows_bucket(&t, 1, s2);
    });
    return point(kernels::KernelId::kArcSelectRows, {.rows = srows, .sketch = sk}, s);
  }
  if (name == "arc_gather_rows" || name == "arc_scatter_rows") {
    const std::size_t kr = k_of(o.ratio, rows);
    DeviceBuffer dense = normal(nn, 7), packed = normal(kr * o.cols, 8), sel = spread_indices(kr, rows, st);
    RowCopyTensor t;
    t.dense = dense.as<float>();
    t.packed = packed.as<float>();
    t.rows = sel.as<std::uint32_t>();
    t.k = static_cast<std::uint32_t>(kr);
    t.cols = o.cols;
    if (name == "arc_gather_rows") {
      const auto s = time([&](Stream s2) { gather_rows_bucket(&t, 1, false, s2); });
      return point(kernels::KernelId::kArcGatherRows, {.k = kr * o.cols}, s);
    }
    const auto s = time([&](Stream s2) {
      divide(packed.as<float>(), kr * o.cols, 1, s2);
      check(cudaMemsetAsync(dense.as<void>(), 0, nn * 4, s2), "memset");
      scatter_rows_bucket(&t, 1, s2);
    });
    return point(kernels::KernelId::kArcScatterRows, {.n = nn, .k = kr * o.cols}, s);
  }
  if (name == "ef_input" || name == "ef_update") {
    DeviceBuffer a = normal(n, 9), b = normal(n, 10), out(n * 4);
    const bool input = name == "ef_input";
    const auto s = time([&](Stream s2) {
      if (input) ef_add(a.as<float>(), b.as<float>(), n, out.as<float>(), s2);
      else ef14_residual(a.as<float>(), b.as<float>(), n, out.as<float>(), s2);
    });
    return point(input ? kernels::KernelId::kEfInput : kernels::KernelId::kEfUpdate, {.n = n}, s);
  }
  if (name == "average") {
    DeviceBuffer a = normal(n, 11);
    const auto s = time([&](Stream s2) { divide(a.as<float>(), n, 1, s2); });
    return point(kernels::KernelId::kAverage, {.n = n}, s);
  }
  // Threshold estimators (DGC, GaussianK, RedSync, SIDCo): the normal input's threshold at the
  // ratio is mu + sigma Phi^-1(1 - ratio/2), so select and mask handle about k elements.
  if (name == "thr_stats") {
    DeviceBuffer x = normal(n, 12), out(3 * sizeof(double)), mx(sizeof(unsigned)), ws(moments_workspace_bytes(n));
    const auto s = time([&](Stream s2) {
      value_moments(x.as<float>(), n, out.as<double>(), mx.as<unsigned>(), ws.as<void>(), ws.bytes(), s2);
    });
    return point(kernels::KernelId::kThrStats, {.n = n}, s);
  }
  if (name == "thr_sample") {
    DeviceBuffer x = normal(n, 13), smp(k * 4), idx(std::max<std::size_t>(1, k / 100) * 4),
        ws(topk_workspace_bytes(k));
    const std::size_t ks = std::max<std::size_t>(1, k / 100);
    const auto s = time([&](Stream s2) {
      sample_magnitudes(x.as<float>(), n, k, 3, 1, 2, 0, smp.as<float>(), s2);
      topk_magnitude(smp.as<float>(), k, ks, idx.as<std::uint32_t>(), ws.as<void>(), ws.bytes(), s2);
    });
    return point(kernels::KernelId::kThrSample, {.k = k}, s);
  }
  const float thr = static_cast<float>(kernels::threshold::normal_upper_quantile(std::min(0.999, o.ratio) / 2));
  if (name == "thr_count") {
    DeviceBuffer x = normal(n, 14), cnt(sizeof(unsigned long long));
    const auto s = time([&](Stream s2) { count_above(x.as<float>(), n, thr, cnt.as<unsigned long long>(), s2); });
    return point(kernels::KernelId::kThrCount, {.n = n}, s);
  }
  if (name == "thr_select") {
    DeviceBuffer x = normal(n, 15), idx(n * 4), vals(n * 4), cnt(sizeof(long long)), ws(select_above_workspace_bytes(n));
    const auto s = time([&](Stream s2) {
      select_above(x.as<float>(), n, thr, idx.as<std::uint32_t>(), cnt.as<long long>(), ws.as<void>(), ws.bytes(), s2);
      gather(x.as<float>(), idx.as<std::uint32_t>(), k, vals.as<float>(), s2);  // about k were selected
    });
    return point(kernels::KernelId::kThrSelect, {.n = n, .k = k}, s);
  }
  if (name == "dgc_accumulate") {
    DeviceBuffer g = normal(n, 16), u = normal(n, 17), v = normal(n, 18);
    const auto s = time([&](Stream s2) {
      heavy_ball_update(u.as<float>(), g.as<float>(), n, 0.9f, s2);
      ef_accumulate(v.as<float>(), u.as<float>(), n, s2);
    });
    return point(kernels::KernelId::kDgcAccumulate, {.n = n}, s);
  }
  if (name == "dgc_mask") {
    DeviceBuffer u = normal(n, 19), v = normal(n, 20), zeros(k * 4), idx = spread_indices(k, n, st);
    check(cudaMemsetAsync(zeros.as<void>(), 0, k * 4, st), "memset");
    const auto s = time([&](Stream s2) {
      scatter(zeros.as<float>(), idx.as<std::uint32_t>(), k, v.as<float>(), s2);
      scatter(zeros.as<float>(), idx.as<std::uint32_t>(), k, u.as<float>(), s2);
    });
    return point(kernels::KernelId::kDgcMask, {.k = k}, s);
  }
  throw std::logic_error("measure_calibration: no device runner for plan kernel '" + name + "'");
}

}  // namespace

kernels::CalibrationFile measure_calibration(const CalibrateOptions& o,
                                             const std::function<void(const std::string&)>& progress) {
  if (device_count() == 0) throw std::runtime_error("no CUDA device available");
  if (o.runs < 20) throw std::invalid_argument("--runs must be >= 20 (median of at least 20 samples)");
  GpuBench bench;
  kernels::CalibrationFile f;
  f.measured = true;
  f.device = device_name();
  f.driver = driver_version();
  f.cuda_runtime = runtime_version();
  f.arcsim_commit = o.arcsim_commit;
  std::ostringstream method;
  method << "cudaEvent per sample, median/p10/p90 of " << o.runs << " samples after " << o.warmup
         << " warm-up calls, L2 flushed (256 MiB memset) before every sample, clocks as found; elements 2^"
         << o.min_log2 << "..2^" << o.max_log2 << " (every 2nd power), ratio " << o.ratio << ", rank " << o.rank
         << ", row length " << o.cols << "; bytes_moved as the CPU compressors record it (one worker)";
  f.method = method.str();
  const std::size_t copy_bytes = std::size_t{1} << 28;
  const TimingStats copy = bench.time_copy(copy_bytes, o.runs);
  f.copy_bandwidth_Bps = 2.0 * static_cast<double>(copy_bytes) / copy.median_s;
  progress("device-to-device copy of 256 MiB: " + std::to_string(f.copy_bandwidth_Bps / 1e9) + " GB/s");
  for (const auto& name : kernels::plan_kernel_names()) {
    std::vector<kernels::CalibrationPoint> pts;
    for (int lg = o.min_log2; lg <= o.max_log2; lg += 2) {
      const Point p = run_kernel(name, std::size_t{1} << lg, o, bench);
      if (!pts.empty() && p.bytes_moved <= pts.back().bytes_moved) continue;  // a size the grid cannot tell apart
      pts.push_back({p.elements, p.bytes_moved, p.stats.median_s, p.stats.p10_s, p.stats.p90_s, p.stats.runs});
      std::ostringstream line;
      line << name << " 2^" << lg << ": " << p.stats.median_s * 1e6 << " us (p10 " << p.stats.p10_s * 1e6
           << ", p90 " << p.stats.p90_s * 1e6 << ")";
      progress(line.str());
    }
    f.kernels[name] = std::move(pts);
  }
  return f;
}

}  // namespace arcsim::cuda
