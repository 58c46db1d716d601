#pragma once
// Sweep stage 1, check_inputs: everything the spec names beyond its own fields (the trace and its
// compute profile, the kernel-timing source, every topology at every node count) is read and
// checked before any long work starts. A problem is one ConfigError "<spec>: <field>: ...".
#include <optional>
#include <string>
#include <vector>

#include "experiments/spec.hpp"
#include "kernels/backend.hpp"
#include "kernels/timing.hpp"
#include "sim/compute_profile.hpp"
#include "traces/buckets.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

struct SweepInputs {
  traces::Trace trace;
  std::string trace_checksum;                     // sha256 hex of trace.json
  sim::ComputeProfile compute;                    // the spec's compute source (compute_model.hpp), as the simulator takes it
  std::string compute_source;                     // results column compute_source
  std::vector<traces::Bucket> buckets;            // DDP buckets with the spec's caps
  std::optional<kernels::KernelTimeModel> timer;  // empty: keep the measured CPU durations
  std::string timing_source;                      // the backend's measured source, or the model's
  kernels::Backend* backend = &kernels::cpu_backend();  // where the replay runs the kernels (spec key backend)
  std::vector<std::string> topology_args;         // per spec topology: what sim::NetworkConfig takes
  std::vector<std::string> topology_transports;   // per spec topology: results column transport
};

// Inline topologies are written to out_dir/topologies/<name>.json (only when their bytes change)
// so that the simulations and users can read them as files.
SweepInputs check_inputs(const ExperimentSpec& spec, const std::string& out_dir);

}  // namespace arcsim::experiments
