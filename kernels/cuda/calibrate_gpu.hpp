#pragma once
// `arcsim calibrate` on a GPU: times the device implementation of every plan kernel
// (kernels::plan_kernel_names) over a grid of sizes and returns a measured calibration file. The
// x axis of every table is bytes_moved exactly as the CPU compressors record it for that kernel
// (one worker), so the simulator can re-time recorded plans by interpolation (kernels/timing.hpp).
#include <functional>
#include <string>

#include "kernels/timing.hpp"

namespace arcsim::cuda {

struct CalibrateOptions {
  int runs = 20;           // samples per point (median, p10, p90 reported)
  int warmup = 3;
  int min_log2 = 14;       // element counts 2^min_log2 .. 2^max_log2, every second power
  int max_log2 = 26;
  double ratio = 0.01;     // selected fraction for the selection / gather / scatter kernels
  int rank = 4;            // ARC sketch rank r
  std::uint32_t cols = 1024;  // row length of the row kernels (rows = elements / cols)
  std::string arcsim_commit;
};

// Throws std::runtime_error when there is no device. `progress` gets one line per measured point.
kernels::CalibrationFile measure_calibration(const CalibrateOptions& o,
                                             const std::function<void(const std::string&)>& progress);

}  // namespace arcsim::cuda
