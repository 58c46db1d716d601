// Kernel-timing sources for the simulator: calibration files (measured on a GPU by
// `arcsim calibrate`) and the bytes/bandwidth model of named GPUs. docs/gpu.md explains every
// constant below and where it comes from.
#include "kernels/timing.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "kernels/catalogue.hpp"

namespace arcsim::kernels {

namespace {

// ---- The model -------------------------------------------------------------------------------
// Nominal HBM / GDDR bandwidth from the vendors' datasheets (docs/gpu.md, "GPU constants").
struct GpuSpec {
  const char* name;
  double bandwidth_Bps;
};
constexpr GpuSpec kGpus[] = {
    {"A100", 2.039e12},       // A100 SXM4 80GB: 2,039 GB/s (NVIDIA A100 datasheet)
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

[[noreturn]] void bad(const std::string& path, const std::string& field, const std::string& expected,
                      const nlohmann::json* got) {
  std::string g = got ? got->dump() : "nothing";
  if (g.size() > 60) g = g.substr(0, 57) + "...";
  throw std::runtime_error(path + ": " + field + ": expected " + expected + ", got " + g);
}

const nlohmann::json& member(const nlohmann::json& obj, const char* key, const std::string& path,
                             const std::string& field, const char* expected) {
  auto it = obj.find(key);
  if (it == obj.end()) bad(path, field, expected, nullptr);
  return *it;
}

std::string get_string(const nlohmann::json& obj, const char* key, const std::string& path, const std::string& prefix) {
  const auto& v = member(obj, key, path, prefix + key, "a string");
  if (!v.is_string()) bad(path, prefix + key, "a string", &v);
  return v.get<std::string>();
}

double get_number(const nlohmann::json& obj, const char* key, const std::string& path, const std::string& prefix,
                  bool positive) {
  const char* what = positive ? "a positive finite number" : "a finite number >= 0";
  const auto& v = member(obj, key, path, prefix + key, what);
  if (!v.is_number()) bad(path, prefix + key, what, &v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0.0 || (positive && d == 0.0)) bad(path, prefix + key, what, &v);
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
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) bad(path, "(top level)", "an object", &j);
  CalibrationFile f;
  const std::string format = get_string(j, "format", path, "");
  if (format != "arcsim-calibration/1") bad(path, "format", "\"arcsim-calibration/1\"", &j["format"]);
  const auto& measured = member(j, "measured", path, "measured", "true or false");
  if (!measured.is_boolean()) bad(path, "measured", "true or false", &measured);
  f.measured = measured.get<bool>();
  f.device = get_string(j, "device", path, "");
  f.driver = get_string(j, "driver", path, "");
  f.cuda_runtime = get_string(j, "cuda_runtime", path, "");
  if (j.contains("arcsim_commit")) f.arcsim_commit = get_string(j, "arcsim_commit", path, "");
  if (j.contains("method")) f.method = get_string(j, "method", path, "");
  if (j.contains("copy_bandwidth_Bps")) f.copy_bandwidth_Bps = get_number(j, "copy_bandwidth_Bps", path, "", true);
  const auto& kernels = member(j, "kernels", path, "kernels", "an object of kernel tables");
  if (!kernels.is_object() || kernels.empty()) bad(path, "kernels", "a non-empty object of kernel tables", &kernels);
  for (const auto& [name, table] : kernels.items()) {
    const std::string field = "kernels." + name;
    if (!table.is_array() || table.empty()) bad(path, field, "a non-empty array of points", &table);
    std::vector<CalibrationPoint> pts;
    for (std::size_t i = 0; i < table.size(); ++i) {
      const auto& p = table[i];
      const std::string pf = field + "[" + std::to_string(i) + "].";
      if (!p.is_object()) bad(path, field + "[" + std::to_string(i) + "]", "an object", &p);
      CalibrationPoint c;
      c.elements = static_cast<std::int64_t>(get_number(p, "elements", path, pf, false));
      c.bytes_moved = get_number(p, "bytes_moved", path, pf, true);
      c.median_s = get_number(p, "median_s", path, pf, true);
      c.p10_s = p.contains("p10_s") ? get_number(p, "p10_s", path, pf, false) : c.median_s;
      c.p90_s = p.contains("p90_s") ? get_number(p, "p90_s", path, pf, false) : c.median_s;
      if (c.p10_s > c.median_s) bad(path, pf + "p10_s", "<= median_s", &p["p10_s"]);
      if (c.p90_s < c.median_s) bad(path, pf + "p90_s", ">= median_s", &p["p90_s"]);
      c.runs = p.contains("runs") ? static_cast<int>(get_number(p, "runs", path, pf, true)) : 0;
      if (!pts.empty() && c.bytes_moved <= pts.back().bytes_moved)
        bad(path, pf + "bytes_moved", "strictly increasing bytes_moved (> " + std::to_string(pts.back().bytes_moved) + ")",
            &p["bytes_moved"]);
      pts.push_back(c);
    }
    f.kernels[name] = std::move(pts);
  }
  return f;
}

CalibrationFile CalibrationFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open calibration file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
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
                              "': expected model:<gpu> (A100, H100-SXM, H100-PCIe, H200, RTX4090) or "
                              "calibration:<file.json>");
}

double KernelTimeModel::seconds(const std::string& kernel, std::int64_t elements, double bytes_moved) const {
  if (elements < 0 || !(bytes_moved >= 0.0))
    throw std::invalid_argument(source_ + ": kernel '" + kernel + "': elements and bytes_moved must be >= 0");
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
