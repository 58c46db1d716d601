#include "sim/compute_profile.hpp"

#include <set>

#include "common/json_fields.hpp"

namespace arcsim::sim {

using arcsim::json::Fields;

double ComputeProfile::backward_s() const {
  double s = 0;
  for (const auto& l : layers) s += l.backward_s;
  return s;
}

ComputeProfile parse_compute_profile(const nlohmann::json& j, const std::string& file) {
  Fields f(j, file, "");
  if (f.string("format") != "arcsim-compute/1") f.fail("format", "\"arcsim-compute/1\"");
  ComputeProfile p;
  p.device = f.string_or("device", "unknown");
  p.forward_s = f.number("forward_s");
  if (p.forward_s < 0) f.fail("forward_s", "a non-negative duration in seconds");
  p.optimizer_s = f.number_or("optimizer_s", 0);
  if (p.optimizer_s < 0) f.fail("optimizer_s", "a non-negative duration in seconds");
  const auto& layers = f.required("layers");
  if (!layers.is_array() || layers.empty()) f.fail("layers", "a non-empty array of layers");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Fields l(layers[i], file, "layers[" + std::to_string(i) + "]");
    LayerProfile layer;
    layer.name = l.string("name");
    const auto& params = l.required("params");
    if (!params.is_array()) l.fail("params", "an array of parameter names");
    for (const auto& name : params) {
      if (!name.is_string()) l.fail("params", "an array of parameter names");
      if (!seen.insert(name.get<std::string>()).second)
        l.fail("params", "parameter names listed once in the whole profile");
      layer.params.push_back(name.get<std::string>());
    }
    layer.forward_s = l.number_or("forward_s", 0);
    layer.backward_s = l.number("backward_s");
    if (layer.forward_s < 0) l.fail("forward_s", "a non-negative duration in seconds");
    if (layer.backward_s < 0) l.fail("backward_s", "a non-negative duration in seconds");
    // A layer's cost (FLOPs, bytes, launches) re-times compute before the simulator sees it: read
    // as an object, not used here.
    if (const auto* c = l.optional("cost"); c && !c->is_object()) l.fail("cost", "an object (the layer's cost)");
    l.finish();
    p.layers.push_back(std::move(layer));
  }
  f.finish();
  return p;
}

ComputeProfile load_compute_profile(const std::string& path) {
  return parse_compute_profile(arcsim::json::load_file(path), path);
}

}  // namespace arcsim::sim
