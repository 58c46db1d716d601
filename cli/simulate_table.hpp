#pragma once
// `arcsim simulate --collective OP --min-bytes A --max-bytes B --step-factor F`: an nccl-tests-style
// table, one simulated size per row (each in its own forked child: one SimGrid Engine per process).
#include <string>

#include "sim/iteration.hpp"
#include "sim/plan.hpp"

namespace arcsim::cli {

struct TableRow {
  double bytes = 0, time_us = 0, algbw_GBps = 0, busbw_GBps = 0;
  std::string algorithm, protocol;
};

// nccl-tests' bus-bandwidth factor: all-reduce 2(n-1)/n, all-gather and reduce-scatter (n-1)/n,
// broadcast 1 (nccl-tests doc/PERFORMANCE.md).
double busbw_factor(sim::CollectiveOp op, int ranks);

// Sizes min, min*f, ... <= max; all-gather and reduce-scatter sizes rounded down to a multiple of
// ranks x 4 bytes (float elements, as nccl-tests does).
std::vector<double> table_sizes(sim::CollectiveOp op, double min_bytes, double max_bytes, double factor, int ranks);

// Prints the table (text, or a JSON object with "rows") on stdout; returns the exit status.
int simulate_table(const sim::NetworkConfig& net, sim::CollectiveOp op, double min_bytes, double max_bytes,
                   double factor, bool json);

}  // namespace arcsim::cli
