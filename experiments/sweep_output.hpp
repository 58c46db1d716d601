#pragma once
// Sweep stage 6, writing: results.csv and results.json of a set of rows, with the speedup columns
// filled from the rows present, rewritten atomically after every finished point. The config and
// provenance are the same bytes on every run of the same inputs (no times, no host names).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/plan_cache.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"

namespace arcsim::experiments {

// The target the rows are measured against: the spec's, else the first one a convergence log has.
std::optional<Target> effective_target(const ExperimentSpec& spec, const traces::Trace& trace);

// results.json's provenance: versions, commit, spec and trace identity, timing and gradient
// sources, bucket count, effective target, simulator.
nlohmann::json sweep_provenance(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans);

class ResultsWriter {
 public:
  ResultsWriter(std::string dir, nlohmann::json config, nlohmann::json provenance)
      : dir_(std::move(dir)), config_(std::move(config)), provenance_(std::move(provenance)) {}
  // Writes the rows (pending ones are counted, not listed) with their speedups.
  void write(const std::vector<ResultRow>& rows) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  nlohmann::json config_, provenance_;
};

}  // namespace arcsim::experiments
