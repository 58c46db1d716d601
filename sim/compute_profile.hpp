#pragma once
// The compute profile (`arcsim-compute/1`, docs/contracts.md section 2): per-layer forward and
// backward seconds on the modelled device. Backward runs the layers in reverse; a parameter's
// gradient is ready when its layer's backward finishes.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arcsim::sim {

struct LayerProfile {
  std::string name;
  std::vector<std::string> params;
  double forward_s = 0, backward_s = 0;
};

struct ComputeProfile {
  std::string device;
  double forward_s = 0;      // whole forward pass (the layers' forward_s are informative)
  double optimizer_s = 0;
  std::vector<LayerProfile> layers;  // forward order

  double backward_s() const;
};

ComputeProfile parse_compute_profile(const nlohmann::json& j, const std::string& file_for_errors);
ComputeProfile load_compute_profile(const std::string& path);

}  // namespace arcsim::sim
