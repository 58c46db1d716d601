#pragma once
// `arcsim init`: an experiment spec whose compressors match a trace's convergence logs exactly,
// one entry per config id, with every trajectory-changing option copied from the log's binding
// arguments and `convergence` naming the id, so a sweep of it has TTA for every recorded
// configuration. Nodes default to the recorded worker counts, the target to the trace's own.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/trace.hpp"

namespace arcsim::experiments {

struct InitOptions {
  std::vector<int> nodes;                 // empty: the recorded worker counts
  std::vector<std::string> bandwidths;    // empty: 1, 10, 100 Gbit/s
  std::string compute = "trace";
  std::vector<std::string> topologies;    // empty: the spec's default (star)
};

// `trace_path` is written as the spec's "trace" (relative to where the spec will live).
// Logs of compressors the spec does not know are left out and named in `skipped`.
nlohmann::json spec_from_trace(const traces::Trace& trace, const std::string& trace_path, const InitOptions& options,
                               std::vector<std::string>* skipped);

}  // namespace arcsim::experiments
