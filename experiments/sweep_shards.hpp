#pragma once
// Sharded sweeps: the points of one sweep split into N parts that separate processes (Slurm array
// tasks, ssh hosts, Kubernetes pods) simulate independently, then merged.
//
// The partition is a pure function of the spec, the prepared plans and N, so every shard and the
// merge compute the same one without talking to each other. Its unit is the network point (all
// configurations at one (nodes, bandwidth, latency, topology, profile)): they share simulations
// (every configuration's dense warm-up), and splitting them would simulate those twice. Units
// are dealt out largest expected cost first (nodes x plan ops of their distinct simulations; ties
// by their smallest point key), each to the least-loaded shard (ties: the lower index).
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/plan_cache.hpp"
#include "experiments/results.hpp"
#include "experiments/spec.hpp"
#include "experiments/sweep_tasks.hpp"

namespace arcsim::experiments {

struct ShardId {
  int index = 1;  // 1..count
  int count = 1;
};

// "I/N" with 1 <= I <= N; anything else is a ConfigError naming --shard.
ShardId parse_shard(const std::string& text);
std::string shard_name(const ShardId& id);                              // "I-of-N"
std::string shard_dir(const std::string& out_dir, const ShardId& id);  // out_dir/shards/I-of-N
nlohmann::json to_json(const ShardId& id);                             // {"index": I, "count": N}

// Expected simulation cost of each point's network point as a unit (see above), per point.
double unit_cost(const std::vector<PointWork>& unit, const PlanSet& plans);

// Per point (same order): the shard index 1..count that simulates it.
std::vector<int> partition_points(const std::vector<PointWork>& points, const PlanSet& plans, int count);

// The points of one shard, in point order.
std::vector<PointWork> shard_points(std::vector<PointWork> points, const PlanSet& plans, const ShardId& id);

struct ShardRows {
  int count = 0;                            // N of the shards found
  std::map<std::string, ResultRow> rows;    // every point's row (ok or failed), by key
};

// Reads out_dir/shards/*-of-N/results.json and checks each shard is there, readable, made by this
// arcsim commit from this trace and spec (its config and provenance equal `config` and
// `provenance`), and holds a row for each of its points. Throws one ConfigError naming every
// unusable shard and why.
ShardRows read_shards(const ExperimentSpec& spec, const std::string& out_dir, const std::vector<PointWork>& points,
                      const PlanSet& plans, const nlohmann::json& config, const nlohmann::json& provenance);

}  // namespace arcsim::experiments
