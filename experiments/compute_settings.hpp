#pragma once
// The spec's `compute` (docs/experiments.md, "compute"): where per-layer compute times come from
// and the settings of the GPU model. Written as
//   "trace" | "model:GPU" | "FILE.json" (an arcsim-compute-settings/1 file, e.g. from
//   `arcsim calibrate --step-time`) | an object:
//   {"model": "H100-SXM",          GPU name (or "trace": the recorded times)
//    "mfu": 0.4,                   achieved fraction of the matmul peak, (0, 1]
//    "kernel_floor_us": 2.5,       seconds per kernel launch floor, in us
//    "matmul_precision": "tf32",   fp32 | tf32 | bf16 | fp16 (default: from the trace's dtype)
//    "optimizer": "adam",          a row of the optimizer table (compute_model.hpp)
//    "fixed_step_s": 0.021}        host cost per iteration: data loading, loss.item(), clipping
// Every key but `model` is optional; the GPU model's keys need a GPU, fixed_step_s applies to both.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace arcsim::experiments {

inline constexpr const char* kComputeSettingsFormat = "arcsim-compute-settings/1";

struct ComputeSettings {
  std::string model = "trace";             // "trace" or a GPU name (A100, H100-SXM, ...)
  std::optional<double> mfu;               // fraction of the matmul peak; default kFlopEfficiency
  std::optional<double> kernel_floor_s;    // default: the kernel timing model's launch floor
  std::string matmul_precision;            // "" = from the trace's dtype
  std::string optimizer;                   // "" = adam (the optimizer the layout traces assume)
  double fixed_step_s = 0;
  nlohmann::json calibrated_from = nullptr;  // set by `arcsim calibrate --step-time`

  bool is_trace() const { return model == "trace"; }
  // Canonical JSON: the string form ("trace", "model:GPU") when only the model is set, else the object.
  nlohmann::json to_json() const;
  // The results' compute_source prefix, e.g. "model:H100-SXM" or "model:A100 {mfu 0.35, fixed_step_s 0.021}".
  std::string label() const;
};

// Reads a spec's (or a file's) compute value. `field` names it in errors ("compute"); a file
// name is resolved against `base_dir`. Throws json::ConfigError "<file>: <field>...: expected ...".
ComputeSettings parse_compute_settings(const nlohmann::json& v, const std::string& file, const std::string& field,
                                       const std::string& base_dir);
// A string value as a flag gives it ("trace", "model:GPU", FILE.json); errors name `flag`.
ComputeSettings compute_settings(const std::string& value, const std::string& flag = "--compute");
// The arcsim-compute-settings/1 file's JSON (format, the object's keys).
nlohmann::json compute_settings_file(const ComputeSettings& s);

}  // namespace arcsim::experiments
