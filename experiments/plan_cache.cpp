#include "plan_cache.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "arcsim/version.hpp"
#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "experiments/convergence.hpp"
#include "experiments/hook_plans.hpp"
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
    gather_plans();
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
    const GradientSource* src = &source_of(cfg);
    set_.gradient_notes.insert(src->description());

    std::vector<double> err, kept;
    for (const Shape& shape : cp.schedule.shapes) {
      const int samples = samples_of(shape, *src);
      std::vector<std::size_t> ids;
      for (int s = 0; s < samples; ++s) {
        const auto& [id, sp] = plan_for(cfg, shape, s, *src, plan_file(cfg, shape, s, samples));
        ids.push_back(id);
        if (shape.kind == "steady") {
          if (sp.relative_error) err.push_back(*sp.relative_error);
          if (sp.retained_energy) kept.push_back(*sp.retained_energy);
        }
      }
      // A hook implementation costs its recorded step; the fused replay still gives the quality.
      if (cfg.implementation == "hook" && shape.kind != "warmup") ids.assign(ids.size(), hook_plan_for(cfg, shape));
      cp.shape_plans.push_back(ids);
      std::vector<PlanTraffic> traffic;
      for (std::size_t id : ids) traffic.push_back(set_.plans[id].traffic);
      if (!traffic.empty()) cp.elements = traffic.front().elements;
      cp.shape_traffic.push_back(std::move(traffic));
    }
    cp.relative_error = mean(err);
    cp.retained_energy = mean(kept);
  }

  // The gradients a configuration replays: its own run's samples when the trace has a matching
  // log, else the dense run's, else any (GradientSource).
  const GradientSource& source_of(const CompressorConfig& cfg) {
    const auto logs = matching_logs(in_.trace, cfg);
    const std::string prefer = logs.empty() ? "dense" : logs.front()->config;
    auto& src = sources_[prefer];
    if (!src) src = std::make_unique<GradientSource>(in_.trace, in_.buckets, spec_.replay.workers, prefer);
    return *src;
  }

  int samples_of(const Shape& shape, const GradientSource& src) const {
    return shape.kind == "steady" ? std::min(spec_.replay.samples, src.steps_available()) : 1;
  }

  std::string plan_file(const CompressorConfig& cfg, const Shape& shape, int s, int samples) const {
    return o_.dir + "/" + io::safe_name(cfg.label) + "--" + shape.id + (samples > 1 ? "--s" + std::to_string(s) : "") +
           ".json";
  }

  // What a replayed plan depends on, hashed: its file is reused only when every part matches.
  std::string replay_key(const kernels::CompressorConfig& kc, int s, const GradientSource& src) const {
    const json key_doc = {{"trace", in_.trace_checksum},  {"compressor", kc.to_json()},     {"sample", s},
                          {"gradients", src.description()}, {"bucket_cap", spec_.bucket_cap_bytes},
                          {"first_bucket_cap", spec_.first_bucket_cap_bytes}, {"timing", in_.timing_source},
                          {"commit", kGitCommit}, {"backend", in_.backend->name()}};
    return fnv_hex(key_doc.dump());
  }

  // Every (configuration, shape, sample)'s plan, read once from the cache or, when it is missing
  // (and replaying is allowed), replayed in groups that share a gradient source and sample:
  // replay_shapes makes each bucket's gradients once per group, so the shapes of a ramp and the
  // compressors of a spec do not regenerate them each.
  void gather_plans() {
    struct Wanted {
      std::string key, label, shape;
      kernels::CompressorConfig config;
    };
    struct Group {
      const GradientSource* src;
      int sample;
      std::vector<Wanted> wanted;
    };
    std::vector<Group> groups;
    std::set<std::string> keys;
    std::size_t todo = 0;
    for (const CompressorConfig& cfg : spec_.compressors) {
      const GradientSource& src = source_of(cfg);
      for (const Shape& shape : step_schedule(cfg, spec_.replay.ramp_shapes).shapes) {
        const int samples = samples_of(shape, src);
        for (int s = 0; s < samples; ++s) {
          kernels::CompressorConfig kc = kernel_config(cfg, shape, spec_.seed);
          std::string key = replay_key(kc, s, src);
          if (!keys.insert(key).second) continue;
          const std::string file = plan_file(cfg, shape, s, samples);
          if (std::optional<ShapePlan> cached = read_cached(file, key)) {
            ready_.emplace(std::move(key), Ready{std::move(*cached), false});
            continue;
          }
          if (!o_.replay_missing)
            throw ConfigError(file + ": not prepared for this spec and arcsim build (missing or made from other "
                              "inputs); run arcsim sweep " + spec_.file + " --out DIR --prepare first");
          auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.src == &src && x.sample == s; });
          if (g == groups.end()) g = groups.insert(groups.end(), Group{&src, s, {}});
          g->wanted.push_back({std::move(key), cfg.label, shape.id, std::move(kc)});
          ++todo;
        }
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t done = 0;
    for (const Group& g : groups) {
      std::string what = "[sweep] replay plan" + std::string(g.wanted.size() > 1 ? "s " : " ") + std::to_string(done + 1);
      if (g.wanted.size() > 1) what += "-" + std::to_string(done + g.wanted.size());
      what += "/" + std::to_string(todo);
      constexpr std::size_t kNamed = 3;  // a long group names its first plans and counts the rest
      for (std::size_t i = 0; i < std::min(kNamed, g.wanted.size()); ++i)
        what += (i ? ", " : " ") + g.wanted[i].label + " " + g.wanted[i].shape;
      if (g.wanted.size() > kNamed) what += " and " + std::to_string(g.wanted.size() - kNamed) + " more";
      if (g.wanted.size() > 1 && g.src->steps_available() > 1) what += " (sample " + std::to_string(g.sample) + ")";
      if (o_.progress) o_.progress->update(what, false);
      std::vector<kernels::CompressorConfig> configs;
      for (const Wanted& w : g.wanted) configs.push_back(w.config);
      double shown_s = 0.0;  // a progress line every 2 s at most
      auto progress = [&](const ReplayProgress& p) {
        if (!o_.progress || p.elapsed_s - shown_s < 2.0) return;
        shown_s = p.elapsed_s;
        // The phase's ETA extrapolates its elapsed time over the plans done, the group's by its elements.
        const double frac = p.elements > 0 ? static_cast<double>(p.elements_done) / static_cast<double>(p.elements) : 1.0;
        const double so_far = static_cast<double>(done) + frac * static_cast<double>(g.wanted.size());
        std::string line = what + ": " + p.line();
        if (todo > g.wanted.size() && so_far > 0) {
          const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          char buf[64];
          std::snprintf(buf, sizeof buf, "; all plans ETA %.0f s", elapsed * (static_cast<double>(todo) - so_far) / so_far);
          line += buf;
        }
        o_.progress->update(line, false);
      };
      std::vector<ShapePlan> plans;
      try {
        plans = replay_shapes(*g.src, configs, g.sample, in_.timer ? &*in_.timer : nullptr, *in_.backend, progress);
      } catch (const ReplayFailure& e) {
        const Wanted& w = g.wanted.at(e.index);
        throw std::runtime_error("replay of " + w.label + " (" + w.shape + "): " + e.what());
      }
      for (std::size_t i = 0; i < plans.size(); ++i) ready_.emplace(g.wanted[i].key, Ready{std::move(plans[i]), true});
      done += g.wanted.size();
    }
  }

  // The plan's index in the set (one entry per distinct plan).
  std::size_t add_plan(const sim::Plan& plan, const std::string& file) {
    const std::string hash = fnv_hex(plan::to_json(plan).dump());
    auto ph = plan_by_hash_.find(hash);
    if (ph == plan_by_hash_.end()) {
      PlanEntry pe;
      pe.hash = hash;
      pe.plan = plan;
      pe.ops = count_ops(pe.plan);
      pe.traffic = plan_traffic(pe.plan, file);  // an op the bit counter cannot count stops here, early
      ph = plan_by_hash_.emplace(hash, set_.plans.size()).first;
      set_.plans.push_back(std::move(pe));
    }
    return ph->second;
  }

  // implementation "hook": the comm hook's recorded step at the shape's ratio (hook_plans.hpp).
  std::size_t hook_plan_for(const CompressorConfig& cfg, const Shape& shape) {
    HookRecording r;
    r.hook = cfg.hook;
    r.config = cfg.hook_config;
    if (r.config.is_null()) {  // a shipped hook (arcsim/reference_hooks.py) takes the configuration's options
      if (cfg.ef != "ef14" && cfg.ef != "none")
        throw std::runtime_error(cfg.label + ": implementation hook: the shipped hooks have error feedback ef14 or none, "
                                 "got " + cfg.ef);
      r.config = {{"ratio", cfg.name == "dense" ? 1.0 : shape.ratio}, {"ef", cfg.name == "dense" ? "none" : cfg.ef},
                  {"seed", spec_.seed}};
      if (cfg.name == "arctopk") r.config["rank"] = cfg.rank;
    }
    r.world = spec_.replay.workers;
    r.trace = spec_.trace;
    r.first_bucket_cap = spec_.first_bucket_cap_bytes;
    r.bucket_cap = spec_.bucket_cap_bytes;
    if (o_.progress) o_.progress->update("[sweep] recording " + cfg.label + "'s hook (" + r.hook + ") at ratio " +
                                         io::format_number(shape.ratio), true);
    const sim::Plan plan = hook_plan(r, o_.dir, in_.timer);
    return add_plan(plan, o_.dir + "/" + io::safe_name(cfg.label) + "--" + shape.id + "--hook.json");
  }

  // The plan of one (configuration, shape, sample): from this run, the cache, or a replay. Its
  // file is (re)written when its bytes differ, so every shape has one for users to inspect.
  const std::pair<std::size_t, ShapePlan>& plan_for(const CompressorConfig& cfg, const Shape& shape, int s,
                                                    const GradientSource& src, const std::string& file) {
    const std::string rkey = replay_key(kernel_config(cfg, shape, spec_.seed), s, src);
    auto it = replayed_.find(rkey);
    if (it == replayed_.end()) {
      auto f = ready_.find(rkey);
      if (f == ready_.end()) throw std::logic_error(file + ": plan neither cached nor replayed");  // gather_plans made it
      ShapePlan fresh = std::move(f->second.plan);
      ++(f->second.replayed ? set_.replayed : set_.reused);
      ready_.erase(f);
      const std::size_t id = add_plan(fresh.plan, file);
      it = replayed_.emplace(rkey, std::make_pair(id, std::move(fresh))).first;
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
  struct Ready {
    ShapePlan plan;
    bool replayed;  // made by this run (else read from the cache)
  };
  std::map<std::string, Ready> ready_;  // replay key -> plan from gather_plans, not yet taken by plan_for
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
