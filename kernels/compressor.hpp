#pragma once
// Compressor: one configured compressor applied to the buckets of N workers (emulated in this
// process, or one per process over a real process group), with error
// feedback per (worker, bucket), dense warm-up and the Top-K/Rand-K ratio ramp. Every step runs
// through a RecordingCommunicator over an EmulatedCommunicator, so each call also yields the
// bucket's `arcsim-plan/1` ops (docs/contracts.md). Used by `arcsim compress`, the Python binding
// (the recorder) and the tests.
//
// Error feedback (arctopk.md 4.1-4.2); g_i = worker i's bucket gradient, C = the sparsifier,
// Agg = (1/N) sum_i:
//   none : out = Agg(C(g_i)).
//   ef14 : u_i = g_i + e_i; c_i = C(u_i); e_i = u_i - c_i; out = Agg(c_i). e_i = 0 at the start.
//   ef21 : c_i = C(g_i - e_i); e_i += c_i; ebar += Agg(c_i); out = ebar. The first compressed call
//          with ef21_init dense (the default): e_i = g_i, ebar = dense Agg(g_i) (one dense
//          all-reduce), out = ebar; with ef21_init zero: e_i = 0, ebar = 0, and it is compressed.
//   ef21m: EF21-SGDM (momentum inside the EF loop), then EF21 on h_i. momentum ema (default):
//          h_i = (1 - eta) h_i + eta g_i, eta = weight of the new gradient (0.9, the authors'
//          numerical script); momentum heavy-ball: h_i = beta h_i + g_i (beta 0.5, their synthetic
//          script). h_i starts at g_i (dense init) or 0 (zero init).
// Warm-up: the first `warmup` calls of a bucket are dense (EF state untouched). Ramp (Top-K and
// Rand-K only, when enabled): ramp_ratio (compressor_config.hpp) of call - warmup.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/backend.hpp"
#include "kernels/communicator.hpp"
#include "kernels/compressor_config.hpp"
#include "kernels/layout.hpp"
#include "kernels/phase.hpp"
#include "kernels/recording_communicator.hpp"
#include "kernels/sparsifier.hpp"

namespace arcsim::kernels {

struct StepReport {
  std::uint32_t bucket = 0;
  std::uint32_t call = 0;                // this bucket's call index (0-based)
  std::string phase;                     // a name of kStepPhases (kernels/phase.hpp)
  double ratio = 1.0;                    // ratio used at this call (after the ramp)
  std::size_t k = 0;                     // selected units, bucket total (mean over workers if it varies)
  std::vector<std::size_t> k_by_worker;  // when k varies per worker: each worker's count
  std::string k_unit = "elements";       // "elements" | "rows"
  std::size_t values_per_rank = 0;
  double relative_error = 0.0;           // ||agg - mean g||^2 / ||mean g||^2 (0 when both are 0)
  double retained_energy = 1.0;          // ||mask . mean x||^2 / ||mean x||^2, x = compressor input
  std::optional<double> row_recall;      // ARC, compressed calls
  double grad_energy = 0.0;              // ||mean g||^2 (the relative error's denominator)
  std::string backend;                   // the backend that ran the kernels (kernels/backend.hpp)
  std::vector<PlanOp> ops;               // this call's plan ops, program order
  nlohmann::json to_json(const BucketLayout& layout) const;  // report dict (binding, CLI)
};

class Compressor {
 public:
  // `backend`: where the primitives run (kernels/backend.hpp); the reference backend by default.
  Compressor(int workers, CompressorConfig config, Backend& backend = reference_backend());
  // The local workers of one process in real distributed training: `comm` (a
  // ProcessGroupCommunicator, kernels/process_group_communicator.hpp) carries the collectives, and
  // the aggregate is over comm.world_size() ranks. Error feedback holds the local workers' state.
  // relative_error, retained_energy and row_recall need every rank's gradient: NaN / absent here.
  Compressor(CompressorConfig config, Communicator& comm, Backend& backend = reference_backend());
  // Local workers (the length of step()'s grads) and the ranks the aggregate is over.
  int workers() const { return workers_; }
  int world_size() const { return comm_.world_size(); }
  Backend& backend() const { return *backend_; }
  const CompressorConfig& config() const { return config_; }

  // One compression call of one bucket: grads[w] = worker w's layout.numel() floats (finite, else
  // std::invalid_argument naming worker and position); agg (numel floats) receives the aggregate.
  StepReport step(std::uint32_t bucket, const BucketLayout& layout, std::span<const float* const> grads, float* agg);

  // Header of an arcsim-plan/1 document ("format", "compressor", "world_size"); add "buckets".
  nlohmann::json plan_header() const;
  // The bucket object of the plan for one step's report.
  static nlohmann::json plan_bucket(const StepReport& report, const BucketLayout& layout);

  // Error-feedback state of (worker, bucket) for tests; empty if none yet.
  const std::vector<float>& error(std::uint32_t bucket, int worker) const;

 private:
  struct BucketState {
    std::uint32_t calls = 0;
    std::size_t numel = 0;
    bool ef_started = false;
    std::vector<std::vector<float>> e, h;  // per worker
    std::vector<float> ebar;
  };
  double ratio_at(std::uint32_t call) const;

  int workers_;
  CompressorConfig config_;
  Backend* backend_;
  std::unique_ptr<EmulatedCommunicator> emulated_;  // null when the communicator is the caller's
  RecordingCommunicator comm_;
  std::unique_ptr<Sparsifier> sparsifier_;
  std::unique_ptr<Sparsifier> dense_;
  std::map<std::uint32_t, BucketState> buckets_;
};

}  // namespace arcsim::kernels
