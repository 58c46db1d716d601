#pragma once
// The output guard (common/output_guard.hpp) for the commands that run an experiment spec: the
// results directory may be neither the spec, its trace, anything inside the trace, nor a
// calibration file the spec reads.
#include <string>

#include "common/output_guard.hpp"
#include "experiments/spec.hpp"

namespace arcsim::cli {

inline void guard_experiment_outputs(const char* command, const experiments::ExperimentSpec& spec,
                                     const std::string& spec_path, const std::string& out_dir) {
  io::OutputGuard g(command);
  g.input("EXPERIMENT", spec_path).input_trace("trace", spec.trace);
  const std::string cal = "calibration:";
  if (spec.kernel_timing.rfind(cal, 0) == 0) g.input("kernel_timing", spec.kernel_timing.substr(cal.size()));
  g.output_dir("--out", out_dir).check();
}

}  // namespace arcsim::cli
