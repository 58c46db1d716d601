#pragma once
// Bits a run communicates, in two conventions (docs/experiments.md section 4, "Bits communicated"):
//
//  - as simulated: the bytes one node sent in the simulated collectives of each iteration shape
//    (IterationTimes::bytes_per_node), whatever algorithm, protocol and topology ran;
//  - the ARC-Top-K authors' "global traffic" counter: every collective of one iteration adds the
//    bits that all ranks of a ring algorithm send together, whatever the simulator ran:
//      all-reduce        2(N-1) x b
//      all-gather        N(N-1) x b        b = one rank's part
//      all-gather-v      (N-1) x sum_r b_r (each rank's part reaches the N-1 others)
//      all-to-all-v      sum of the N x N matrix (each byte goes once, to its one destination)
//      reduce-scatter    (N-1) x b
//      broadcast         (N-1) x b
//    with N the data-parallel ranks and b = 8 x the plan's bytes per rank (the authors' hooks send
//    fp32 values and int32 indices, so for their settings b = 32 bits per element). The authors
//    write rules for all-reduce and all-gather only; the others follow the same model (what all
//    ranks send together). Recorded all-gather-v parts and all-to-all-v matrices are extended to
//    N ranks as the simulator extends them (their SizeScaling, sim/collective.hpp).
//
// Both accumulate over a run's steps as the time to accuracy does: warm-up, ramp and steady
// shapes each for their own steps, a fractional step counting that fraction of the next step.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/spec.hpp"
#include "experiments/tta.hpp"
#include "sim/plan.hpp"

namespace arcsim::experiments {

// What one iteration's plan sends, by collective kind, in bytes per rank (independent of N).
struct PlanTraffic {
  double allreduce = 0, allgather = 0, reduce_scatter = 0, broadcast = 0;
  struct Variable {
    std::vector<double> by_rank;                // allgatherv: bytes by emulated rank
    std::vector<std::vector<double>> matrix;    // alltoallv: W x W bytes
    sim::SizeScaling scaling = sim::SizeScaling::per_rank;
  };
  std::vector<Variable> allgatherv, alltoallv;  // per call
  double elements = 0;                          // gradient elements of the plan's buckets (D)
};

// Sums the plan's collectives. A collective this counter has no rule for (an op added to the plan
// format later) throws std::runtime_error naming the file, bucket, op and the op's name: a bit
// count that silently skipped it would be wrong.
PlanTraffic plan_traffic(const sim::Plan& plan, const std::string& file_for_errors);

// The authors' global bits of one iteration with `ranks` data-parallel ranks (>= 1).
double authors_bits(const PlanTraffic& t, int ranks);

// The authors' hooks count EF21's first compressed call (a dense all-reduce that fills the state)
// in their own way: ARC-Top-K adds 32 x D bits, Top-K and Rand-K add nothing. The other
// compressors have no such hook; their dense all-reduce counts as one, 2(N-1) x 32 x D.
// Returns the step (1-based: the first after the warm-up) and its bits, or nothing when the
// configuration has no dense EF21 start (no EF21/EF21M, ef21_init zero, or dense).
struct StepOverride {
  std::int64_t step = 0;
  double value = 0;
};
std::optional<StepOverride> ef21_init_authors_bits(const CompressorConfig& c, double elements, int ranks);

// Sum over steps 1..steps of per_shape[shape of the step] (one value per schedule shape), with
// `override` replacing one step's value; a fractional step counts that fraction of the next
// step's value (time_for_fractional_steps' rule).
double cumulative_for_steps(const StepSchedule& schedule, const std::vector<double>& per_shape, double steps,
                            const std::optional<StepOverride>& override = std::nullopt);

}  // namespace arcsim::experiments
