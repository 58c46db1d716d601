#include "sweep_output.hpp"

#include "arcsim/version.hpp"
#include "experiments/convergence.hpp"

namespace arcsim::experiments {

using nlohmann::json;

std::optional<Target> effective_target(const ExperimentSpec& spec, const traces::Trace& trace) {
  if (spec.target) return spec.target;
  for (const auto& log : trace.convergence)
    if (const Target t = log_target(log); t.metric != "accuracy" || t.value > 0) return t;
  return std::nullopt;
}

json sweep_provenance(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans) {
  const std::optional<Target> target = effective_target(spec, in.trace);
  return {{"arcsim_version", kVersion},
          {"git_commit", kGitCommit},
          {"spec_file", spec.file},
          {"trace", spec.trace},
          {"trace_name", in.trace.name},
          {"trace_checksum", "sha256:" + in.trace_checksum},
          {"compute_device", in.trace.compute->device},
          {"compute_source", in.compute_source},
          {"network_profiles", spec.profiles},
          {"kernel_timing", in.timing_source},
          {"gradients", json(std::vector<std::string>(plans.gradient_notes.begin(), plans.gradient_notes.end()))},
          {"buckets", in.buckets.size()},
          {"target", target ? json{{"metric", target->metric}, {"value", target->value},
                                   {"mode", target->maximize() ? "max" : "min"}}
                            : json(nullptr)},
          {"simulator", "SimGrid (one forked process per simulation)"}};
}

void ResultsWriter::write(const std::vector<ResultRow>& rows) const {
  std::vector<ResultRow> snapshot = rows;
  compute_speedups(snapshot);
  write_results(dir_, config_, provenance_, snapshot);
}

}  // namespace arcsim::experiments
