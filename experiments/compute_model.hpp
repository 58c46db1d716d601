#pragma once
// Where a sweep's per-layer compute times come from (the spec's `compute`, compute_settings.hpp):
//   "trace"        the trace's compute profile as recorded (its device is named in the output);
//   a GPU model    every layer re-timed from the per-layer costs the trace holds (FLOPs, bytes of
//                  memory traffic and kernel launches, forward and backward) on a named GPU:
//                    t = max(launches x kernel_floor, flops / (peak[precision] x mfu),
//                            bytes / (hbm_bandwidth x kMemoryEfficiency))
//                  i.e. a roofline with a per-kernel launch floor, so a tiny model is not predicted
//                  to run in nanoseconds; the optimizer from its row of the optimizer table; plus
//                  the settings' fixed host cost per iteration. The HBM bandwidth and the default
//                  launch floor are the kernel timing model's (kernels/timing.hpp, one table for
//                  both); the FLOP peaks are the datasheets' (docs/experiments.md, "compute").
// A trace without costs, or with a layer whose cost is unknown, cannot be re-timed: that is an
// error naming the layer, never a silent zero.
#include <span>
#include <string>
#include <vector>

#include "experiments/compute_settings.hpp"
#include "sim/compute_profile.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

// Achieved fraction of the matmul peak when the settings give no `mfu`: the layout traces' model
// FLOPs utilization.
inline constexpr double kFlopEfficiency = 0.40;

struct ComputeChoice {
  sim::ComputeProfile profile;
  std::string source;  // results column compute_source
};

// Throws std::invalid_argument (one line, naming the layer, the GPU or the optimizer) when it cannot.
ComputeChoice choose_compute(const ComputeSettings& compute, const traces::Trace& trace);

// A one-line warning when compute is the trace's as recorded on a CPU while a network profile in
// `profiles` is a GPU cluster's (nccl): a CPU's compute, often far slower than the GPU's, then
// hides the communication the compressors save. Empty when there is nothing to say.
std::string cpu_compute_warning(const ComputeSettings& compute, const traces::Trace& trace,
                                const std::vector<std::string>& profiles);

// The model's constants for one GPU, precision and settings (for docs, tests and the source string).
struct GpuCompute {
  std::string gpu;
  std::string precision;      // fp32 | tf32 | bf16 | fp16
  double peak_flops = 0;      // dense FLOP/s at that precision (tensor cores where it has them)
  double mfu = kFlopEfficiency;
  double hbm_Bps = 0;         // nominal memory bandwidth
  double launch_s = 0;        // per-kernel floor
};
// `precision` "" takes it from the trace's dtype (float32: tf32, PyTorch's cuDNN default for
// convolutions; float16/bfloat16: fp16/bf16). Throws for an unknown GPU.
GpuCompute gpu_compute(const std::string& gpu, const std::string& dtype, const ComputeSettings& settings = {});

// Seconds of one layer pass with `flops`, `bytes` and `launches` on that GPU.
double roofline_seconds(const GpuCompute& g, double flops, double bytes, double launches);

// One optimizer's per-step work, per parameter element and per parameter tensor (fp32 states).
// A new optimizer is one row: its FLOPs and bytes per element and its kernels per tensor.
struct OptimizerRow {
  const char* name;
  double flops_per_element;
  double bytes_per_element;   // read + written
  int launches_per_tensor;    // PyTorch's per-tensor (for-loop) implementation
  const char* source;
};
std::span<const OptimizerRow> optimizers();
const OptimizerRow& optimizer_row(const std::string& name);  // throws naming the known ones

}  // namespace arcsim::experiments
