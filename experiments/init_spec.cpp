#include "init_spec.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "experiments/convergence.hpp"
#include "experiments/spec.hpp"
#include "kernels/compressor_registry.hpp"

namespace arcsim::experiments {

using nlohmann::json;

namespace {

// The spec's compressor entry for a log: every option of the option table the compressor takes
// and the log states (under the option's name or an alias such as the binding's "unbiased"),
// except those that do not apply with the log's error feedback (EF21M's momentum under EF14).
json entry_of(const traces::ConvergenceLog& log) {
  const json& c = log.compressor;
  const std::string name = c.contains("compressor") ? c["compressor"].get<std::string>() : c.value("name", "");
  json e = {{"name", name}, {"label", log.config}, {"convergence", log.config}};
  const auto& known = known_compressors();
  if (name == "dense" || std::find(known.begin(), known.end(), name) == known.end()) return e;
  const kernels::CompressorEntry& entry = kernels::compressor_entry(name);
  const std::string ef = c.value("ef", "none");
  for (const auto& o : kernels::option_table()) {
    if (!entry.takes(o.name)) continue;
    const json v = stated_option(c, o);
    if (v.is_null()) continue;
    if (!o.only_with_ef.empty() && std::find(o.only_with_ef.begin(), o.only_with_ef.end(), ef) == o.only_with_ef.end())
      continue;
    e[o.name] = v;
  }
  return e;
}

}  // namespace

json spec_from_trace(const traces::Trace& trace, const std::string& trace_path, const InitOptions& options,
                     std::vector<std::string>* skipped) {
  if (trace.convergence.empty())
    throw std::invalid_argument(trace.dir + "/trace.json: convergence: expected convergence logs to match (a "
                                "layout-only trace has none; write the spec by hand)");
  const auto& known = known_compressors();
  json comps = json::array();
  std::set<std::string> seen;
  std::map<std::string, std::set<int>> worlds_of;  // per configuration, the N it was recorded at
  bool dense_first = false;
  for (const auto& log : trace.convergence) {
    worlds_of[log.config].insert(log.world);
    if (!seen.insert(log.config).second) continue;
    json e = entry_of(log);
    const std::string name = e["name"].get<std::string>();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      if (skipped) skipped->push_back(log.config + " (compressor " + name + " is not simulated by sweep)");
      continue;
    }
    if (name == "dense" && !dense_first) {  // the baseline goes first
      comps.insert(comps.begin(), e);
      dense_first = true;
    } else {
      comps.push_back(e);
    }
  }
  // The default node counts: those at which every configuration has its own logs, so no TTA is
  // interpolated across N (the union when they share none).
  std::set<int> worlds, all;
  for (const auto& [config, ws] : worlds_of) all.insert(ws.begin(), ws.end());
  for (int n : all)
    if (std::all_of(worlds_of.begin(), worlds_of.end(), [&](const auto& c) { return c.second.count(n) > 0; }))
      worlds.insert(n);
  if (worlds.empty()) worlds = all;
  if (comps.empty()) throw std::invalid_argument(trace.dir + "/trace.json: convergence: no log of a compressor sweep knows");
  json spec = {{"name", trace.name.empty() ? "init" : trace.name},
               {"description", "written by arcsim init from " + trace_path + ": one compressor per convergence config"},
               {"trace", trace_path},
               {"compressors", comps},
               {"nodes", options.nodes.empty() ? json(std::vector<int>(worlds.begin(), worlds.end())) : json(options.nodes)},
               {"bandwidths", options.bandwidths.empty() ? json({"1Gbps", "10Gbps", "100Gbps"}) : json(options.bandwidths)},
               {"compute", options.compute}};
  if (!options.topologies.empty()) spec["topologies"] = options.topologies;
  // One GPU choice times both the layers and the compression kernels.
  if (options.compute.rfind("model:", 0) == 0) spec["kernel_timing"] = options.compute;
  const Target t = log_target(trace.convergence.front());
  if (t.metric != "accuracy" || t.value > 0)
    spec["target"] = {{"metric", t.metric}, {"value", t.value}, {"mode", t.maximize() ? "max" : "min"}};
  return spec;
}

}  // namespace arcsim::experiments
