#pragma once
// Shared by the sweep tests: a small spec on the shipped trace, a scratch directory, and a
// closed-form stand-in for SimGrid (iteration time grows with nodes and plan size; a chosen node
// count throws), so the sweep's machinery runs in seconds.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep.hpp"

namespace sweep_test {

namespace ex = arcsim::experiments;
using nlohmann::json;

inline json small_spec_json() {
  return {{"trace", std::string(ARCSIM_SOURCE_DIR) + "/traces/default"},
          {"compressors", json::array({{{"name", "dense"}},
                                       {{"name", "topk"}, {"ratio", 0.2}, {"ef", "ef14"}, {"ramp", true}, {"warmup", 20},
                                        {"convergence", "topk-0.2-ef14"}},  // the warm-up-free logs stand in
                                       {{"name", "arctopk"}, {"ratio", 0.2}, {"rank", 4}, {"ef", "ef14"}}})},
          {"nodes", json::array({8, 16, 32})},
          {"bandwidths", json::array({"1Gbps", "10Gbps"})},
          {"target", {{"metric", "accuracy"}, {"value", 0.8}}}};
}

// A fresh directory under /tmp, removed by the destructor.
struct Scratch {
  std::string dir;
  explicit Scratch(const std::string& name)
      : dir((std::filesystem::temp_directory_path() / ("arcsim-" + name + "-" + std::to_string(::getpid()))).string()) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
};

inline ex::SimulateFn closed_form(int failing_nodes = -1) {
  return [failing_nodes](const arcsim::sim::NetworkConfig& net, const arcsim::sim::Plan& plan,
                         const arcsim::sim::ComputeProfile&, const arcsim::sim::IterationOptions&) {
    if (net.nodes == failing_nodes) throw std::runtime_error("boom at " + std::to_string(net.nodes) + " nodes");
    std::size_t ops = 0;
    for (const auto& b : plan.buckets) ops += b.ops.size();
    ex::IterationTimes t;
    t.compute_s = 0.008;
    t.comm_s = 1e-4 * net.nodes + 1e-5 * static_cast<double>(ops) + 1e-3 / (net.bandwidth_Bps / 1e9);
    t.exposed_comm_s = t.comm_s / 2;
    t.total_s = t.compute_s + t.exposed_comm_s;
    t.bytes_per_node = 1000.0 * static_cast<double>(ops);
    return t;
  };
}

inline ex::SweepOptions options(const std::string& out, int failing_nodes = -1) {
  ex::SweepOptions o;
  o.out_dir = out;
  o.jobs = 2;
  o.progress = false;
  o.simulate = closed_form(failing_nodes);
  return o;
}

inline std::string slurp(const std::string& path) { return arcsim::io::read_file(path); }

}  // namespace sweep_test
