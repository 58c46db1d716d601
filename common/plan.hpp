#pragma once
// The communication plan (`arcsim-plan/1`, docs/contracts.md section 1): what one iteration shape
// asks of the network, bucket by bucket, in program order. One type with one writer (to_json) and
// one strict reader (parse_plan), shared by the kernels (which record it), the experiments (which
// re-time its kernels and cache it) and the simulator (which executes it). Sizes are per rank, so
// one plan recorded with W emulated workers simulates at any node count.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/vocabulary.hpp"

namespace arcsim::plan {

inline constexpr const char* kPlanFormat = "arcsim-plan/1";
// The format's limits (docs/limits.md): the largest world a plan is recorded with (the simulator's
// rank limit) and the largest message one rank puts in.
inline constexpr int kMaxWorldSize = 1024;
inline constexpr double kMaxMessageBytes = 1099511627776.0;  // 2^40
inline constexpr double kMaxCount = 9007199254740992.0;      // 2^53: exact in a double

enum class OpKind { kernel, collective };
enum class CollectiveOp { allreduce, allgather, allgatherv, broadcast, reduce_scatter, alltoallv };

// The collectives, one row each (the plan's "op", `arcsim simulate --collective`).
std::span<const vocab::Entry<CollectiveOp>> collective_ops();
const char* to_string(CollectiveOp op);
// Throws std::invalid_argument "expected allreduce|...|alltoallv, got \"x\"". Also takes
// "reducescatter".
CollectiveOp parse_collective_op(const std::string& name);

// How an allgatherv's / alltoallv's recorded sizes (W emulated workers) extend to N simulated
// ranks (docs/contracts.md): per_rank (default: all-gather-v blocks cycled; all-to-all-v rows
// keep their totals, spread over the other ranks), share (shares of a total independent of the
// rank count: scaled by W/N once more), per_pair (all-to-all-v entries cycled unscaled).
enum class SizeScaling { per_rank, share, per_pair };
const char* to_string(SizeScaling s);

struct PlanOp {
  OpKind kind = OpKind::kernel;
  // kernel
  std::string name;                   // "arc_sketch", ...
  double elements = 0, bytes_moved = 0;  // one worker's
  double duration_s = 0;              // on the GPU stream
  std::string duration_source;        // measured-cpu | measured-gpu:<device> | calibration:<file> | model:<gpu>
  // collective
  CollectiveOp op = CollectiveOp::allreduce;
  double bytes_per_rank = 0;          // what one rank puts in (an all-gather: its own part)
  std::vector<double> bytes_by_rank;  // allgatherv only: one per emulated worker, cycled over N
  // alltoallv only: bytes_matrix[s][d] = bytes emulated worker s sends to d (W x W, W = world_size).
  std::vector<std::vector<double>> bytes_matrix;
  SizeScaling scaling = SizeScaling::per_rank;  // allgatherv, alltoallv
  std::string dtype = "float32";
  bool blocking = true;               // true: the GPU stream waits for the collective
};

struct PlanBucket {
  std::int64_t bucket = 0;            // the reader requires 0..n-1; the binding's ids are any uint32
  double elements = 0;
  std::vector<std::string> tensors;   // parameter names; readiness comes from the compute profile
  std::vector<PlanOp> ops;            // program order
};

struct Plan {
  std::string compressor;             // compressor.name, for provenance
  nlohmann::json compressor_config;   // the whole "compressor" object, echoed in outputs
  int world_size = 0;                 // W, the emulated workers it was recorded with
  std::vector<PlanBucket> buckets;    // bucket ids are 0..n-1 in order
};

// Strict reader: unknown keys, missing fields, unknown ops, negative or oversized sizes, bucket
// ids that are not 0..n-1, allgatherv without bytes_by_rank, alltoallv without a world_size x
// world_size bytes_matrix, scaling on an op it does not belong to -> json::ConfigError naming file
// and field.
Plan parse_plan(const nlohmann::json& j, const std::string& file_for_errors);
Plan load_plan(const std::string& path);

// The writer. Counts (elements, bytes) that are whole numbers are written as JSON integers;
// bytes_by_rank, bytes_matrix and scaling only when set (scaling: when not per_rank).
nlohmann::json to_json(const PlanOp& op);
nlohmann::json to_json(const PlanBucket& bucket);
nlohmann::json to_json(const Plan& plan);         // with "buckets"
nlohmann::json header_json(const Plan& plan);     // "format", "compressor", "world_size" only

}  // namespace arcsim::plan
