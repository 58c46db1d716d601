#include "compute_settings.hpp"

#include <filesystem>

#include "common/format.hpp"
#include "common/json_fields.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;
using arcsim::json::Fields;
using nlohmann::json;

namespace {

const std::vector<std::string> kPrecisions = {"fp32", "tf32", "bf16", "fp16"};

ComputeSettings from_object(const json& v, const std::string& file, const std::string& field, bool with_format) {
  Fields f(v, file, field);
  if (with_format || f.has("format")) {
    if (f.string("format") != kComputeSettingsFormat) f.fail("format", std::string("\"") + kComputeSettingsFormat + "\"");
  }
  ComputeSettings s;
  s.model = f.string("model");
  if (s.model.rfind("model:", 0) == 0) s.model = s.model.substr(6);
  if (s.model.empty()) f.fail("model", "\"trace\" or a GPU name such as H100-SXM");
  if (f.has("mfu")) {
    const double m = f.number("mfu");
    if (!(m > 0 && m <= 1)) f.fail("mfu", "a fraction of the matmul peak in (0, 1]");
    s.mfu = m;
  }
  if (f.has("kernel_floor_us")) {
    const double us = f.number("kernel_floor_us");
    if (!(us >= 0 && us <= 1e6)) f.fail("kernel_floor_us", "microseconds per kernel launch in [0, 1e6]");
    s.kernel_floor_s = us * 1e-6;
  }
  if (f.has("matmul_precision")) s.matmul_precision = f.choice("matmul_precision", kPrecisions, "");
  s.optimizer = f.string_or("optimizer", "");
  s.fixed_step_s = f.number_or("fixed_step_s", 0);
  if (!(s.fixed_step_s >= 0 && s.fixed_step_s <= 3600)) f.fail("fixed_step_s", "seconds per iteration in [0, 3600]");
  if (s.is_trace())
    for (const char* k : {"mfu", "kernel_floor_us", "matmul_precision", "optimizer"})
      if (f.has(k)) f.fail(k, "a GPU model (\"model\": \"H100-SXM\"): the recorded times have no such setting");
  if (const json* c = f.optional("calibrated_from")) s.calibrated_from = *c;
  f.finish();
  return s;
}

}  // namespace

json ComputeSettings::to_json() const {
  const bool plain = !mfu && !kernel_floor_s && matmul_precision.empty() && optimizer.empty() && fixed_step_s == 0 &&
                     calibrated_from.is_null();
  if (plain) return is_trace() ? json("trace") : json("model:" + model);
  json j = {{"model", model}};
  if (mfu) j["mfu"] = *mfu;
  if (kernel_floor_s) j["kernel_floor_us"] = *kernel_floor_s * 1e6;
  if (!matmul_precision.empty()) j["matmul_precision"] = matmul_precision;
  if (!optimizer.empty()) j["optimizer"] = optimizer;
  if (fixed_step_s > 0) j["fixed_step_s"] = fixed_step_s;
  if (!calibrated_from.is_null()) j["calibrated_from"] = calibrated_from;
  return j;
}

std::string ComputeSettings::label() const {
  std::string s = is_trace() ? "trace" : "model:" + model;
  std::string extra;
  auto add = [&](const std::string& k, const std::string& v) { extra += (extra.empty() ? "" : ", ") + k + " " + v; };
  if (mfu) add("mfu", io::format_number(*mfu));
  if (kernel_floor_s) add("kernel_floor_us", io::format_number(*kernel_floor_s * 1e6));
  if (!matmul_precision.empty()) add("matmul_precision", matmul_precision);
  if (!optimizer.empty()) add("optimizer", optimizer);
  if (fixed_step_s > 0) add("fixed_step_s", io::format_number(fixed_step_s));
  return extra.empty() ? s : s + " {" + extra + "}";
}

ComputeSettings compute_settings(const std::string& value, const std::string& flag) {
  try {
    return parse_compute_settings(json(value), flag, "value", "");
  } catch (const ConfigError& e) {
    throw std::invalid_argument(e.what());
  }
}

json compute_settings_file(const ComputeSettings& s) {
  json j = {{"format", kComputeSettingsFormat}};
  json o = s.to_json();
  if (o.is_string()) o = {{"model", s.model}};
  j.update(o);
  return j;
}

ComputeSettings parse_compute_settings(const json& v, const std::string& file, const std::string& field,
                                       const std::string& base_dir) {
  if (v.is_object()) return from_object(v, file, field, false);
  if (!v.is_string())
    throw ConfigError(file + ": " + field + ": expected \"trace\", \"model:GPU\", a compute settings file or an "
                      "object with \"model\", got " + v.dump());
  const std::string s = v.get<std::string>();
  ComputeSettings out;
  if (s == "trace") return out;
  if (s.rfind("model:", 0) == 0 && s.size() > 6) {
    out.model = s.substr(6);
    return out;
  }
  if (s.size() > 5 && s.substr(s.size() - 5) == ".json") {
    const std::string path = fs::path(s).is_absolute() || base_dir.empty() ? s : (fs::path(base_dir) / s).string();
    if (!fs::exists(path))
      throw ConfigError(file + ": " + field + ": expected an existing compute settings file, got \"" + s + "\"");
    return from_object(arcsim::json::load_file(path), path, "", true);
  }
  throw ConfigError(file + ": " + field + ": expected \"trace\", \"model:GPU\" (e.g. model:H100-SXM), a compute "
                    "settings file (.json) or an object with \"model\", got \"" + s + "\"");
}

}  // namespace arcsim::experiments
