// Kernel-timing sources for the simulator: calibration files (measured on a GPU by
// `arcsim calibrate`) and the bytes/bandwidth model of named GPUs. docs/gpu.md explains every
// constant below and where it comes from.
#include "kernels/timing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "kernels/catalogue.hpp"
#include "kernels/torch_ops.hpp"

namespace arcsim::kernels {

namespace {

// ---- The model -------------------------------------------------------------------------------
// Nominal HBM / GDDR bandwidth from the vendors' datasheets (docs/gpu.md, "GPU constants").
struct GpuSpec {
  const char* name;
  double bandwidth_Bps;
};
constexpr GpuSpec kGpus[] = {
    {"V100", 0.9e12},         // V100 SXM2: 900 GB/s HBM2 (NVIDIA V100 datasheet)
    {"A100", 2.039e12},       // A100 SXM4 80GB: 2,039 GB/s (NVIDIA A100 datasheet)
    {"A100-40GB", 1.555e12},  // A100 SXM4 40GB: 1,555 GB/s (NVIDIA A100 datasheet)
    {"H100-SXM", 3.35e12},    // H100 SXM5 80GB: 3.35 TB/s (NVIDIA H100 datasheet)
    {"H100-PCIe", 2.0e12},    // H100 PCIe 80GB: 2.0 TB/s (NVIDIA H100 datasheet)
    {"H200", 4.8e12},         // H200 SXM 141GB: 4.8 TB/s (NVIDIA H200 datasheet)
    {"RTX4090", 1.008e12},    // GeForce RTX 4090: 21 Gbps x 384 bit = 1,008 GB/s (NVIDIA spec page)
};
// A device-to-device copy reaches ~90% of nominal (H100 SXM: ~3.0 of 3.35 TB/s,
// a measured figure for that GPU); the same fraction is assumed for every GPU above.
constexpr double kCopyEfficiency = 0.90;
// Launch overhead per kernel in a stream (kernels.md section 6: ~2-5 us; we take the low end,
// since a bucket's kernels are queued back to back and the next launch overlaps the current one).
constexpr double kLaunchSeconds = 2.5e-6;

// How one plan kernel maps onto device work: seconds = launches * kLaunchSeconds +
// (bytes_moved + extra_bytes_per_element * elements) / (bandwidth * kCopyEfficiency * efficiency),
// with the kernel's cost entry from the catalogue (kernels/catalogue.hpp).
const KernelCost& cost_of(const std::string& name) {
  const KernelSpec* k = find_kernel(name);
  return k ? k->cost : generic_kernel_cost();
}

double positive(arcsim::json::Fields& f, const std::string& key) {
  const double d = f.number(key);
  if (!(d > 0.0)) f.fail(key, "a positive finite number");
  return d;
}

double non_negative(arcsim::json::Fields& f, const std::string& key, double fallback) {
  if (!f.has(key)) return f.optional(key), fallback;
  const double d = f.number(key);
  if (!(d >= 0.0)) f.fail(key, "a finite number >= 0");
  return d;
}

}  // namespace

const std::vector<std::string>& plan_kernel_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& k : kernel_catalogue()) v.emplace_back(k.name);
    return v;
  }();
  return names;
}

// ---- Calibration files --------------------------------------------------------------------------

CalibrationFile CalibrationFile::parse(const std::string& text, const std::string& path) {
  using arcsim::json::Fields;
  const nlohmann::json j = arcsim::json::parse_text(text, path);
  Fields f(j, path, "");
  CalibrationFile c;
  if (f.string("format") != "arcsim-calibration/1") f.fail("format", "\"arcsim-calibration/1\"");
  const auto& measured = f.required("measured");
  if (!measured.is_boolean()) f.fail("measured", "true or false");
  c.measured = measured.get<bool>();
  c.device = f.string("device");
  c.driver = f.string("driver");
  c.cuda_runtime = f.string("cuda_runtime");
  c.arcsim_commit = f.string_or("arcsim_commit", "");
  c.method = f.string_or("method", "");
  c.copy_bandwidth_Bps = f.has("copy_bandwidth_Bps") ? positive(f, "copy_bandwidth_Bps") : (f.optional("copy_bandwidth_Bps"), 0.0);
  const auto& kernels = f.required("kernels");
  if (!kernels.is_object() || kernels.empty()) f.fail("kernels", "a non-empty object of kernel tables");
  for (const auto& [name, table] : kernels.items()) {
    const std::string field = "kernels." + name;
    if (!table.is_array() || table.empty())
      throw std::runtime_error(path + ": " + field + ": expected a non-empty array of points, got " +
                               arcsim::json::brief(table));
    std::vector<CalibrationPoint> pts;
    for (std::size_t i = 0; i < table.size(); ++i) {
      Fields p(table[i], path, field + "[" + std::to_string(i) + "]");
      CalibrationPoint pt;
      pt.elements = p.integer("elements");
      if (pt.elements < 0) p.fail("elements", "an integer >= 0");
      pt.bytes_moved = positive(p, "bytes_moved");
      pt.median_s = positive(p, "median_s");
      pt.p10_s = non_negative(p, "p10_s", pt.median_s);
      pt.p90_s = non_negative(p, "p90_s", pt.median_s);
      if (pt.p10_s > pt.median_s) p.fail("p10_s", "<= median_s");
      if (pt.p90_s < pt.median_s) p.fail("p90_s", ">= median_s");
      // A measured point comes from runs >= 1; a modelled file (measured: false) has 0 runs.
      const std::int64_t runs = p.integer_or("runs", c.measured ? 1 : 0);
      if (runs < (c.measured ? 1 : 0) || runs > 1'000'000'000)
        p.fail("runs", c.measured ? "a positive integer (measured points)" : "an integer >= 0");
      pt.runs = static_cast<int>(runs);
      if (!pts.empty() && pt.bytes_moved <= pts.back().bytes_moved)
        p.fail("bytes_moved", "strictly increasing bytes_moved (> " + arcsim::io::format_number(pts.back().bytes_moved) + ")");
      p.finish();
      pts.push_back(pt);
    }
    c.kernels[name] = std::move(pts);
  }
  f.finish();
  return c;
}

CalibrationFile CalibrationFile::load(const std::string& path) {
  std::string text;
  try {
    text = arcsim::io::read_file(path, arcsim::json::kMaxJsonBytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (calibration file)");
  }
  return parse(text, path);
}

std::string CalibrationFile::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = "arcsim-calibration/1";
  j["measured"] = measured;
  j["device"] = device;
  j["driver"] = driver;
  j["cuda_runtime"] = cuda_runtime;
  j["arcsim_commit"] = arcsim_commit;
  j["method"] = method;
  if (copy_bandwidth_Bps > 0) j["copy_bandwidth_Bps"] = copy_bandwidth_Bps;
  nlohmann::ordered_json ks = nlohmann::ordered_json::object();
  for (const auto& [name, pts] : kernels) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& p : pts)
      arr.push_back({{"elements", p.elements}, {"bytes_moved", p.bytes_moved}, {"median_s", p.median_s},
                     {"p10_s", p.p10_s}, {"p90_s", p.p90_s}, {"runs", p.runs}});
    ks[name] = std::move(arr);
  }
  j["kernels"] = std::move(ks);
  return j.dump(2) + "\n";
}

// ---- Interpolation ------------------------------------------------------------------------------

double interpolate_seconds(const std::vector<CalibrationPoint>& pts, double b) {
  if (pts.empty()) throw std::invalid_argument("interpolate_seconds: empty table");
  if (!(b >= 0.0) || !std::isfinite(b)) throw std::invalid_argument("interpolate_seconds: bytes_moved must be >= 0");
  const auto& lo = pts.front();
  const auto& hi = pts.back();
  // Affine extrapolation: the line through the two outermost points is launch overhead + bytes /
  // bandwidth, the physics of a memory-bound kernel. Below the table it never goes negative and
  // never exceeds the smallest point (smaller work is not slower); above it never falls below the
  // largest point.
  if (b <= lo.bytes_moved) {
    if (pts.size() == 1 || b == lo.bytes_moved) return lo.median_s;
    const auto& nx = pts[1];
    const double slope = (nx.median_s - lo.median_s) / (nx.bytes_moved - lo.bytes_moved);
    const double t = lo.median_s + (b - lo.bytes_moved) * slope;
    return std::clamp(t, 0.0, lo.median_s);
  }
  if (b >= hi.bytes_moved) {
    if (pts.size() == 1) return hi.median_s * (b / hi.bytes_moved);
    const auto& pv = pts[pts.size() - 2];
    const double slope = (hi.median_s - pv.median_s) / (hi.bytes_moved - pv.bytes_moved);
    const double t = hi.median_s + (b - hi.bytes_moved) * slope;
    return std::max(t, hi.median_s);
  }
  // Inside: the first point with bytes_moved >= b, log-log between it and its predecessor.
  const auto it = std::lower_bound(pts.begin(), pts.end(), b,
                                   [](const CalibrationPoint& p, double x) { return p.bytes_moved < x; });
  if (it->bytes_moved == b) return it->median_s;
  const auto& p1 = *it;
  const auto& p0 = *(it - 1);
  const double w = (std::log(b) - std::log(p0.bytes_moved)) / (std::log(p1.bytes_moved) - std::log(p0.bytes_moved));
  return std::exp(std::log(p0.median_s) + w * (std::log(p1.median_s) - std::log(p0.median_s)));
}

// ---- KernelTimeModel --------------------------------------------------------------------------

const std::vector<std::string>& KernelTimeModel::known_gpus() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& g : kGpus) v.emplace_back(g.name);
    return v;
  }();
  return names;
}

KernelTimeModel KernelTimeModel::model(const std::string& gpu) {
  for (const auto& g : kGpus) {
    if (gpu != g.name) continue;
    KernelTimeModel m;
    m.is_model_ = true;
    m.bandwidth_ = g.bandwidth_Bps;
    m.launch_s_ = kLaunchSeconds;
    m.source_ = "model:" + gpu;
    return m;
  }
  std::string names;
  for (const auto& g : kGpus) names += std::string(names.empty() ? "" : ", ") + g.name;
  throw std::invalid_argument("model:" + gpu + ": unknown GPU (known: " + names + ")");
}

KernelTimeModel KernelTimeModel::calibration(CalibrationFile file, const std::string& path) {
  KernelTimeModel m;
  m.cal_ = std::move(file);
  m.cal_path_ = path;
  m.source_ = "calibration:" + path;
  if (!m.cal_.measured) m.source_ += " (modelled, not measured: " + m.cal_.device + ")";
  return m;
}

KernelTimeModel KernelTimeModel::calibration(const std::string& path) {
  return calibration(CalibrationFile::load(path), path);
}

KernelTimeModel KernelTimeModel::from_spec(const std::string& spec) {
  if (spec.rfind("model:", 0) == 0) return model(spec.substr(6));
  if (spec.rfind("calibration:", 0) == 0 && spec.size() > 12) return calibration(spec.substr(12));
  throw std::invalid_argument("kernel timing source '" + spec +
                              "': expected model:<gpu> (V100, A100, A100-40GB, H100-SXM, H100-PCIe, H200, RTX4090) or "
                              "calibration:<file.json>");
}

double KernelTimeModel::seconds(const std::string& kernel, std::int64_t elements, double bytes_moved) const {
  if (elements < 0 || !(bytes_moved >= 0.0))
    throw std::invalid_argument(source_ + ": kernel '" + kernel + "': elements and bytes_moved must be >= 0");
  if (is_torch_op(kernel)) {  // an op of a recorded comm hook (torch_ops.hpp)
    const double bw = is_model_ ? bandwidth_ : cal_.copy_bandwidth_Bps;
    if (!(bw > 0))
      throw std::invalid_argument(cal_path_ + ": copy_bandwidth_Bps: expected it for the torch ops of a recorded hook ('" +
                                  kernel + "')");
    const double device = bytes_moved > 0 ? launch_s_ + torch_op_traffic_factor(kernel) * bytes_moved / (bw * kCopyEfficiency) : 0;
    return std::max(kDispatchSeconds, device);
  }
  if (is_model_) {
    const KernelCost& c = cost_of(kernel);
    const double bytes = bytes_moved + c.extra_bytes_per_element * static_cast<double>(elements);
    return c.launches * launch_s_ + bytes / (bandwidth_ * kCopyEfficiency * c.efficiency);
  }
  const auto it = cal_.kernels.find(kernel);
  if (it == cal_.kernels.end())
    throw std::invalid_argument(cal_path_ + ": kernels: no table for kernel '" + kernel + "'");
  return interpolate_seconds(it->second, bytes_moved);
}

}  // namespace arcsim::kernels
