#pragma once
// Where a sweep's per-layer compute times come from (the spec's `compute` key):
//   "trace"        the trace's compute profile as recorded (its device is named in the output);
//   "model:<GPU>"  every layer re-timed from the per-layer costs the trace holds (FLOPs, bytes of
//                  memory traffic and kernel launches, forward and backward) on a named GPU:
//                    t = max(launches x launch_floor, flops / (peak x kFlopEfficiency),
//                            bytes / (hbm_bandwidth x kMemoryEfficiency))
//                  i.e. a roofline with a per-kernel launch floor, so a tiny model is not predicted
//                  to run in nanoseconds. The HBM bandwidth and the launch floor are the kernel
//                  timing model's (kernels/timing.hpp, one table for both); the FLOP peaks are
//                  the datasheets' dense tensor-core rates (docs/experiments.md, "compute").
// A trace without costs, or with a layer whose cost is unknown, cannot be re-timed: that is an
// error naming the layer, never a silent zero.
#include <string>
#include <vector>

#include "sim/compute_profile.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

struct ComputeChoice {
  sim::ComputeProfile profile;
  std::string source;  // results column compute_source
};

// Throws std::invalid_argument (one line, naming the layer or the GPU) when it cannot.
ComputeChoice choose_compute(const std::string& compute, const traces::Trace& trace);

// A one-line warning when compute `compute` is the trace's as recorded on a CPU while a network
// profile in `profiles` is a GPU cluster's (nccl): a CPU's compute, often far slower than the GPU's,
// then hides the communication the compressors save. Empty when there is nothing to say.
std::string cpu_compute_warning(const std::string& compute, const traces::Trace& trace,
                                const std::vector<std::string>& profiles);

// The model's constants for one GPU and training dtype (for docs, tests and the source string).
struct GpuCompute {
  std::string gpu;
  double peak_flops = 0;      // dense tensor-core FLOP/s for the dtype (float32: TF32)
  double hbm_Bps = 0;         // nominal memory bandwidth
  double launch_s = 0;        // per-kernel floor
};
GpuCompute gpu_compute(const std::string& gpu, const std::string& dtype);

// Seconds of one layer pass with `flops`, `bytes` and `launches` on that GPU.
double roofline_seconds(const GpuCompute& g, double flops, double bytes, double launches);

}  // namespace arcsim::experiments
