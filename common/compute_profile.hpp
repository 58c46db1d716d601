#pragma once
// The compute profile (`arcsim-compute/1`, docs/contracts.md section 2): per-layer forward and
// backward seconds of one worker micro-batch on a device, and optionally what each layer costs
// (FLOPs, bytes, launches) so compute can be re-timed for another device. One type, one writer
// (to_json) and one strict reader (parse_compute_profile), shared by the trace format (which
// embeds it as trace.json's "compute") and the simulator (`arcsim simulate --compute FILE`).
// Backward runs the layers in reverse; a parameter's gradient is ready when its layer's backward
// finishes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arcsim::compute {

inline constexpr const char* kComputeFormat = "arcsim-compute/1";

// What one layer costs per worker micro-batch, counted by the recorder (or a layout model): FLOPs,
// bytes of memory traffic and kernel launches (each pays a launch floor on a GPU). A layer the
// counter does not know has `unknown` set to the reason (e.g. "module type Dropout2d") and no
// numbers: it is never silently counted as zero.
struct LayerCost {
  double flops_forward = 0, flops_backward = 0;    // floating-point operations
  double bytes_forward = 0, bytes_backward = 0;    // bytes read + written
  std::int64_t launches_forward = 0, launches_backward = 0;
  std::string unknown;                             // non-empty: not counted, and why
};

struct LayerTime {
  std::string name;
  std::vector<std::string> params;   // parameter names, each in exactly one layer
  double forward_s = 0, backward_s = 0;
  std::optional<LayerCost> cost;     // absent in profiles recorded before costs were counted
};

struct ComputeProfile {
  std::string device;                // "cpu: ... (measured)" or "model: A100-SXM4-80GB roofline ..."
  double forward_s = 0;              // whole forward pass incl. loss (>= sum of layer forwards)
  double optimizer_s = 0;
  std::vector<LayerTime> layers;     // forward order
  // Host cost per iteration outside the layers and the optimizer (data loading, loss.item()
  // synchronisation, clipping), before the forward pass; optional key "fixed_s" (0 when absent).
  double fixed_s = 0;

  double backward_s() const;         // sum of the layers' backward_s
};

// Strict reader: every key required except a layer's `cost` (absent or null: none); durations
// and counts finite and non-negative; a non-empty list of layers; each parameter in one layer.
// `path` prefixes field names in errors ("compute" inside trace.json, "" for a file of its own).
// Throws json::ConfigError "<file>: <path.field>: expected ..., got ...".
ComputeProfile parse_compute_profile(const nlohmann::json& j, const std::string& file_for_errors,
                                     const std::string& path = "");
ComputeProfile load_compute_profile(const std::string& path);

nlohmann::json to_json(const ComputeProfile& p);
nlohmann::json to_json(const LayerCost& c);

}  // namespace arcsim::compute
