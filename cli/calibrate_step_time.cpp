// arcsim calibrate --step-time: one measured dense iteration time of the user's own setup fixes one
// constant of the compute model (fixed_step_s by default, or mfu), which then predicts every other
// configuration (compressors, node counts, networks) on that setup. The dense plan is the sweep's
// own (the trace replayed through the dense compressor), simulated on the given network.
#include "calibrate_step_time.hpp"

#include <boost/program_options.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "common/json_fields.hpp"
#include "common/output_guard.hpp"
#include "common/validated_write.hpp"
#include "experiments/compute_model.hpp"
#include "experiments/fork_pool.hpp"
#include "experiments/plan_cache.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"
#include "sim/iteration.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace ex = arcsim::experiments;

namespace arcsim::cli {

namespace {

// Removes the scratch directory of the dense plan however the command ends.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string t = (fs::temp_directory_path() / "arcsim-step-time-XXXXXX").string();
    if (!mkdtemp(t.data())) throw std::runtime_error("cannot create a scratch directory under " + t);
    path = t;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The measured setup's dense iteration (the sweep's own plan: the trace replayed through the dense
// compressor, simulated on the given network), for any compute settings.
struct Setup {
  std::string trace, topology, bandwidth, latency, profile;
  int nodes = 0;
};

class DenseIteration {
 public:
  DenseIteration(const Setup& setup, const ex::ComputeSettings& base) {
    nlohmann::json j = {{"trace", fs::absolute(setup.trace).string()},
                        {"compressors", {{{"name", "dense"}}}},
                        {"nodes", {setup.nodes}},
                        {"topologies", {fs::exists(setup.topology) ? fs::absolute(setup.topology).string() : setup.topology}},
                        {"profiles", {setup.profile}},
                        {"compute", base.to_json()},
                        // the kernels on the same GPU as the layers (else the spec's default)
                        {"kernel_timing", base.is_trace() ? std::string(kernels::kDefaultKernelTiming) : "model:" + base.model},
                        {"replay", {{"workers", 2}, {"samples", 1}}}};
    if (!setup.bandwidth.empty()) j["bandwidths"] = {setup.bandwidth};
    if (!setup.latency.empty()) j["latencies"] = {setup.latency};
    try {
      spec_ = ex::parse_spec(j, scratch_.path + "/spec.json");
    } catch (const std::exception& e) {  // name the flags, not the scratch spec
      std::string m = e.what();
      if (const auto at = m.find("spec.json: "); at != std::string::npos) m = m.substr(at + 11);
      throw std::invalid_argument(m);
    }
    in_ = ex::check_inputs(spec_, scratch_.path);
    ex::PlanCacheOptions cache;
    cache.dir = scratch_.path + "/plans";
    const ex::PlanSet plans = ex::build_plan_cache(spec_, in_, cache);
    plan_ = plans.plans[plans.configs[0].shape_plans.back().front()].plan;
    net_.topology = in_.topology_args[0];
    net_.nodes = setup.nodes;
    net_.bandwidth_Bps = spec_.bandwidths_Bps.front();
    net_.latency_s = spec_.latencies_s.front();
    net_.profile = setup.profile;
  }

  // One simulated dense iteration with these settings (SimGrid: one engine per process, so forked).
  double seconds(const ex::ComputeSettings& settings) const {
    const sim::ComputeProfile compute = ex::choose_compute(settings, in_.trace).profile;
    double total = 0;
    std::string error;
    ex::run_forked({{"dense", [&] { return std::to_string(sim::simulate_iteration(net_, plan_, compute, {}).total_s); }}},
                   {1}, [&](const ex::ForkOutcome& o) {
                     if (o.ok) total = std::stod(o.output);
                     else error = o.error;
                   });
    if (!error.empty()) throw std::runtime_error("dense iteration: " + error);
    return total;
  }

 private:
  ScratchDir scratch_;
  ex::ExperimentSpec spec_;
  ex::SweepInputs in_;
  sim::Plan plan_;
  sim::NetworkConfig net_;
};

const char* kHelp =
    "arcsim calibrate --step-time: fit one compute constant to one measured dense iteration time\n\n"
    "  arcsim calibrate --step-time 0.1469 --trace traces/layouts/llama-60m-b1 \\\n"
    "                   --compute model:A100-40GB --topology host.json --nodes 1 --output a100-host.json\n"
    "  then in a spec: \"compute\": \"a100-host.json\"\n\n"
    "Simulates the dense iteration of the trace (the sweep's own plan: DDP buckets, all-reduces)\n"
    "on the given network with the compute model, and solves for the constant that makes it take\n"
    "the measured time:\n"
    "  --fit fixed_step_s  (default) the host cost per iteration outside the layers (data loading,\n"
    "                      loss.item() synchronisation, clipping): measured - simulated;\n"
    "                      refused when the model alone is already slower than the measurement\n"
    "  --fit mfu           the achieved fraction of the matmul peak, in [0.01, 1]\n"
    "Calibrate on one measurement and judge the model on the others (docs/experiments.md).\n\nOptions";

std::string seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g s", s);
  return b;
}

}  // namespace

int calibrate_step_time(int argc, char** argv) {
  po::options_description opts(kHelp);
  double step_time = 0;
  std::string trace, compute = "model:H100-SXM", topology = "star", bandwidth, latency, profile = "nccl",
              fit = "fixed_step_s", output;
  int nodes = 0;
  opts.add_options()("help,h", "this help")
      ("step-time", po::value(&step_time), "measured seconds of one dense iteration (steady state, slowest rank)")
      ("trace", po::value(&trace), "trace directory of the model that was measured")
      ("compute", po::value(&compute)->default_value(compute),
       "compute to calibrate: model:GPU, a compute settings file, or a JSON object (docs/experiments.md)")
      ("topology", po::value(&topology)->default_value(topology), "network of the measurement: preset, type or file")
      ("nodes", po::value(&nodes), "nodes of the measurement (1: one host of the topology's node.gpus GPUs)")
      ("bandwidth", po::value(&bandwidth), "per-NIC bandwidth (default: the topology's)")
      ("latency", po::value(&latency), "end-to-end latency (default: the topology's)")
      ("profile", po::value(&profile)->default_value(profile), "network profile: ideal|nccl|tcp|gloo")
      ("fit", po::value(&fit)->default_value(fit), "fixed_step_s|mfu")
      ("output,o", po::value(&output), "compute settings file to write (atomically)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (!vm.count("step-time") || !(step_time > 0) || !(step_time < 3600))
    throw std::invalid_argument("--step-time: expected the measured seconds of one dense iteration, in (0, 3600)");
  if (trace.empty()) throw std::invalid_argument("--trace: expected the trace directory of the measured model (required)");
  if (nodes < 1) throw std::invalid_argument("--nodes: expected the measurement's node count, a positive integer (required)");
  if (fit != "fixed_step_s" && fit != "mfu") throw std::invalid_argument("--fit: expected fixed_step_s|mfu, got \"" + fit + "\"");
  if (output.empty()) throw std::invalid_argument("--output: expected the compute settings file to write (required)");
  io::OutputGuard guard("calibrate");
  guard.input_trace("--trace", trace).output("--output", output).check();

  // The compute value as a spec would hold it: a JSON object or a string.
  nlohmann::json compute_value = compute;
  if (!compute.empty() && compute.front() == '{') compute_value = json::parse_text(compute, "--compute");
  const ex::ComputeSettings base = ex::parse_compute_settings(compute_value, "--compute", "value", fs::current_path().string());
  if (fit == "mfu" && base.is_trace())
    throw std::invalid_argument("--fit mfu: expected --compute with a GPU model (model:GPU): recorded times have no MFU");

  const DenseIteration dense({trace, topology, bandwidth, latency, profile, nodes}, base);
  auto simulate = [&](const ex::ComputeSettings& settings) { return dense.seconds(settings); };

  ex::ComputeSettings fitted = base;
  if (fit == "fixed_step_s") fitted.fixed_step_s = 0;  // the fit replaces it
  const double model_s = simulate(fitted);
  if (fit == "fixed_step_s") {
    if (model_s > step_time)
      throw std::invalid_argument("--step-time: the model's dense iteration alone takes " + seconds(model_s) +
                                  ", more than the measured " + seconds(step_time) +
                                  ": no fixed host cost fits; fit the MFU instead (--fit mfu)");
    fitted.fixed_step_s = step_time - model_s;
  } else {
    auto at = [&](double mfu) {
      fitted.mfu = mfu;
      return simulate(fitted);
    };
    const double fastest = at(1.0), slowest = at(0.01);
    if (step_time < fastest || step_time > slowest)
      throw std::invalid_argument("--step-time: " + seconds(step_time) + " is outside what an MFU in [0.01, 1] gives (" +
                                  seconds(fastest) + " .. " + seconds(slowest) +
                                  "): fit fixed_step_s instead, or check the trace and the network");
    double lo = std::log(0.01), hi = 0;  // log mfu; the time falls as the MFU rises
    for (int i = 0; i < 40 && hi - lo > 1e-6; ++i) {
      const double mid = 0.5 * (lo + hi);
      (at(std::exp(mid)) > step_time ? lo : hi) = mid;
    }
    fitted.mfu = std::exp(0.5 * (lo + hi));
  }
  const double check_s = simulate(fitted);
  fitted.calibrated_from = {{"step_time_s", step_time}, {"fitted", fit}, {"trace", trace}, {"topology", topology},
                            {"nodes", nodes}, {"profile", profile}, {"model_before_s", model_s},
                            {"model_after_s", check_s}};
  std::printf("# arcsim calibrate --step-time: dense %s on %s, %d node(s), profile %s\n", trace.c_str(), topology.c_str(),
              nodes, profile.c_str());
  std::printf("measured %.6g s, model before %.6g s, fitted %s = %.6g, model after %.6g s\n", step_time, model_s,
              fit.c_str(), fit == "mfu" ? *fitted.mfu : fitted.fixed_step_s, check_s);
  io::write_validated(
      ex::compute_settings_file(fitted).dump(2) + "\n",
      [&](const std::string& text) { ex::parse_compute_settings(json::parse_text(text, output), output, "", ""); },
      {"--output", output}, {{"--compute", {"model", "mfu", "optimizer", "matmul_precision"}}});
  std::printf("wrote %s\n", output.c_str());
  return 0;
}

}  // namespace arcsim::cli
