#include "replay.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <malloc.h>
#include <set>
#include <stdexcept>

#include "experiments/replay_stream.hpp"
#include "kernels/error_feedback.hpp"
#include "kernels/plan_writer.hpp"
#include "traces/synthetic.hpp"

namespace arcsim::experiments {

using nlohmann::json;

std::string fnv_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

GradientSource::GradientSource(const traces::Trace& trace, std::vector<traces::Bucket> buckets, int max_workers,
                               const std::string& prefer_config)
    : trace_(trace), buckets_(std::move(buckets)) {
  // Recorded samples: try the preferred run first, then dense, then the others in trace order.
  std::vector<std::pair<std::string, int>> groups;
  for (const auto& s : trace.samples)
    if (std::find(groups.begin(), groups.end(), std::make_pair(s.config, s.world)) == groups.end())
      groups.emplace_back(s.config, s.world);
  auto rank = [&](const std::pair<std::string, int>& g) { return g.first == prefer_config ? 0 : g.first == "dense" ? 1 : 2; };
  std::stable_sort(groups.begin(), groups.end(), [&](auto& a, auto& b) { return rank(a) < rank(b); });

  for (const auto& [config, world] : groups) {
    std::map<std::int64_t, std::map<std::string, std::pair<std::size_t, std::int64_t>>> by_step;
    std::map<std::int64_t, int> workers_at;
    for (std::size_t i = 0; i < trace.samples.size(); ++i) {
      const auto& s = trace.samples[i];
      if (s.config != config || s.world != world) continue;
      std::int64_t off = 0;
      for (const auto& t : s.tensors) {
        by_step[s.step][t] = {i, off};
        off += trace.layout.parameters[static_cast<std::size_t>(trace.layout.index_of(t))].numel();
      }
      const int w = static_cast<int>(s.workers.size());
      workers_at[s.step] = workers_at.count(s.step) ? std::min(workers_at[s.step], w) : w;
    }
    int workers = max_workers;
    std::vector<std::int64_t> steps;
    for (const auto& [step, where] : by_step) {
      bool complete = true;
      for (const auto& p : trace.layout.parameters) complete = complete && where.count(p.name);
      if (!complete || workers_at[step] < 2) continue;
      steps.push_back(step);
      workers = std::min(workers, workers_at[step]);
    }
    if (steps.empty()) continue;
    workers_ = workers;
    steps_ = steps;
    for (auto st : steps) where_.push_back(by_step[st]);
    description_ = "recorded: " + config + " N=" + std::to_string(world) + ", " + std::to_string(workers) +
                   " workers, steps";
    for (std::size_t i = 0; i < steps.size(); ++i) description_ += (i ? "," : " ") + std::to_string(steps[i]);
    return;
  }
  synthetic_ = true;
  synth_ = traces::synthetic_spec(trace.synthetic, trace.dir + "/trace.json");
  workers_ = max_workers;
  description_ = "synthetic: " + synth_.distribution + " seed " + std::to_string(synth_.seed) + ", " +
                 std::to_string(workers_) + " workers" +
                 (trace.samples.empty() ? "" : " (the recorded samples do not cover every tensor at one step)");
}

double ReplayProgress::eta_s() const {
  if (elements_done <= 0 || elements <= 0) return -1.0;
  return elapsed_s * static_cast<double>(elements - elements_done) / static_cast<double>(elements_done);
}

std::string ReplayProgress::line() const {
  char buf[160];
  const double pct = elements > 0 ? 100.0 * static_cast<double>(elements_done) / static_cast<double>(elements) : 100.0;
  const double eta = eta_s();
  if (eta >= 0)
    std::snprintf(buf, sizeof buf, "bucket %zu/%zu (%.0f %%), %.0f s elapsed, ETA %.0f s", buckets_done, buckets, pct,
                  elapsed_s, eta);
  else
    std::snprintf(buf, sizeof buf, "bucket %zu/%zu (%.0f %%), %.0f s elapsed", buckets_done, buckets, pct, elapsed_s);
  return buf;
}

GradientSource::Recorded GradientSource::recorded(const traces::Bucket& bk, int s, const std::string& t) const {
  const auto& where = where_.at(static_cast<std::size_t>(s));
  // Keep loaded only the samples this bucket reads (buckets are replayed in order, and a sample
  // holds consecutive tensors, so a dropped sample is rarely needed again).
  std::set<std::size_t> needed;
  for (const auto& name : bk.tensors) needed.insert(where.at(name).first);
  for (auto it = loaded_.begin(); it != loaded_.end();) it = needed.count(it->first) ? std::next(it) : loaded_.erase(it);
  const auto [si, off] = where.at(t);
  auto it = loaded_.find(si);
  if (it == loaded_.end())
    it = loaded_.emplace(si, std::make_shared<std::vector<float>>(traces::load_sample(trace_, trace_.samples[si]))).first;
  return {it->second.get(), static_cast<std::size_t>(trace_.samples[si].data.shape.at(1)), static_cast<std::size_t>(off)};
}

std::vector<float> GradientSource::bucket(std::size_t b, int s) const {
  const std::size_t n = static_cast<std::size_t>(buckets_.at(b).elements);
  std::vector<float> out(static_cast<std::size_t>(workers_) * n);
  for (int w = 0; w < workers_; ++w) worker_bucket(b, s, w, out.data() + static_cast<std::size_t>(w) * n);
  return out;
}

void GradientSource::worker_bucket(std::size_t b, int s, int w, float* out) const {
  const traces::Bucket& bk = buckets_.at(b);
  if (synthetic_) {
    traces::synthetic_gradients_into(trace_.layout, bk.tensors, {w}, s, synth_, out);
    return;
  }
  std::size_t col = 0;
  for (const auto& t : bk.tensors) {
    const Recorded r = recorded(bk, s, t);
    const std::size_t numel =
        static_cast<std::size_t>(trace_.layout.parameters[static_cast<std::size_t>(trace_.layout.index_of(t))].numel());
    std::copy_n(r.data->begin() + static_cast<long>(static_cast<std::size_t>(w) * r.row + r.offset), numel, out + col);
    col += numel;
  }
}

double retime_plan(plan::Plan& p, const kernels::KernelTimeModel* timer) {
  double total = 0;
  for (auto& bucket : p.buckets)
    for (auto& op : bucket.ops) {
      if (op.kind != plan::OpKind::kernel) continue;
      if (timer) {
        op.duration_s = timer->seconds(op.name, static_cast<std::int64_t>(op.elements), op.bytes_moved);
        op.duration_source = timer->source();
      }
      total += op.duration_s;
    }
  return total;
}

namespace {
// A replay allocates and frees bucket-sized buffers (tens to hundreds of MB) hundreds of times.
// glibc serves each with a fresh mmap and unmaps it on free, so every bucket paid the kernel's
// page faults and page zeroing again (about 15 % of a replay's time); keeping freed memory in the
// heap reuses the pages. The peak is unchanged: it is what the largest bucket needs either way.
void keep_freed_memory() {
  static const bool done = [] {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    return true;
  }();
  (void)done;
}
}  // namespace

std::vector<ShapePlan> replay_shapes(const GradientSource& grads, const std::vector<kernels::CompressorConfig>& configs,
                                     int sample, const kernels::KernelTimeModel* timer, kernels::Backend& backend,
                                     const ReplayProgressFn& progress, std::size_t stream_above_bytes) {
  keep_freed_memory();
  const auto t0 = std::chrono::steady_clock::now();
  const int W = grads.workers();
  const auto& layout_params = grads.buckets();
  const int prime = sample > 0 ? sample - 1 : (grads.steps_available() > 1 ? 1 : 0);
  const std::size_t C = configs.size();

  // Per configuration: its plan as recorded, and the energy-weighted quality sums over buckets.
  struct Running {
    plan::Plan recorded;
    double err_num = 0, err_den = 0, kept = 0;
    bool compressed = false;
  };
  std::vector<Running> run(C);
  for (std::size_t c = 0; c < C; ++c) {
    try {
      run[c].recorded = kernels::plan_of(kernels::Compressor(W, configs[c], backend));
    } catch (const std::exception& e) {  // a configuration the Compressor refuses
      throw ReplayFailure(c, e.what());
    }
  }
  ReplayProgress prog;
  prog.buckets = layout_params.size();
  for (const auto& bk : layout_params) prog.elements += bk.elements;
  for (std::size_t b = 0; b < layout_params.size(); ++b) {
    const traces::Bucket& bk = layout_params[b];
    kernels::BucketLayout layout;
    layout.names = bk.tensors;
    for (int p : bk.params) layout.shapes.push_back(grads.layout().parameters[static_cast<std::size_t>(p)].shape);
    const std::size_t n = layout.numel();
    // The bucket's gradients of all workers, generated or copied once for every configuration
    // that takes them at once (on layout-only traces generation is a third of a replay).
    std::vector<float> g, g0;
    auto pointers = [&](const std::vector<float>& all) {
      std::vector<const float*> ptr(static_cast<std::size_t>(W));
      for (int w = 0; w < W; ++w) ptr[static_cast<std::size_t>(w)] = all.data() + static_cast<std::size_t>(w) * n;
      return ptr;
    };
    const std::size_t all_bytes = static_cast<std::size_t>(W) * n * sizeof(float);
    const bool large = all_bytes > stream_above_bytes;
    std::size_t streamed = 0;
    for (const auto& config : configs) streamed += large && can_stream(config);
    // Several configurations streaming a bucket that is not too large to hold once: hold it, so
    // they copy each worker's row instead of each generating it again.
    if (streamed > 1 && all_bytes <= kGroupHoldBytes) g = grads.bucket(b, sample);
    auto worker_row = [&](int w, float* out) {
      if (g.empty()) grads.worker_bucket(b, sample, w, out);
      else std::memcpy(out, g.data() + static_cast<std::size_t>(w) * n, n * sizeof(float));
    };
    for (std::size_t c = 0; c < C; ++c) {
      const kernels::CompressorConfig& config = configs[c];
      std::vector<float> agg(n);
      kernels::StepReport rep;
      try {
        if (large && can_stream(config)) {
          // Too large for all workers at once: one worker at a time, the same bits (replay_stream.hpp).
          const WorkerGradients prime_row = [&](int w, float* out) { grads.worker_bucket(b, prime, w, out); };
          rep = stream_step(config, W, static_cast<std::uint32_t>(b), layout, worker_row, backend, agg.data(),
                            &prime_row);
        } else {
          // One Compressor per bucket: error-feedback state of a bucket never outlives it. EF21/EF21M
          // first take their dense initial call on the previous sample.
          kernels::Compressor comp(W, config, backend);
          if (kernels::is_ef21_family(config.ef)) {
            if (g0.empty()) g0 = grads.bucket(b, prime);
            comp.step(static_cast<std::uint32_t>(b), layout, pointers(g0), agg.data());
          }
          if (g.empty()) g = grads.bucket(b, sample);
          rep = comp.step(static_cast<std::uint32_t>(b), layout, pointers(g), agg.data());
        }
      } catch (const std::exception& e) {
        throw ReplayFailure(c, e.what());
      }
      Running& r = run[c];
      r.recorded.buckets.push_back(kernels::plan_bucket_of(rep, layout));
      const double den = rep.grad_energy;  // ||mean g||^2 of this bucket, as the step computed it
      r.err_num += rep.relative_error * den;
      r.err_den += den;
      r.kept += rep.retained_energy * den;
      r.compressed = r.compressed || rep.phase == kernels::phase_name(kernels::StepPhase::compressed);
    }
    if (progress) {
      prog.buckets_done = b + 1;
      prog.elements_done += bk.elements;
      prog.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress(prog);
    }
  }
  std::vector<ShapePlan> out(C);
  for (std::size_t c = 0; c < C; ++c) {
    Running& r = run[c];
    ShapePlan& sp = out[c];
    sp.backend = backend.name();
    sp.kernel_s = retime_plan(r.recorded, timer);
    for (const auto& bucket : r.recorded.buckets)
      for (const auto& op : bucket.ops) {
        if (op.kind == plan::OpKind::kernel) {
          ++sp.kernels;
        } else {
          ++sp.collectives;
          sp.bytes_per_rank += op.bytes_per_rank;
        }
      }
    if (r.err_den > 0) {
      sp.relative_error = r.err_num / r.err_den;
      sp.retained_energy = r.compressed ? r.kept / r.err_den : 1.0;
    }
    sp.plan = std::move(r.recorded);
  }
  return out;
}

ShapePlan replay_shape(const GradientSource& grads, const kernels::CompressorConfig& config, int sample,
                       const kernels::KernelTimeModel* timer, kernels::Backend& backend,
                       const ReplayProgressFn& progress, std::size_t stream_above_bytes) {
  return std::move(replay_shapes(grads, {config}, sample, timer, backend, progress, stream_above_bytes).front());
}

}  // namespace arcsim::experiments
