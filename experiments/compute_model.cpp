#include "compute_model.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/format.hpp"
#include "kernels/timing.hpp"

namespace arcsim::experiments {

namespace {

// Dense (non-sparse) tensor-core peaks from the vendors' datasheets, FLOP/s. float32 training is
// taken to run on TF32 tensor cores (PyTorch's cuDNN default for convolutions).
struct FlopPeak {
  const char* gpu;
  double tf32, half;  // TF32; FP16/BF16 with FP32 accumulate
};
constexpr FlopPeak kPeaks[] = {
    {"A100", 156e12, 312e12},        // A100 SXM4 datasheet: 156 / 312 TFLOPS dense
    {"H100-SXM", 494.7e12, 989.4e12},  // H100 SXM5 datasheet: 989 / 1979 with sparsity, halved
    {"H100-PCIe", 378e12, 756e12},   // H100 PCIe datasheet: 756 / 1513 with sparsity, halved
    {"H200", 494.7e12, 989.4e12},    // H200 SXM datasheet: same tensor cores as H100 SXM
    {"RTX4090", 82.6e12, 165.2e12},  // Ada whitepaper: 82.6 TF32, 165.2 FP16 (FP32 accumulate), dense
};
// Achieved fractions: FLOPs as the layout traces' model FLOPs utilization; memory as the kernel
// timing model's device copy (kernels/timing.cpp).
constexpr double kFlopEfficiency = 0.40;
constexpr double kMemoryEfficiency = 0.90;
// The loss after the last layer (log-softmax + NLL) and Adam's per-tensor update kernels.
constexpr int kLossLaunches = 2;
constexpr int kOptimizerLaunchesPerTensor = 6;
constexpr double kOptimizerBytesPerElement = 28;  // read p, g, m, v; write p, m, v (fp32)

}  // namespace

GpuCompute gpu_compute(const std::string& gpu, const std::string& dtype) {
  const kernels::KernelTimeModel k = kernels::KernelTimeModel::model(gpu);  // throws for an unknown GPU
  for (const auto& p : kPeaks) {
    if (gpu != p.gpu) continue;
    GpuCompute g;
    g.gpu = gpu;
    g.peak_flops = dtype == "float16" || dtype == "bfloat16" ? p.half : p.tf32;
    if (dtype == "float64") g.peak_flops = p.tf32 / 8;  // no tensor cores for fp64 on most parts: a guess, stated
    g.hbm_Bps = k.hbm_bandwidth_Bps();
    g.launch_s = k.launch_overhead_s();
    return g;
  }
  throw std::invalid_argument("model:" + gpu + ": no FLOP rate for this GPU in the compute model");
}

double roofline_seconds(const GpuCompute& g, double flops, double bytes, double launches) {
  const double roof = std::max(flops / (g.peak_flops * kFlopEfficiency), bytes / (g.hbm_Bps * kMemoryEfficiency));
  return std::max(roof, launches * g.launch_s);
}

std::string cpu_compute_warning(const std::string& compute, const traces::Trace& trace,
                                const std::vector<std::string>& profiles) {
  if (compute != "trace" || !trace.compute) return "";
  std::string device = trace.compute->device;
  std::transform(device.begin(), device.end(), device.begin(), [](unsigned char c) { return std::tolower(c); });
  if (device.rfind("cpu", 0) != 0) return "";
  if (std::find(profiles.begin(), profiles.end(), "nccl") == profiles.end()) return "";
  return "compute \"trace\" times every layer as recorded on the CPU (" + trace.compute->device +
         ") while profile nccl models a GPU cluster's network: iteration times and speedups mix a CPU's compute "
         "with a GPU cluster's communication; for a GPU cluster give \"compute\": \"model:GPU\" (e.g. "
         "model:H100-SXM)";
}

ComputeChoice choose_compute(const std::string& compute, const traces::Trace& trace) {
  if (!trace.compute) throw std::invalid_argument("the trace has no compute profile");
  const traces::ComputeProfile& c = *trace.compute;
  ComputeChoice out;
  if (compute == "trace") {
    out.profile = c;  // one type: the trace's profile is what the simulator runs
    out.source = "trace (" + c.device + ")";
    return out;
  }
  if (compute.rfind("model:", 0) != 0 || compute.size() <= 6)
    throw std::invalid_argument("expected \"trace\" or \"model:GPU\", got \"" + compute + "\"");
  const std::string gpu = compute.substr(6);
  std::string dtype = "float32";
  if (!trace.layout.parameters.empty()) dtype = trace.layout.parameters.front().dtype;
  const GpuCompute g = gpu_compute(gpu, dtype);
  double forward = 0;
  for (const auto& l : c.layers) {
    if (!l.cost)
      throw std::invalid_argument(compute + ": layer \"" + l.name +
                                  "\" has no cost (FLOPs, bytes, launches) in the trace; re-record it or use "
                                  "compute \"trace\"");
    if (!l.cost->unknown.empty())
      throw std::invalid_argument(compute + ": layer \"" + l.name + "\" has an unknown cost (" + l.cost->unknown +
                                  "), so it cannot be re-timed; use compute \"trace\"");
    const traces::LayerCost& k = *l.cost;
    sim::LayerProfile p{l.name, l.params,
                        roofline_seconds(g, k.flops_forward, k.bytes_forward, static_cast<double>(k.launches_forward)),
                        roofline_seconds(g, k.flops_backward, k.bytes_backward, static_cast<double>(k.launches_backward)),
                        l.cost};
    forward += p.forward_s;
    out.profile.layers.push_back(p);
  }
  out.profile.forward_s = forward + kLossLaunches * g.launch_s;
  double elements = 0;
  for (const auto& p : trace.layout.parameters) elements += static_cast<double>(p.numel());
  out.profile.optimizer_s =
      roofline_seconds(g, 0, kOptimizerBytesPerElement * elements,
                       static_cast<double>(kOptimizerLaunchesPerTensor * trace.layout.parameters.size()));
  out.profile.device = "model: " + gpu + " roofline from per-layer costs";
  out.source = compute + " (roofline: " + io::format_number(kFlopEfficiency * 100) + " % of " +
               io::format_number(g.peak_flops / 1e12) + " TFLOPS, " + io::format_number(kMemoryEfficiency * 100) +
               " % of " + io::format_number(g.hbm_Bps / 1e12) + " TB/s, launch floor " +
               io::format_number(g.launch_s * 1e6) + " us per kernel)";
  return out;
}

}  // namespace arcsim::experiments
