#pragma once
// The experiment spec: one JSON file that names a trace, the compressor configurations and the
// network lists; the sweep is the product of the lists. Every key, its unit and its default are
// documented in docs/experiments.md. Parsing is strict (common/json_fields.hpp): an unknown
// key, a wrong type or a missing unit is one ConfigError "<file>: <field>: expected ..., got ...".
//
//   ExperimentSpec s = parse_spec_file("experiments/default.json");
//   for (const Point& p : expand_points(s)) ...
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/compute_settings.hpp"
#include "kernels/compressor_config.hpp"
#include "kernels/timing.hpp"

namespace arcsim::experiments {

// One compressor configuration of the sweep. Options that do not apply to the compressor are
// refused at parse time (a `rank` on Top-K is a typo, not a no-op).
struct CompressorConfig {
  std::string label;              // unique in the experiment; default "<name>" or "<name>-<ratio>"
  std::string name;               // dense | topk | randk | arctopk
  double ratio = 1.0;             // fraction kept (ARC-Top-K: of rows); dense: 1
  int rank = 4;                   // ARC-Top-K sketch columns r
  std::string ef = "none";        // none | ef14 | ef21 | ef21m
  std::int64_t warmup = 0;        // dense steps before compression starts
  // Top-K/Rand-K gradual compression as the reference hooks and the kernels do it
  // (kernels::ramp_ratio: the one schedule).
  bool ramp = false;
  std::string shape_rule = "rows";          // ARC: how tensors become matrices (kernels' rule names)
  std::string sketch_allreduce = "tensor";  // ARC: one sketch all-reduce per tensor | per bucket
  std::string row_scores = "sketch";        // ARC: sketch | exact (the paper's ablation)
  bool rescale = false;           // Rand-K: unbiased d/k rescale
  std::string convergence;        // trace convergence config id to use; empty = match by options; "none": no TTA
  // What is costed: "fused" (arcsim's kernels, one launch per bucket per kernel) or "hook" (a PyTorch
  // comm hook's per-tensor ops and collectives, recorded by running `hook`, experiments/hook_plans.hpp).
  std::string implementation = "fused";
  std::string hook;               // implementation hook: FILE.py:FUNCTION | MODULE:FUNCTION | torch:NAME
  nlohmann::json hook_config;     // its make_state arguments (null: the shipped hooks' from this configuration)
  // The whole configuration as the kernels take it (kernels/compressor_config.hpp), parsed through
  // the registry's option table; the typed fields above are its classic options, copied out.
  kernels::CompressorConfig options;
  // Options beyond the classic ones that were given or differ from their defaults (preset,
  // ef21_init, momentum, value_dtype, a method's own options): written with the others.
  nlohmann::json extra = nlohmann::json::object();

  // Steps of the ramp (kernels::ramp_steps of options): warmup + 100 when it is on, else 0.
  std::int64_t effective_ramp_steps() const;
  // Canonical JSON of every option (for provenance, result rows and cache keys).
  nlohmann::json to_json() const;
};

// The `convergence` value that asks for iteration times only: no log stands for the configuration.
inline constexpr const char* kNoConvergence = "none";

// A topology is a preset name ("star") or an inline spec object; `name` labels result rows.
struct TopologyChoice {
  std::string name;
  nlohmann::json spec;  // a string (preset name or path) or an object (inline topology spec)
};

// What "reaching the target" means in the trace's convergence logs.
// Any metric the convergence logs hold ("accuracy", "loss", or an extra one such as
// "perplexity"), with its direction: reached when metric >= value (mode "max") or <= value ("min").
struct Target {
  std::string metric = "accuracy";
  double value = 0;
  std::string mode;                 // max | min; empty: max for accuracy, min for any other metric
  bool maximize() const { return mode.empty() ? metric == "accuracy" : mode == "max"; }
  bool reached_by(double v) const { return maximize() ? v >= value : v <= value; }
};

struct ReplayOptions {
  int workers = 8;       // emulated workers in the kernel replay (plans are per rank)
  int samples = 1;       // gradient samples replayed for the steady state (data-dependent sizes)
  int ramp_shapes = 4;   // ratio levels at which a ramp is simulated
};

struct ExperimentSpec {
  std::string file;                  // the spec file, as given (for messages)
  std::string name;                  // default: the file's stem
  std::string description;
  std::string trace;                 // resolved path: relative paths are relative to the spec file
  std::vector<CompressorConfig> compressors;
  std::vector<int> nodes;
  std::vector<double> bandwidths_Bps;
  std::vector<double> latencies_s;
  std::vector<TopologyChoice> topologies;
  std::vector<std::string> profiles;  // ideal | nccl | tcp | gloo
  std::string algorithm = "auto";     // collective algorithm (sim's names)
  int nccl_channels = 0;              // nccl.channels: NCCL's channel count on every topology (0: each topology's)
  double bucket_cap_bytes = 25.0 * 1024 * 1024;
  double first_bucket_cap_bytes = 1.0 * 1024 * 1024;
  std::string collectives = "plan";   // plan (as each compressor's plan says) | blocking | async
  std::string kernel_timing = kernels::kDefaultKernelTiming;  // measured-cpu | calibration:FILE | model:GPU
  ComputeSettings compute;            // trace (as recorded) | a GPU model and its settings (compute_settings.hpp)
  std::string backend = "auto";                  // where replay runs the kernels: auto | cpu | cuda | reference
  std::optional<Target> target;       // absent: the trace's own target, else no TTA
  double point_timeout_s = 600;
  std::uint64_t seed = 1;
  ReplayOptions replay;

  // Canonical JSON of the whole spec (resolved paths, SI units): the `config` in results.json.
  nlohmann::json to_json() const;
};

// One simulated network configuration (everything but the compressor).
struct NetworkPoint {
  int nodes = 0;
  double bandwidth_Bps = 0;
  double latency_s = 0;
  std::size_t topology = 0;  // index into ExperimentSpec::topologies
  std::string profile;
};

// One row of the results: a compressor configuration on a network point.
struct Point {
  std::size_t index = 0;       // row number in the final files
  std::size_t compressor = 0;  // index into ExperimentSpec::compressors
  NetworkPoint net;
};

ExperimentSpec parse_spec(const nlohmann::json& j, const std::string& file);
ExperimentSpec parse_spec_file(const std::string& path);

// The product of the lists, in a fixed order: topology, profile, latency, bandwidth, nodes
// (outer to inner), then compressors in spec order, so one network's compressors sit together.
std::vector<Point> expand_points(const ExperimentSpec& spec);

// The options a compressor takes (from the kernels' registry: kernels/compressor_registry.hpp);
// the spec and the command line refuse any other.
std::vector<std::string> compressor_options(const std::string& name);

// The compressors the spec accepts: the registry's.
const std::vector<std::string>& known_compressors();

}  // namespace arcsim::experiments
