#include "compute_model.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/format.hpp"
#include "kernels/timing.hpp"

namespace arcsim::experiments {

namespace {

// Dense (non-sparse) peaks from the vendors' datasheets, FLOP/s: FP32 on CUDA cores, TF32 and
// FP16/BF16 (FP32 accumulate) on tensor cores. A part without TF32 (V100) runs tf32 at its FP32 rate.
struct FlopPeak {
  const char* gpu;
  double fp32, tf32, half;
};
constexpr FlopPeak kPeaks[] = {
    {"V100", 15.7e12, 15.7e12, 125e12},          // V100 SXM2 datasheet: 15.7 FP32, 125 tensor FP16
    {"A100", 19.5e12, 156e12, 312e12},           // A100 SXM4 datasheet: 19.5 FP32, 156 TF32, 312 FP16 dense
    {"A100-40GB", 19.5e12, 156e12, 312e12},      // same tensor cores as the 80 GB part
    {"H100-SXM", 66.9e12, 494.7e12, 989.4e12},   // H100 SXM5 datasheet: 67 FP32; 989 / 1979 with sparsity, halved
    {"H100-PCIe", 51.2e12, 378e12, 756e12},      // H100 PCIe datasheet: 51 FP32; 756 / 1513 with sparsity, halved
    {"H200", 66.9e12, 494.7e12, 989.4e12},       // H200 SXM datasheet: same cores as H100 SXM
    {"RTX4090", 82.6e12, 82.6e12, 165.2e12},     // Ada whitepaper: 82.6 FP32 and TF32, 165.2 FP16 (FP32 accumulate), dense
};
// Achieved fraction of the memory bandwidth: the kernel timing model's device copy (kernels/timing.cpp).
constexpr double kMemoryEfficiency = 0.90;
// The loss after the last layer (log-softmax + NLL).
constexpr int kLossLaunches = 2;

constexpr OptimizerRow kOptimizers[] = {
    {"sgd", 4, 20, 3,
     "SGD with momentum: buf = m buf + g (mul_, add_), p -= lr buf (add_); reads p, g, buf, writes p, buf"},
    {"adam", 12, 28, 6,
     "Adam: m, v updates, bias corrections, sqrt, addcdiv (torch.optim.Adam's per-tensor loop); reads p, g, m, v, "
     "writes p, m, v"},
    {"adamw", 14, 36, 7,
     "AdamW: Adam plus the decoupled weight decay p *= 1 - lr wd (one more read and write of p)"},
};

std::string precision_of(const std::string& dtype) {
  if (dtype == "float16") return "fp16";
  if (dtype == "bfloat16") return "bf16";
  return "tf32";
}

}  // namespace

std::span<const OptimizerRow> optimizers() { return kOptimizers; }

const OptimizerRow& optimizer_row(const std::string& name) {
  std::string known;
  for (const auto& o : kOptimizers) {
    if (name == o.name) return o;
    known += (known.empty() ? "" : "|") + std::string(o.name);
  }
  throw std::invalid_argument("optimizer: expected " + known + ", got \"" + name + "\"");
}

GpuCompute gpu_compute(const std::string& gpu, const std::string& dtype, const ComputeSettings& settings) {
  const kernels::KernelTimeModel k = kernels::KernelTimeModel::model(gpu);  // throws for an unknown GPU
  for (const auto& p : kPeaks) {
    if (gpu != p.gpu) continue;
    GpuCompute g;
    g.gpu = gpu;
    g.precision = settings.matmul_precision.empty() ? precision_of(dtype) : settings.matmul_precision;
    g.peak_flops = g.precision == "fp32" ? p.fp32 : g.precision == "tf32" ? p.tf32 : p.half;
    if (dtype == "float64") g.peak_flops = p.fp32 / 8;  // no tensor cores for fp64 on most parts: a guess, stated
    g.mfu = settings.mfu.value_or(kFlopEfficiency);
    g.hbm_Bps = k.hbm_bandwidth_Bps();
    g.launch_s = settings.kernel_floor_s.value_or(k.launch_overhead_s());
    return g;
  }
  throw std::invalid_argument("model:" + gpu + ": no FLOP rate for this GPU in the compute model");
}

double roofline_seconds(const GpuCompute& g, double flops, double bytes, double launches) {
  const double roof = std::max(flops / (g.peak_flops * g.mfu), bytes / (g.hbm_Bps * kMemoryEfficiency));
  return std::max(roof, launches * g.launch_s);
}

std::string cpu_compute_warning(const ComputeSettings& compute, const traces::Trace& trace,
                                const std::vector<std::string>& profiles) {
  if (!compute.is_trace() || !trace.compute) return "";
  std::string device = trace.compute->device;
  std::transform(device.begin(), device.end(), device.begin(), [](unsigned char c) { return std::tolower(c); });
  if (device.rfind("cpu", 0) != 0) return "";
  if (std::find(profiles.begin(), profiles.end(), "nccl") == profiles.end()) return "";
  return "compute \"trace\" times every layer as recorded on the CPU (" + trace.compute->device +
         ") while profile nccl models a GPU cluster's network: iteration times and speedups mix a CPU's compute "
         "with a GPU cluster's communication; for a GPU cluster give \"compute\": \"model:GPU\" (e.g. "
         "model:H100-SXM)";
}

ComputeChoice choose_compute(const ComputeSettings& compute, const traces::Trace& trace) {
  if (!trace.compute) throw std::invalid_argument("the trace has no compute profile");
  const traces::ComputeProfile& c = *trace.compute;
  ComputeChoice out;
  if (compute.is_trace()) {
    out.profile = c;  // one type: the trace's profile is what the simulator runs
    out.profile.fixed_s = compute.fixed_step_s;
    out.source = compute.label() + " (" + c.device + ")";
    return out;
  }
  const std::string label = "model:" + compute.model;
  std::string dtype = "float32";
  if (!trace.layout.parameters.empty()) dtype = trace.layout.parameters.front().dtype;
  const GpuCompute g = gpu_compute(compute.model, dtype, compute);
  const OptimizerRow& opt = optimizer_row(compute.optimizer.empty() ? "adam" : compute.optimizer);
  double forward = 0;
  for (const auto& l : c.layers) {
    if (!l.cost)
      throw std::invalid_argument(label + ": layer \"" + l.name +
                                  "\" has no cost (FLOPs, bytes, launches) in the trace; re-record it or use "
                                  "compute \"trace\"");
    if (!l.cost->unknown.empty())
      throw std::invalid_argument(label + ": layer \"" + l.name + "\" has an unknown cost (" + l.cost->unknown +
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
  // The optimizer's element-wise kernels are memory-bound: their FLOPs run on CUDA cores (fp32).
  ComputeSettings cuda_cores;
  cuda_cores.matmul_precision = "fp32";
  GpuCompute elementwise = g;
  elementwise.peak_flops = gpu_compute(compute.model, "float32", cuda_cores).peak_flops;
  elementwise.mfu = 1;
  out.profile.optimizer_s =
      roofline_seconds(elementwise, opt.flops_per_element * elements, opt.bytes_per_element * elements,
                       static_cast<double>(opt.launches_per_tensor * trace.layout.parameters.size()));
  out.profile.fixed_s = compute.fixed_step_s;
  out.profile.device = "model: " + compute.model + " roofline from per-layer costs";
  out.source = compute.label() + " (roofline: " + io::format_number(g.mfu * 100) + " % of " +
               io::format_number(g.peak_flops / 1e12) + " TFLOPS " + g.precision + ", " +
               io::format_number(kMemoryEfficiency * 100) + " % of " + io::format_number(g.hbm_Bps / 1e12) +
               " TB/s, launch floor " + io::format_number(g.launch_s * 1e6) + " us per kernel, optimizer " + opt.name +
               (compute.fixed_step_s > 0 ? ", fixed " + io::format_number(compute.fixed_step_s) + " s per step" : "") +
               ")";
  return out;
}

}  // namespace arcsim::experiments
