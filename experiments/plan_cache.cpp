#include "plan_cache.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include "arcsim/version.hpp"
#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "experiments/convergence.hpp"
#include "experiments/replay.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;
using nlohmann::json;

namespace {

kernels::CompressorConfig kernel_config(const CompressorConfig& c, const Shape& s, std::uint64_t seed) {
  if (c.name == "dense" || s.kind == "warmup") {  // dense: ratio 1, no EF
    kernels::CompressorConfig k;
    k.seed = seed;
    return k;
  }
  // Every option as the spec gave it; the classic fields rule (a config built in code may set
  // only those).
  kernels::CompressorConfig k = c.options.compressor == c.name ? c.options : kernels::CompressorConfig{};
  k.compressor = c.name;
  k.ef = c.ef;
  k.rank = c.rank;
  k.row_scores = c.row_scores;
  k.shape_rule = c.shape_rule;
  k.sketch_allreduce = c.sketch_allreduce;
  k.unbiased = c.rescale;
  k.seed = seed;
  k.ratio = s.ratio;
  k.warmup = 0;  // the shape's own steady behaviour: no warm-up, ramp off
  k.ramp = false;
  return k;
}

std::optional<double> mean(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// A cached plan file whose key matches, or nothing (absent, stale or unreadable: replay again).
std::optional<ShapePlan> read_cached(const std::string& file, const std::string& key) {
  if (!fs::exists(file)) return std::nullopt;
  try {
    const json doc = json::parse(io::read_file(file));
    if (doc.value("key", "") != key) return std::nullopt;
    ShapePlan sp;
    sp.plan = plan::parse_plan(doc.at("plan"), file);  // the format's strict reader
    if (!doc.at("relative_error").is_null()) sp.relative_error = doc["relative_error"].get<double>();
    if (!doc.at("retained_energy").is_null()) sp.retained_energy = doc["retained_energy"].get<double>();
    sp.kernel_s = doc.at("kernel_s").get<double>();
    return sp;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::size_t count_ops(const sim::Plan& p) {
  std::size_t n = 0;
  for (const auto& b : p.buckets) n += b.ops.size();
  return n;
}

class Builder {
 public:
  Builder(const ExperimentSpec& spec, const SweepInputs& in, const PlanCacheOptions& o) : spec_(spec), in_(in), o_(o) {}

  PlanSet run() {
    fs::create_directories(o_.dir);
    t0_ = std::chrono::steady_clock::now();
    // Plans to make (configuration x shape x sample), for "plan i/N" and the phase's ETA.
    for (const CompressorConfig& cfg : spec_.compressors) {
      const auto logs = matching_logs(in_.trace, cfg);
      const GradientSource& src = source(logs.empty() ? "dense" : logs.front()->config);
      for (const Shape& shape : step_schedule(cfg, spec_.replay.ramp_shapes).shapes)
        total_ += shape.kind == "steady" ? static_cast<std::size_t>(std::min(spec_.replay.samples, src.steps_available())) : 1;
    }
    set_.configs.resize(spec_.compressors.size());
    for (std::size_t ci = 0; ci < spec_.compressors.size(); ++ci) configure(ci);
    return std::move(set_);
  }

 private:
  void configure(std::size_t ci) {
    const CompressorConfig& cfg = spec_.compressors[ci];
    ConfigPlans& cp = set_.configs[ci];
    cp.cfg = &cfg;
    cp.schedule = step_schedule(cfg, spec_.replay.ramp_shapes);
    cp.logs = matching_logs(in_.trace, cfg);
    if (cp.logs.empty()) cp.no_log_note = no_match_note(in_.trace, cfg);
    const GradientSource* src = &source(cp.logs.empty() ? "dense" : cp.logs.front()->config);
    set_.gradient_notes.insert(src->description());

    std::vector<double> err, kept;
    for (const Shape& shape : cp.schedule.shapes) {
      const int samples = shape.kind == "steady" ? std::min(spec_.replay.samples, src->steps_available()) : 1;
      std::vector<std::size_t> ids;
      for (int s = 0; s < samples; ++s) {
        const std::string file = o_.dir + "/" + io::safe_name(cfg.label) + "--" + shape.id +
                                 (samples > 1 ? "--s" + std::to_string(s) : "") + ".json";
        const auto& [id, sp] = plan_for(cfg, shape, s, *src, file);
        ids.push_back(id);
        if (shape.kind == "steady") {
          if (sp.relative_error) err.push_back(*sp.relative_error);
          if (sp.retained_energy) kept.push_back(*sp.retained_energy);
        }
      }
      cp.shape_plans.push_back(ids);
      std::vector<PlanTraffic> traffic;
      for (std::size_t id : ids) traffic.push_back(set_.plans[id].traffic);
      if (!traffic.empty()) cp.elements = traffic.front().elements;
      cp.shape_traffic.push_back(std::move(traffic));
    }
    cp.relative_error = mean(err);
    cp.retained_energy = mean(kept);
  }

  const GradientSource& source(const std::string& prefer) {
    auto& src = sources_[prefer];
    if (!src) src = std::make_unique<GradientSource>(in_.trace, in_.buckets, spec_.replay.workers, prefer);
    return *src;
  }

  // "plan 3/8 topk steady: bucket 12/40 (31 %), 8 s elapsed, ETA 17 s; all plans ETA 95 s": the
  // phase's ETA extrapolates its elapsed time over the plans done (the current one by its
  // elements), so plans read from the cache make it optimistic until replays dominate.
  std::string replay_line(const std::string& what, const ReplayProgress& p) const {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double frac = p.elements > 0 ? static_cast<double>(p.elements_done) / static_cast<double>(p.elements) : 1.0;
    const double done = static_cast<double>(index_ - 1) + frac;
    std::string line = what + p.line();
    if (done > 0 && total_ > 1) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "; all plans ETA %.0f s", elapsed * (static_cast<double>(total_) - done) / done);
      line += buf;
    }
    return line;
  }

  // The plan of one (configuration, shape, sample): from this run, the cache, or a replay. Its
  // file is (re)written when its bytes differ, so every shape has one for users to inspect.
  const std::pair<std::size_t, ShapePlan>& plan_for(const CompressorConfig& cfg, const Shape& shape, int s,
                                                    const GradientSource& src, const std::string& file) {
    const kernels::CompressorConfig kc = kernel_config(cfg, shape, spec_.seed);
    const json key_doc = {{"trace", in_.trace_checksum},  {"compressor", kc.to_json()},     {"sample", s},
                          {"gradients", src.description()}, {"bucket_cap", spec_.bucket_cap_bytes},
                          {"first_bucket_cap", spec_.first_bucket_cap_bytes}, {"timing", in_.timing_source},
                          {"commit", kGitCommit}, {"backend", in_.backend->name()}};
    const std::string rkey = fnv_hex(key_doc.dump());
    ++index_;
    auto it = replayed_.find(rkey);
    if (it == replayed_.end()) {
      std::optional<ShapePlan> sp = read_cached(file, rkey);
      if (sp) {
        ++set_.reused;
      } else if (!o_.replay_missing) {
        throw ConfigError(file + ": not prepared for this spec and arcsim build (missing or made from other "
                          "inputs); run arcsim sweep " + spec_.file + " --out DIR --prepare first");
      } else {
        const std::string what = "[sweep] replay plan " + std::to_string(index_) + "/" + std::to_string(total_) + " " +
                                 cfg.label + " " + shape.id;
        if (o_.progress) o_.progress->update(what + " (ratio " + io::format_number(shape.ratio) + ")", false);
        try {
          double shown_s = 0.0;  // a progress line every 2 s at most
          sp = replay_shape(src, kc, s, in_.timer ? &*in_.timer : nullptr, *in_.backend, [&](const ReplayProgress& p) {
            if (o_.progress && p.elapsed_s - shown_s >= 2.0)
              o_.progress->update(replay_line(what + ": ", p), false), shown_s = p.elapsed_s;
          });
        } catch (const std::exception& e) {
          throw std::runtime_error("replay of " + cfg.label + " (" + shape.id + "): " + e.what());
        }
        ++set_.replayed;
      }
      const std::string hash = fnv_hex(plan::to_json(sp->plan).dump());
      auto ph = plan_by_hash_.find(hash);
      if (ph == plan_by_hash_.end()) {
        PlanEntry pe;
        pe.hash = hash;
        pe.plan = sp->plan;
        pe.ops = count_ops(pe.plan);
        pe.traffic = plan_traffic(pe.plan, file);  // an op the bit counter cannot count stops here, early
        ph = plan_by_hash_.emplace(hash, set_.plans.size()).first;
        set_.plans.push_back(std::move(pe));
      }
      it = replayed_.emplace(rkey, std::make_pair(ph->second, std::move(*sp))).first;
    }
    const ShapePlan& sp = it->second.second;
    const json doc = {{"key", rkey},
                      {"compressor", cfg.label},
                      {"shape", shape.id},
                      {"ratio", shape.ratio},
                      {"sample", s},
                      {"gradients", src.description()},
                      {"kernel_timing", in_.timing_source},
                      {"backend", in_.backend->name()},
                      {"kernel_s", sp.kernel_s},
                      {"relative_error", sp.relative_error ? json(*sp.relative_error) : json(nullptr)},
                      {"retained_energy", sp.retained_energy ? json(*sp.retained_energy) : json(nullptr)},
                      {"plan", plan::to_json(sp.plan)}};
    const std::string text = doc.dump(1) + "\n";
    if (!fs::exists(file) || io::read_file(file) != text) io::write_file_atomic(file, text);
    return it->second;
  }

  const ExperimentSpec& spec_;
  const SweepInputs& in_;
  const PlanCacheOptions& o_;
  PlanSet set_;
  std::map<std::string, std::size_t> plan_by_hash_;
  std::map<std::string, std::pair<std::size_t, ShapePlan>> replayed_;  // replay key -> plan, quality
  std::map<std::string, std::unique_ptr<GradientSource>> sources_;
  std::chrono::steady_clock::time_point t0_;
  std::size_t total_ = 0, index_ = 0;  // plans to make, and the one being made (1-based)
};

}  // namespace

PlanSet build_plan_cache(const ExperimentSpec& spec, const SweepInputs& in, const PlanCacheOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  PlanSet set = Builder(spec, in, options).run();
  if (options.progress) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "[sweep] replay: %zu shape(s) replayed, %zu reused from %s, %.1f s", set.replayed,
                  set.reused, options.dir.c_str(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    options.progress->update(buf, true);
  }
  return set;
}

}  // namespace arcsim::experiments
