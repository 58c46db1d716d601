#include "spec.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <filesystem>
#include <map>
#include <set>

#include "common/format.hpp"
#include "common/json_fields.hpp"
#include "common/units.hpp"
#include "experiments/reference_hooks.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"
#include "sim/algorithms.hpp"
#include "sim/profile.hpp"
#include "topologies/limits.hpp"
#include "topologies/topology.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;
using arcsim::json::Fields;
using nlohmann::json;

const std::vector<std::string>& known_compressors() {
  static const std::vector<std::string> names = kernels::compressor_names();
  return names;
}

namespace {

const std::vector<std::string> kCollectives = {"plan", "blocking", "async"};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Same one-line shape as Fields::fail, for list elements ("bandwidths[2]").
[[noreturn]] void fail_at(const std::string& file, const std::string& field, const std::string& expected,
                          const json& got) {
  throw ConfigError(file + ": " + field + ": expected " + expected + ", got " + arcsim::json::brief(got));
}

// A key that takes one value or a list of them: returns the elements with their field names.
std::vector<std::pair<std::string, const json*>> list_of(Fields& f, const std::string& key, bool required,
                                                         const json& fallback) {
  const json* v = required ? &f.required(key) : f.optional(key);
  if (!v) v = &fallback;
  std::vector<std::pair<std::string, const json*>> out;
  if (v->is_array()) {
    if (v->empty()) f.fail(key, "a non-empty list");
    for (std::size_t i = 0; i < v->size(); ++i)
      out.emplace_back(f.field(key) + "[" + std::to_string(i) + "]", &(*v)[i]);
  } else {
    out.emplace_back(f.field(key), v);
  }
  return out;
}

// Defaults of the list keys. They must outlive the loops over list_of's result (a temporary in a
// range-for initialiser dies before the body runs).
const json kDefaultTopology = "star";
const json kDefaultProfile = sim::kDefaultProfile;

std::string resolve(const std::string& spec_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(spec_dir) / p;
  return p.lexically_normal().string();
}

}  // namespace

std::vector<std::string> compressor_options(const std::string& name) {
  const auto& e = kernels::compressor_entry(name);
  std::vector<std::string> o = e.options;
  for (const auto& x : e.own_options) o.push_back(x.name);
  return o;
}

namespace {

// The spec's keys of the options that existed before the registry: written to results as always.
const std::set<std::string> kClassicKeys = {"ratio", "ef", "warmup", "ramp", "rescale", "rank",
                                            "shape_rule", "sketch_allreduce", "row_scores"};

CompressorConfig parse_compressor(const json& j, const std::string& file, const std::string& field,
                                  const std::string& spec_dir) {
  const json obj = j.is_string() ? json{{"name", j}} : j;
  Fields f(obj, file, field);
  CompressorConfig c;
  c.name = f.string("name");
  const auto& names = known_compressors();
  if (std::find(names.begin(), names.end(), c.name) == names.end())
    f.fail("name", "one of " + join(names, "|"));
  const kernels::CompressorEntry& entry = kernels::compressor_entry(c.name);

  // The options come from the registry; anything the compressor does not take is refused by name.
  const std::set<std::string> own = {"name", "label", "convergence", "implementation", "hook", "hook_config"};
  std::vector<std::string> allowed(own.begin(), own.end());
  for (const auto& o : compressor_options(c.name)) allowed.push_back(o);
  json given = json::object();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (own.count(it.key())) continue;
    const kernels::OptionSpec* o = kernels::find_option(it.key());
    if (!o || !entry.takes(o->name)) f.fail(it.key(), "an option of " + c.name + " (" + join(allowed, ", ") + ")");
    f.optional(it.key());  // read: checked below
    given[o->name] = it.value();
  }
  c.label = f.string_or("label", "");
  if (f.has("label") && c.label.empty()) f.fail("label", "a non-empty string");
  c.convergence = f.string_or("convergence", "");
  c.implementation = f.choice("implementation", {"fused", "hook"}, "fused");
  if (c.implementation == "hook") {
    c.hook = f.string_or("hook", reference_hook(c.name));
    if (c.hook.empty())
      f.fail("hook", "the comm hook to record (FILE.py:FUNCTION, MODULE:FUNCTION or torch:NAME): no hook of " + c.name +
                         " is shipped (arcsim/reference_hooks.py has dense, topk, randk, arctopk)");
    if (const auto colon = c.hook.rfind(':'); colon != std::string::npos && c.hook.substr(0, colon).size() > 3 &&
                                              c.hook.substr(colon - 3, 3) == ".py")
      c.hook = resolve(spec_dir, c.hook.substr(0, colon)) + c.hook.substr(colon);
    if (const json* h = f.optional("hook_config")) {
      if (!h->is_object()) f.fail("hook_config", "an object of the hook's make_state keyword arguments");
      c.hook_config = *h;
    }
  } else {
    for (const char* k : {"hook", "hook_config"})
      if (f.has(k)) f.fail(k, "implementation \"hook\" (it names the hook that implementation runs)");
  }
  try {
    c.options = kernels::build_config(c.name, given);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(file + ": " + field + "." + e.what());
  }
  const kernels::CompressorConfig& k = c.options;
  if (c.name != "dense") {
    c.ratio = k.ratio;
    c.ef = k.ef;
    c.warmup = k.warmup;
  }
  c.ramp = k.ramp;
  c.rescale = k.unbiased;
  c.rank = k.rank;
  c.shape_rule = k.shape_rule;
  c.sketch_allreduce = k.sketch_allreduce;
  c.row_scores = k.row_scores;
  // Other options appear in results when given or when they differ from their default.
  for (const auto& name : compressor_options(c.name)) {
    if (kClassicKeys.count(name)) continue;
    const json v = kernels::get_option(k, name);
    if (given.contains(name) || v != kernels::find_option(name)->default_value) c.extra[name] = v;
  }
  f.finish();
  return c;
}

constexpr std::size_t kMaxLabelFileBytes = 200;

// Labels must tell the configurations apart in every file and figure.
void assign_labels(std::vector<CompressorConfig>& cs, const std::string& file) {
  std::map<std::string, int> per_name;
  for (const auto& c : cs) per_name[c.name]++;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    auto& c = cs[i];
    // Told apart by what k counts: the ratio, or the rank for a method whose k is a rank
    // (PowerSGD's ratio is unused and never names it).
    const bool by_rank = c.name != "dense" && kernels::compressor_entry(c.name).k_unit == "rank";
    if (c.label.empty())
      c.label = per_name[c.name] == 1 || c.name == "dense"
                    ? c.name
                    : c.name + "-" + (by_rank ? "r" + std::to_string(c.options.rank) : io::format_number(c.ratio));
    // The label names the replayed plans' files (<label>--<shape>[--s<k>].json and their
    // temporaries): kept well under the 255-byte file-name limit of common file systems.
    if (io::safe_name(c.label).size() > kMaxLabelFileBytes)
      throw ConfigError(file + ": compressors[" + std::to_string(i) + "].label: expected a label of at most " +
                        std::to_string(kMaxLabelFileBytes) + " bytes as a file name (characters outside " +
                        "[A-Za-z0-9._-] count 3), got " + std::to_string(io::safe_name(c.label).size()));
    if (!seen.insert(c.label).second)
      throw ConfigError(file + ": compressors[" + std::to_string(i) + "].label: expected a label unique in " +
                        "the experiment (give each configuration a \"label\"), got \"" + c.label + "\"");
  }
}

TopologyChoice parse_topology(const json& v, const std::string& file, const std::string& field,
                              const std::string& spec_dir, std::size_t i) {
  TopologyChoice t;
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty()) fail_at(file, field, "a topology preset name, a .json path or an object", v);
    if (s.size() > 5 && s.substr(s.size() - 5) == ".json") {
      const std::string path = resolve(spec_dir, s);
      if (!fs::exists(path)) fail_at(file, field, "an existing topology file", v);
      t.name = fs::path(s).stem().string();
      t.spec = path;
    } else {
      t.name = s;
      t.spec = s;
    }
  } else if (v.is_object()) {
    if (v.contains("name") && v["name"].is_string()) t.name = v["name"].get<std::string>();
    else if (v.contains("type") && v["type"].is_string()) t.name = v["type"].get<std::string>();
    else t.name = "topology" + std::to_string(i);
    t.spec = v;
  } else {
    fail_at(file, field, "a topology preset name, a .json path or an object", v);
  }
  return t;
}

// Quantities converted from different units ("5us" and "5000ns") may differ in the last bit.
template <class T>
bool same(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) return std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b));
  else return a == b;
}

template <class T>
void refuse_duplicates(const std::vector<T>& v, const std::string& file, const std::string& key) {
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (same(v[i], v[k]))
        throw ConfigError(file + ": " + key + "[" + std::to_string(i) + "]: expected no repeated value (equal to " +
                          key + "[" + std::to_string(k) + "], whatever the unit)");
}

}  // namespace

std::int64_t CompressorConfig::effective_ramp_steps() const { return kernels::ramp_steps(options); }

json CompressorConfig::to_json() const {
  json j = {{"label", label}, {"name", name}};
  if (!convergence.empty()) j["convergence"] = convergence;
  if (implementation != "fused") {
    j["implementation"] = implementation;
    j["hook"] = hook;
    if (!hook_config.is_null()) j["hook_config"] = hook_config;
  }
  if (name == "dense") return j;
  j["ratio"] = ratio;
  j["ef"] = ef;
  j["warmup"] = warmup;
  if (name == "topk" || name == "randk") {
    j["ramp"] = ramp;
    if (ramp) j["ramp_steps"] = effective_ramp_steps();
  }
  if (name == "randk") j["rescale"] = rescale;
  if (name == "arctopk") {
    j["rank"] = rank;
    j["shape_rule"] = shape_rule;
    j["sketch_allreduce"] = sketch_allreduce;
    j["row_scores"] = row_scores;
  }
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

json ExperimentSpec::to_json() const {
  json j;
  j["name"] = name;
  j["description"] = description;
  j["trace"] = trace;
  j["compressors"] = json::array();
  for (const auto& c : compressors) j["compressors"].push_back(c.to_json());
  j["nodes"] = nodes;
  j["bandwidths_Bps"] = bandwidths_Bps;
  j["latencies_s"] = latencies_s;
  j["topologies"] = json::array();
  for (const auto& t : topologies) j["topologies"].push_back({{"name", t.name}, {"spec", t.spec}});
  j["profiles"] = profiles;
  j["algorithm"] = algorithm;
  if (nccl_channels > 0) j["nccl"] = {{"channels", nccl_channels}};
  j["bucket_cap_bytes"] = bucket_cap_bytes;
  j["first_bucket_cap_bytes"] = first_bucket_cap_bytes;
  j["collectives"] = collectives;
  j["kernel_timing"] = kernel_timing;
  j["compute"] = compute.to_json();
  j["target"] = target ? json{{"metric", target->metric}, {"value", target->value}, {"mode", target->maximize() ? "max" : "min"}}
                       : json(nullptr);
  j["point_timeout_s"] = point_timeout_s;
  j["seed"] = seed;
  j["replay"] = {{"workers", replay.workers}, {"samples", replay.samples}, {"ramp_shapes", replay.ramp_shapes}};
  return j;
}

ExperimentSpec parse_spec(const json& j, const std::string& file) {
  Fields f(j, file, "");
  ExperimentSpec s;
  s.file = file;
  const std::string spec_dir = fs::path(file).parent_path().string();

  s.name = f.string_or("name", fs::path(file).stem().string());
  s.description = f.string_or("description", "");
  const std::string trace = f.string("trace");
  if (trace.empty()) f.fail("trace", "a trace directory");
  s.trace = resolve(spec_dir, trace);

  const json& cs = f.required("compressors");
  if (!cs.is_array() || cs.empty()) f.fail("compressors", "a non-empty list of compressor objects");
  for (std::size_t i = 0; i < cs.size(); ++i)
    s.compressors.push_back(parse_compressor(cs[i], file, "compressors[" + std::to_string(i) + "]", spec_dir));
  assign_labels(s.compressors, file);

  for (const auto& [field, v] : list_of(f, "nodes", true, nullptr)) {
    if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > 65536)
      fail_at(file, field, "a node count, an integer in [1, 65536] (1: one host, whose topology's node has several GPUs)", *v);
    s.nodes.push_back(v->get<int>());
  }
  const bool own_bandwidth = !f.has("bandwidths"), own_latency = !f.has("latencies");
  f.optional("bandwidths");
  f.optional("latencies");
  if (!own_bandwidth)
  for (const auto& [field, v] : list_of(f, "bandwidths", true, nullptr)) {
    if (!v->is_string()) fail_at(file, field, "a bandwidth string with a unit such as \"100Gbps\"", *v);
    try {
      s.bandwidths_Bps.push_back(units::parse_bandwidth_Bps(v->get<std::string>()));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file + ": " + field + ": " + e.what());
    }
  }
  if (!own_latency)
  for (const auto& [field, v] : list_of(f, "latencies", true, nullptr)) {
    if (!v->is_string()) fail_at(file, field, "a latency string with a unit such as \"5us\"", *v);
    try {
      s.latencies_s.push_back(units::parse_latency_s(v->get<std::string>()));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file + ": " + field + ": " + e.what());
    }
  }
  std::size_t ti = 0;
  for (const auto& [field, v] : list_of(f, "topologies", false, kDefaultTopology))
    s.topologies.push_back(parse_topology(*v, file, field, spec_dir, ti++));
  for (std::size_t i = 0; i < s.topologies.size(); ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (s.topologies[i].name == s.topologies[k].name)
        throw ConfigError(file + ": topologies[" + std::to_string(i) +
                          "]: expected a topology name unique in the experiment (set \"name\"), got \"" +
                          s.topologies[i].name + "\"");
  // No "bandwidths" / "latencies": the topologies' own values (a preset's 200Gbps is not replaced
  // by a default of the spec's), one list for the product, so they must agree.
  if (own_bandwidth || own_latency) {
    std::vector<topo::TopologySpec> own;
    for (std::size_t i = 0; i < s.topologies.size(); ++i) {
      const json& t = s.topologies[i].spec;
      try {
        own.push_back(t.is_object() ? topo::parse_topology(t, file) : topo::load_topology(t.get<std::string>()));
      } catch (const std::exception& e) {
        throw ConfigError(file + ": topologies[" + std::to_string(i) + "]: " + e.what());
      }
    }
    auto agree = [&](const char* key, auto value, auto format) {
      std::string list;
      bool same = true;
      for (std::size_t i = 0; i < own.size(); ++i) {
        list += (i ? ", " : "") + s.topologies[i].name + " " + format(value(own[i]));
        same = same && value(own[i]) == value(own[0]);
      }
      if (!same)
        throw ConfigError(file + ": " + key + ": expected a list (the topologies' own values differ: " + list + ")");
      return value(own[0]);
    };
    if (own_bandwidth)
      s.bandwidths_Bps = {agree("bandwidths", [](const topo::TopologySpec& t) { return t.bandwidth_Bps; },
                                units::format_bandwidth)};
    if (own_latency)
      s.latencies_s = {agree("latencies", [](const topo::TopologySpec& t) { return t.latency_s; }, units::format_time)};
  }
  for (const auto& [field, v] : list_of(f, "profiles", false, kDefaultProfile)) {
    if (!v->is_string() || !vocab::find(sim::profiles(), v->get<std::string>()))
      fail_at(file, field, "a network profile, one of " + vocab::names(sim::profiles()), *v);
    s.profiles.push_back(v->get<std::string>());
  }
  refuse_duplicates(s.nodes, file, "nodes");
  refuse_duplicates(s.bandwidths_Bps, file, "bandwidths");
  refuse_duplicates(s.latencies_s, file, "latencies");
  refuse_duplicates(s.profiles, file, "profiles");

  s.algorithm = f.choice("algorithm", sim::algorithm_names(), "auto");
  if (const auto* n = f.optional("nccl")) {
    arcsim::json::Fields g(*n, file, "nccl");
    const std::int64_t c = g.integer("channels");
    if (c < 1 || c > topo::kMaxNcclChannels)
      g.fail("channels", "NCCL's channel count, an integer in 1.." + std::to_string(topo::kMaxNcclChannels));
    s.nccl_channels = static_cast<int>(c);
    if (std::find(s.profiles.begin(), s.profiles.end(), "nccl") == s.profiles.end())
      g.fail("channels", "a spec whose profiles include nccl (NCCL's channels mean nothing to the others)");
    g.finish();
  }
  s.bucket_cap_bytes = f.size_or("bucket_cap", s.bucket_cap_bytes);
  s.first_bucket_cap_bytes = f.size_or("first_bucket_cap", s.first_bucket_cap_bytes);
  if (s.bucket_cap_bytes <= 0) f.fail("bucket_cap", "a positive size such as \"25MiB\"");
  if (s.first_bucket_cap_bytes <= 0) f.fail("first_bucket_cap", "a positive size such as \"1MiB\"");
  s.collectives = f.choice("collectives", kCollectives, "plan");

  s.backend = f.choice("backend", {"auto", "cpu", "cuda", "reference"}, s.backend);
  s.kernel_timing = f.string_or("kernel_timing", s.kernel_timing);
  if (s.kernel_timing == "measured-cpu") {
  } else if (s.kernel_timing.rfind("calibration:", 0) == 0 && s.kernel_timing.size() > 12) {
    const std::string path = resolve(spec_dir, s.kernel_timing.substr(12));
    if (!fs::exists(path)) f.fail("kernel_timing", "an existing calibration file after \"calibration:\"");
    s.kernel_timing = "calibration:" + path;
  } else if (s.kernel_timing.rfind("model:", 0) == 0 && s.kernel_timing.size() > 6) {
  } else {
    f.fail("kernel_timing", "measured-cpu, calibration:FILE or model:GPU (e.g. model:H100-SXM)");
  }

  if (const json* c = f.optional("compute")) s.compute = parse_compute_settings(*c, file, "compute", spec_dir);

  if (const json* t = f.optional("target")) {
    Fields tf(*t, file, "target");
    Target target;
    target.metric = tf.string_or("metric", "accuracy");
    if (target.metric.empty()) tf.fail("metric", "a metric name (accuracy, loss, perplexity, ...)");
    target.value = tf.number("value");
    const bool known = target.metric == "accuracy" || target.metric == "loss" || target.metric == "perplexity";
    if (!known && !tf.has("mode"))
      tf.fail("mode", "\"max\" or \"min\" (which direction reaches the target) for metric \"" + target.metric + "\"");
    target.mode = tf.choice("mode", {"max", "min"}, target.metric == "accuracy" ? "max" : "min");
    if (target.metric == "accuracy" && !(target.value > 0 && target.value <= 1))
      tf.fail("value", "an accuracy fraction in (0, 1]");
    if (target.metric == "loss" && !(target.value > 0)) tf.fail("value", "a loss > 0");
    tf.finish();
    s.target = target;
  }
  s.point_timeout_s = f.time_or("point_timeout", s.point_timeout_s);
  if (s.point_timeout_s <= 0) f.fail("point_timeout", "a positive time such as \"300s\"");
  const std::int64_t seed = f.integer_or("seed", 1);
  if (seed < 0) f.fail("seed", "an integer >= 0");
  s.seed = static_cast<std::uint64_t>(seed);

  if (const json* r = f.optional("replay")) {
    Fields rf(*r, file, "replay");
    // Each range is checked on the 64-bit value before it is narrowed (2^32 + 4 must not become 4).
    auto in_range = [&](const char* key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
      const std::int64_t v = rf.integer_or(key, fallback);
      if (v < lo || v > hi) rf.fail(key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return static_cast<int>(v);
    };
    s.replay.workers = in_range("workers", s.replay.workers, 2, 256);
    s.replay.samples = in_range("samples", s.replay.samples, 1, 64);
    s.replay.ramp_shapes = in_range("ramp_shapes", s.replay.ramp_shapes, 1, 64);
    rf.finish();
  }
  f.finish();
  return s;
}

ExperimentSpec parse_spec_file(const std::string& path) { return parse_spec(arcsim::json::load_file(path), path); }

std::vector<Point> expand_points(const ExperimentSpec& s) {
  std::vector<Point> out;
  for (std::size_t t = 0; t < s.topologies.size(); ++t)
    for (const auto& profile : s.profiles)
      for (double lat : s.latencies_s)
        for (double bw : s.bandwidths_Bps)
          for (int n : s.nodes)
            for (std::size_t c = 0; c < s.compressors.size(); ++c) {
              Point p;
              p.index = out.size();
              p.compressor = c;
              p.net = NetworkPoint{n, bw, lat, t, profile};
              out.push_back(p);
            }
  return out;
}

}  // namespace arcsim::experiments
