#pragma once
// Sweep stage 3, task planning: the points of the spec with their resume keys, and the distinct
// simulations (network point, plan) the unfinished ones need. A simulation shared by several
// points (every configuration's dense warm-up at one network point) is run once.
//
// A point's key hashes what its row is computed from: the compressor options, the network point,
// the algorithm, the collectives mode, the plan hashes of its shapes, the trace checksum and the
// arcsim commit. A row of an earlier run with the same key is reused instead of simulated.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "experiments/plan_cache.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_inputs.hpp"

namespace arcsim::experiments {

struct PointWork {
  Point point;
  std::string key;      // the resume key
  std::string net_key;  // the network point alone (points sharing it can share simulations)
  // per shape, per sample: SimTask indices (empty when the row is reused)
  std::vector<std::vector<std::size_t>> shape_tasks;
};

// Every point of the spec, in point order, with its keys.
std::vector<PointWork> plan_points(const ExperimentSpec& spec, const SweepInputs& in, const PlanSet& plans);

struct SimTask {
  std::string id;                   // network key # plan hash (unique)
  NetworkPoint net;
  std::size_t plan = 0;             // PlanSet::plans index
  std::vector<std::size_t> points;  // TaskPlan::points indices waiting on it
};

struct TaskPlan {
  std::vector<PointWork> points;       // the points of this run (all, or one shard's), point order
  std::vector<const ResultRow*> reuse; // per point: the earlier row it reuses, or nullptr
  std::vector<SimTask> tasks;          // the simulations the other points need
  std::size_t reused = 0;
};

// `previous`: rows of earlier runs by key (they must outlive the plan). Points whose key is found
// reuse that row; the others get their tasks, de-duplicated.
TaskPlan plan_tasks(std::vector<PointWork> points, const PlanSet& plans,
                    const std::map<std::string, ResultRow>& previous);

// The points (TaskPlan::points indices) whose every task is done once `task` is, given which are
// done; each point is reported by exactly one task, the last of its tasks to finish.
std::vector<std::size_t> points_completed_by(const TaskPlan& plan, std::size_t task, const std::vector<bool>& done);

}  // namespace arcsim::experiments
