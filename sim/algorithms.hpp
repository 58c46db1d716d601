#pragma once
// The collective algorithms the simulator runs, one row each: name, what it is, and the
// collectives it exists for. `--algorithm`, the spec's "algorithm", their help text and their
// errors all read this table, so the spec accepts exactly what the simulator runs.
// `hier-X` runs X across nodes on rails of same-index GPUs, between intra-node rings (multi-GPU
// nodes); on one GPU per node it is X.
#include <span>
#include <string>
#include <vector>

#include "common/vocabulary.hpp"
#include "sim/plan.hpp"

namespace arcsim::sim {

struct AlgorithmInfo {
  unsigned ops = 0;           // bit (1 << CollectiveOp) for each collective it implements
  bool hierarchical = false;  // hier-*
  bool gloo_only = false;     // exists in the gloo profile only (gloo's own algorithms)
  bool exists_for(CollectiveOp op) const { return (ops >> static_cast<unsigned>(op)) & 1u; }
};

std::span<const vocab::Entry<AlgorithmInfo>> algorithms();

// Every algorithm name the simulator knows, table order (for --algorithm and specs).
const std::vector<std::string>& algorithm_names();

// Whether `name` is an algorithm of `op` ("auto" is one of every op).
bool algorithm_exists_for(CollectiveOp op, const std::string& name);

// Throws std::invalid_argument "algorithm: expected auto|ring|..., got \"x\"" for an unknown name.
void check_algorithm_name(const std::string& name);

}  // namespace arcsim::sim
