#include "common/compute_profile.hpp"

#include <cmath>
#include <map>

#include "common/json_fields.hpp"

namespace arcsim::compute {

using arcsim::json::ConfigError;
using arcsim::json::Fields;
using nlohmann::json;

double ComputeProfile::backward_s() const {
  double s = 0;
  for (const auto& l : layers) s += l.backward_s;
  return s;
}

namespace {

double seconds(Fields& f, const std::string& key) {
  const double v = f.number(key);
  if (v < 0) f.fail(key, "a non-negative number of seconds");
  return v;
}

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

LayerCost parse_cost(const json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  LayerCost c;
  c.unknown = f.string_or("unknown", "");
  if (!c.unknown.empty()) {
    f.finish();  // an uncounted layer carries its reason and no numbers
    return c;
  }
  auto count = [&](const char* key) {
    const double v = f.number(key);
    if (!(v >= 0) || !std::isfinite(v)) f.fail(key, "a finite, non-negative count");
    return v;
  };
  c.flops_forward = count("flops_forward");
  c.flops_backward = count("flops_backward");
  c.bytes_forward = count("bytes_forward");
  c.bytes_backward = count("bytes_backward");
  c.launches_forward = f.integer("launches_forward");
  c.launches_backward = f.integer("launches_backward");
  if (c.launches_forward < 0) f.fail("launches_forward", "a non-negative number of kernel launches");
  if (c.launches_backward < 0) f.fail("launches_backward", "a non-negative number of kernel launches");
  f.finish();
  return c;
}

}  // namespace

ComputeProfile parse_compute_profile(const json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  if (f.string("format") != kComputeFormat) f.fail("format", std::string("\"") + kComputeFormat + "\"");
  ComputeProfile c;
  c.device = f.string("device");
  c.forward_s = seconds(f, "forward_s");
  c.optimizer_s = seconds(f, "optimizer_s");
  if (f.has("fixed_s")) c.fixed_s = seconds(f, "fixed_s");
  f.optional("fixed_s");
  const json& layers = f.required("layers");
  if (!layers.is_array() || layers.empty()) f.fail("layers", "a non-empty list of layers");
  std::map<std::string, std::string> owner;  // parameter -> layer
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string at = join(path, "layers[" + std::to_string(i) + "]");
    Fields lf(layers[i], file, at);
    LayerTime t;
    t.name = lf.string("name");
    const json& params = lf.required("params");
    if (!params.is_array()) lf.fail("params", "a list of strings");
    for (const auto& p : params) {
      if (!p.is_string()) lf.fail("params", "a list of strings");
      t.params.push_back(p.get<std::string>());
    }
    t.forward_s = seconds(lf, "forward_s");
    t.backward_s = seconds(lf, "backward_s");
    if (const json* k = lf.optional("cost"); k && !k->is_null()) t.cost = parse_cost(*k, file, at + ".cost");
    lf.finish();
    for (const auto& p : t.params)
      if (!owner.emplace(p, t.name).second)
        throw ConfigError(file + ": " + at + ".params: each parameter in one layer, \"" + p +
                          "\" is also in layer \"" + owner[p] + "\"");
    c.layers.push_back(std::move(t));
  }
  f.finish();
  return c;
}

ComputeProfile load_compute_profile(const std::string& path) {
  return parse_compute_profile(arcsim::json::load_file(path), path);
}

json to_json(const LayerCost& c) {
  if (!c.unknown.empty()) return {{"unknown", c.unknown}};
  return {{"flops_forward", c.flops_forward},       {"flops_backward", c.flops_backward},
          {"bytes_forward", c.bytes_forward},       {"bytes_backward", c.bytes_backward},
          {"launches_forward", c.launches_forward}, {"launches_backward", c.launches_backward}};
}

json to_json(const ComputeProfile& p) {
  json layers = json::array();
  for (const auto& l : p.layers) {
    json lj = {{"name", l.name}, {"params", l.params}, {"forward_s", l.forward_s}, {"backward_s", l.backward_s}};
    if (l.cost) lj["cost"] = to_json(*l.cost);
    layers.push_back(std::move(lj));
  }
  json j = {{"format", kComputeFormat}, {"device", p.device}, {"forward_s", p.forward_s},
            {"optimizer_s", p.optimizer_s}, {"layers", layers}};
  if (p.fixed_s > 0) j["fixed_s"] = p.fixed_s;
  return j;
}

}  // namespace arcsim::compute
