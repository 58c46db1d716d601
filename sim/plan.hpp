#pragma once
// The communication plan (`arcsim-plan/1`, docs/contracts.md section 1): what one iteration shape
// asks of the network, bucket by bucket, as the kernels' RecordingCommunicator wrote it.
// Sizes are per rank, so one plan recorded with W emulated workers simulates at any node count.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arcsim::sim {

enum class OpKind { kernel, collective };
enum class CollectiveOp { allreduce, allgather, allgatherv, broadcast, reduce_scatter, alltoallv };

const char* to_string(CollectiveOp op);

// How an allgatherv's / alltoallv's recorded sizes (W emulated workers) extend to N simulated
// ranks (docs/contracts.md): per_rank (default: all-gather-v blocks cycled; all-to-all-v rows
// keep their totals, spread over the other ranks), share (shares of a total independent of the
// rank count: scaled by W/N once more), per_pair (all-to-all-v entries cycled unscaled).
enum class SizeScaling { per_rank, share, per_pair };

struct PlanOp {
  OpKind kind = OpKind::kernel;
  // kernel
  std::string name;                   // "arc_sketch", ...
  double elements = 0, bytes_moved = 0;
  double duration_s = 0;              // on the GPU stream
  std::string duration_source;
  // collective
  CollectiveOp op = CollectiveOp::allreduce;
  double bytes_per_rank = 0;          // what one rank puts in (an all-gather: its own part)
  std::vector<double> bytes_by_rank;  // allgatherv only: one per emulated worker, cycled over N
  // alltoallv only: bytes_matrix[s][d] = bytes emulated worker s sends to d (W x W, W = world_size).
  std::vector<std::vector<double>> bytes_matrix;
  SizeScaling scaling = SizeScaling::per_rank;  // allgatherv, alltoallv
  std::string dtype;
  bool blocking = true;               // true: the GPU stream waits for the collective
};

struct PlanBucket {
  int bucket = 0;
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

// Strict reader: unknown keys, missing fields, unknown ops, negative sizes, bucket ids that are not
// 0..n-1, allgatherv without bytes_by_rank, alltoallv without a world_size x world_size
// bytes_matrix -> json::ConfigError naming file and field.
Plan parse_plan(const nlohmann::json& j, const std::string& file_for_errors);
Plan load_plan(const std::string& path);

}  // namespace arcsim::sim
