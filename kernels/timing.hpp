#pragma once
// Kernel durations for the simulator when no GPU is present.
// A plan kernel (docs/contracts.md section 1: name, elements, bytes_moved) is re-timed from one of
//   calibration:<file>  a calibration file measured on a GPU by `arcsim calibrate`
//                       (format arcsim-calibration/1, below): per kernel a table
//                       bytes_moved -> median seconds, interpolated log-log between points and
//                       extrapolated affinely (launch overhead + bytes / bandwidth) beyond the ends;
//   model:<gpu>         a bytes/bandwidth + launch-overhead model of a named GPU (A100, H100-SXM,
//                       H100-PCIe, H200, RTX4090); every constant and its source is in docs/gpu.md.
// source() is the string every output must carry ("calibration:<file>" / "model:H100-SXM"; a
// calibration file written by `arcsim calibrate --model` says "calibration:<file> (modelled ...)").
//
// Calibration file (JSON):
//   {"format": "arcsim-calibration/1", "measured": true, "device": "NVIDIA H100 80GB HBM3",
//    "driver": "12.4", "cuda_runtime": "13.0", "arcsim_commit": "...", "method": "...",
//    "copy_bandwidth_Bps": 3.0e12,
//    "kernels": {"topk_select": [{"elements": 1048576, "bytes_moved": 4202496,
//                                  "median_s": 2.1e-5, "p10_s": 2.0e-5, "p90_s": 2.3e-5, "runs": 20},
//                                 ...],   // strictly increasing bytes_moved
//                ...}}
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/communicator.hpp"  // KernelRecord

namespace arcsim::kernels {

// The kernel-timing source every command uses when none is given (replay, sweep specs): the model
// of the GPU the paper's measurements come from. `measured-cpu` (CPU reference kernels timed on
// this machine) and calibration files are asked for by name.
inline constexpr const char* kDefaultKernelTiming = "model:H100-SXM";

// One measured point of a kernel: median and spread (10th / 90th percentile) over `runs` runs.
struct CalibrationPoint {
  std::int64_t elements = 0;
  double bytes_moved = 0.0;
  double median_s = 0.0, p10_s = 0.0, p90_s = 0.0;
  int runs = 0;
};

struct CalibrationFile {
  bool measured = true;          // false: written from a model by `arcsim calibrate --model`
  std::string device, driver, cuda_runtime, arcsim_commit, method;
  double copy_bandwidth_Bps = 0.0;
  std::map<std::string, std::vector<CalibrationPoint>> kernels;  // points sorted by bytes_moved

  // Throws std::runtime_error "<path>: <field>: expected ..., got ..." on the first bad field.
  static CalibrationFile load(const std::string& path);
  static CalibrationFile parse(const std::string& json_text, const std::string& path_for_errors);
  std::string to_json() const;  // pretty-printed, ends with a newline
};

// The kernel names of recorded plans, each a kernel this backend implements (docs/gpu.md).
const std::vector<std::string>& plan_kernel_names();

class KernelTimeModel {
 public:
  // "model:<gpu>" or "calibration:<path>"; throws std::invalid_argument naming the spec.
  static KernelTimeModel from_spec(const std::string& spec);
  static KernelTimeModel model(const std::string& gpu);
  static KernelTimeModel calibration(const std::string& path);
  static KernelTimeModel calibration(CalibrationFile file, const std::string& path);
  static const std::vector<std::string>& known_gpus();

  // Seconds of one call of `kernel` on one worker. Throws std::invalid_argument for a kernel the
  // source has no entry for (a calibration file lacking it names the file and the kernel).
  double seconds(const std::string& kernel, std::int64_t elements, double bytes_moved) const;
  // A recorded plan kernel (its name, elements and bytes_moved).
  double seconds(const KernelRecord& k) const {
    return seconds(k.name, static_cast<std::int64_t>(k.elements), static_cast<double>(k.bytes_moved));
  }
  const std::string& source() const { return source_; }

  // The model's parameters (for `arcsim calibrate --model` and the docs); zero for calibrations.
  double hbm_bandwidth_Bps() const { return bandwidth_; }
  double launch_overhead_s() const { return launch_s_; }

 private:
  KernelTimeModel() = default;
  std::string source_;
  bool is_model_ = false;
  double bandwidth_ = 0.0, launch_s_ = 0.0;   // model
  CalibrationFile cal_;                        // calibration
  std::string cal_path_;
};

// Log-log interpolation of a sorted table (exact at the points), affine extrapolation through the
// two outermost points at each end (a single point scales proportionally above, stays flat
// below). Exposed for tests.
double interpolate_seconds(const std::vector<CalibrationPoint>& points, double bytes_moved);

}  // namespace arcsim::kernels
