#pragma once
// Replay: a trace's gradients through the real compression kernels (kernels/compressor.hpp), one
// DDP bucket at a time, giving for one iteration shape (a compressor at one ratio) the
// `arcsim-plan/1` document the simulator executes, its kernels re-timed with the experiment's
// kernel-timing source, and the compression quality on those gradients.
//
// Gradients come from the trace's recorded samples when they cover every tensor of the layout at
// some step (re-bucketed to the experiment's bucket caps), else from the trace's synthetic
// distribution (traces/synthetic.hpp). Plans are per rank, so one replay with W workers
// simulates at any node count.
//
// Memory: the replay streams bucket by bucket, and inside a large bucket worker by worker. A bucket
// whose gradients for all workers fit in `stream_above_bytes` goes through a fresh
// kernels::Compressor (all workers at once; its error-feedback state dies with the bucket); a
// larger one goes through the worker-streamed step of replay_stream.hpp (the same bits), which
// holds one worker's gradients at a time plus bucket-sized sums. The recorded samples a bucket
// needs are loaded when it needs them and dropped when the next bucket needs others. Peak memory
// is about max(4 x stream_above_bytes, 6 x the largest bucket) plus the recorded samples in use.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/plan.hpp"
#include "kernels/compressor.hpp"
#include "kernels/timing.hpp"
#include "traces/buckets.hpp"
#include "traces/synthetic.hpp"
#include "traces/trace.hpp"

namespace arcsim::experiments {

// Worker gradients per bucket, for a few sample steps.
class GradientSource {
 public:
  // prefer_config: the trace config id whose samples to use first (e.g. the compressor's own
  // run), then "dense", then any. max_workers caps the workers replayed.
  GradientSource(const traces::Trace& trace, std::vector<traces::Bucket> buckets, int max_workers,
                 const std::string& prefer_config);

  int workers() const { return workers_; }
  // Distinct steps available; synthetic sources have as many as asked for.
  int steps_available() const { return synthetic_ ? 1 << 20 : static_cast<int>(steps_.size()); }
  const std::vector<traces::Bucket>& buckets() const { return buckets_; }
  const traces::Layout& layout() const { return trace_.layout; }
  // float32 [workers x bucket elements] of bucket b at sample step index s.
  std::vector<float> bucket(std::size_t b, int s) const;
  // Worker w's row of bucket(b, s) (bucket elements floats) into out.
  void worker_bucket(std::size_t b, int s, int w, float* out) const;
  // "recorded: dense N=8 steps 0,100 workers 0,1" or "synthetic: lognormal-rows/1 seed 1, 8 workers".
  const std::string& description() const { return description_; }

 private:
  const traces::Trace& trace_;
  std::vector<traces::Bucket> buckets_;
  int workers_ = 0;
  bool synthetic_ = false;
  traces::SyntheticSpec synth_;
  // recorded: per step, per tensor name -> (sample index, element offset inside that sample)
  std::vector<std::int64_t> steps_;
  std::vector<std::map<std::string, std::pair<std::size_t, std::int64_t>>> where_;
  mutable std::map<std::size_t, std::shared_ptr<std::vector<float>>> loaded_;
  std::string description_;
  // The recorded sample holding tensor t at step index s, loaded on first use (the samples of
  // other buckets dropped), and t's element offset in it.
  struct Recorded {
    const std::vector<float>* data;  // [workers x row] floats
    std::size_t row, offset;
  };
  Recorded recorded(const traces::Bucket& bk, int s, const std::string& t) const;
};

// One replayed iteration shape.
struct ShapePlan {
  plan::Plan plan;                         // arcsim-plan/1, kernels re-timed
  std::optional<double> relative_error;    // whole model: sum ||agg-mean||^2 / sum ||mean||^2
  std::optional<double> retained_energy;   // energy-weighted over buckets
  double kernel_s = 0;                     // sum of kernel durations of one iteration (per worker)
  double bytes_per_rank = 0;               // sum of bytes_per_rank of every collective
  int collectives = 0, kernels = 0;
  std::string backend;                     // the backend that ran the kernels
};

// Progress of a replay: buckets done (of total) and elements done (of total), after each bucket.
struct ReplayProgress {
  std::size_t buckets_done = 0, buckets = 0;
  std::int64_t elements_done = 0, elements = 0;
  double elapsed_s = 0.0;
  // Seconds left, extrapolated from the elements replayed so far (< 0 before the first bucket).
  double eta_s() const;
  // "bucket 12/40 (31 %), 8 s elapsed, ETA 17 s"
  std::string line() const;
};
using ReplayProgressFn = std::function<void(const ReplayProgress&)>;

// All-worker gradient bytes of a bucket above which the replay streams workers (replay_stream.hpp).
inline constexpr std::size_t kStreamAboveBytes = std::size_t{256} << 20;

// Replays one compressor configuration (at a fixed ratio, no warm-up, no ramp: the shape's own
// behaviour) over every bucket at sample step `sample`, on `backend` (kernels/backend.hpp), whose
// name the result carries (the plan format has no field for it). EF21/EF21M first take their dense initial call on
// the previous sample (or the same one when there is none), so the recorded call is a compressed
// one. timer == nullptr keeps the measured durations (measured-cpu, or measured-gpu:<device> on
// the CUDA backend). `progress`, if set, is called after every bucket.
ShapePlan replay_shape(const GradientSource& grads, const kernels::CompressorConfig& config, int sample,
                       const kernels::KernelTimeModel* timer,
                       kernels::Backend& backend = kernels::reference_backend(),
                       const ReplayProgressFn& progress = nullptr,
                       std::size_t stream_above_bytes = kStreamAboveBytes);

// What replay_shapes throws when the configuration at `index` fails (bad gradients, a kernel's
// refusal): the message is the cause's.
struct ReplayFailure : std::runtime_error {
  ReplayFailure(std::size_t i, const std::string& what) : std::runtime_error(what), index(i) {}
  std::size_t index;
};

// All-worker gradient bytes of a streamed bucket up to which replay_shapes holds it once for the
// several configurations that stream it (above it, each generates its workers' rows again).
inline constexpr std::size_t kGroupHoldBytes = std::size_t{512} << 20;

// replay_shape for several configurations on the same sample, bucket by bucket: each bucket's
// gradients are generated (or copied from the trace) once and given to every configuration in
// turn, so N shapes of a layout-only trace cost one generation instead of N. Each result is
// bit-identical to replay_shape of its configuration alone; memory is that of the largest single
// replay plus one all-worker copy of the bucket (for a streamed bucket only up to
// kGroupHoldBytes). `progress` counts buckets of the whole group.
std::vector<ShapePlan> replay_shapes(const GradientSource& grads, const std::vector<kernels::CompressorConfig>& configs,
                                     int sample, const kernels::KernelTimeModel* timer, kernels::Backend& backend,
                                     const ReplayProgressFn& progress = nullptr,
                                     std::size_t stream_above_bytes = kStreamAboveBytes);

// Re-times the kernel ops of a plan in place (timer == nullptr: keeps their durations); returns
// the summed seconds of its kernels.
double retime_plan(plan::Plan& plan, const kernels::KernelTimeModel* timer);

// FNV-1a 64 of a string, as 16 hex digits (cache keys; not a security hash).
std::string fnv_hex(const std::string& text);

}  // namespace arcsim::experiments
